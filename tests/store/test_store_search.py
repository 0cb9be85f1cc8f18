"""Contract tests of ``search_runs``: every operator, and/or/not, missing keys, sorting, paging, injection."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest

from mltrail.entities import MetricsBatch, RunStatus, SortKey
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.query_ast import And, Comparison, Exists, Expr, FieldRef, Not, Or, Scalar
from mltrail.store.sql import SqlStore

INJECTION = "'; drop table runs; --"


def cmp(
    namespace: str, key: str, op: str, value: Scalar | tuple[Scalar, ...], agg: str = "last"
) -> Comparison:
    return Comparison(FieldRef(namespace, key, agg), op, value)


@pytest.fixture
def runs(store: SqlStore, project: str) -> dict[str, str]:
    """Four runs: name → id. ``d`` has almost nothing, so every comparison on it is about missing keys."""
    specs: dict[str, dict[str, Any]] = {
        "a": {"params": {"lr": 0.01, "opt": "adam", "layers": 4, "flag": True, "tags_list": [1]},
              "metrics": {"acc": [0.5, 0.9], "loss": [1.0, 0.2]}, "tags": {"team": "vision"},
              "summary": {"best": 0.9, "kind": "cnn"}},
        "b": {"params": {"lr": 0.1, "opt": "sgd", "layers": 2, "flag": False},
              "metrics": {"acc": [0.7, 0.8], "loss": [0.9, 0.5]}, "tags": {"team": "nlp"},
              "summary": {"best": 0.8}},
        "c": {"params": {"lr": 0.5, "opt": "Adam", INJECTION: INJECTION},
              "metrics": {"acc": [0.95, 0.6]}, "tags": {"team": "vision-x", INJECTION: INJECTION},
              "summary": {}},
        "d": {"params": {}, "metrics": {}, "tags": {}, "summary": {}},
    }  # fmt: skip
    ids: dict[str, str] = {}
    for i, (name, spec) in enumerate(specs.items()):
        run_id = f"{i}{uuid.uuid4().hex[1:]}"
        ids[name] = run_id
        store.create_run(
            run_id=run_id, project=project, name=name, user=f"user-{name}", start_time=1000.0 + i,
            params=spec["params"], tags=spec["tags"],
        )  # fmt: skip
        if spec["summary"]:
            store.set_summary(run_id, spec["summary"])
        for key, values in spec["metrics"].items():
            store.log_metrics(
                run_id,
                MetricsBatch([key] * len(values), list(range(len(values))), values, [0.0] * len(values)),
            )
    store.update_run(ids["a"], status=RunStatus.FINISHED, end_time=1100.0)
    store.update_run(ids["b"], status=RunStatus.FAILED, end_time=1010.0)
    return ids


def names(store: SqlStore, project: str, expr: Expr | None, sort: list[SortKey] | None = None) -> list[str]:
    page = store.search_runs(project, filter=expr, sort=sort or [], limit=100)
    assert page.total == len(page.runs)
    return [run.name for run in page.runs]


def matched(store: SqlStore, project: str, expr: Expr) -> set[str]:
    return set(names(store, project, expr))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (cmp("params", "lr", "<", 0.1), {"a"}),
        (cmp("params", "lr", "<=", 0.1), {"a", "b"}),
        (cmp("params", "lr", ">", 0.01), {"b", "c"}),
        (cmp("params", "lr", ">=", 0.5), {"c"}),
        (cmp("params", "lr", "=", 0.01), {"a"}),
        (cmp("params", "lr", "!=", 0.01), {"b", "c"}),
        (cmp("params", "layers", "=", 4), {"a"}),
        (cmp("params", "layers", "in", (2, 3)), {"b"}),
        (cmp("params", "layers", "not_in", (2, 3)), {"a"}),
        (cmp("params", "opt", "=", "adam"), {"a"}),
        (cmp("params", "opt", "!=", "adam"), {"b", "c"}),
        (cmp("params", "opt", "in", ("adam", "sgd")), {"a", "b"}),
        (cmp("params", "opt", "not_in", ("adam",)), {"b", "c"}),
        (cmp("params", "opt", "contains", "dam"), {"a", "c"}),
        (cmp("params", "opt", "contains", "Ada"), {"c"}),
        (cmp("params", "opt", "<", "b"), {"a", "c"}),  # string order: "Adam" < "adam" < "b"
        (cmp("params", "flag", "=", True), {"a"}),
        (cmp("params", "flag", "=", False), {"b"}),
        (cmp("params", "opt", "=", 1), set()),  # a string is never equal to a number
        (cmp("params", "lr", "=", "0.01"), set()),
        (cmp("metrics", "acc", ">=", 0.9), {"a"}),
        (cmp("metrics", "acc", ">=", 0.9, agg="max"), {"a", "c"}),
        (cmp("metrics", "acc", "<", 0.6, agg="min"), {"a"}),
        (cmp("metrics", "loss", "<", 0.3), {"a"}),
        (cmp("metrics", "acc", "in", (0.8, 0.6)), {"b", "c"}),
        (cmp("metrics", "acc", "!=", 0.9), {"b", "c"}),
        (cmp("tags", "team", "=", "vision"), {"a"}),
        (cmp("tags", "team", "contains", "vision"), {"a", "c"}),
        (cmp("tags", "team", "!=", "vision"), {"b", "c"}),
        (cmp("summary", "best", ">", 0.85), {"a"}),
        (cmp("summary", "kind", "=", "cnn"), {"a"}),
        (cmp("attr", "name", "=", "b"), {"b"}),
        (cmp("attr", "name", "in", ("a", "d")), {"a", "d"}),
        (cmp("attr", "status", "=", "finished"), {"a"}),
        (cmp("attr", "status", "!=", "running"), {"a", "b"}),
        (cmp("attr", "user", "contains", "-c"), {"c"}),
        (cmp("attr", "start_time", ">=", 1002), {"c", "d"}),
        (cmp("attr", "end_time", "<", 1050), {"b"}),
        (cmp("attr", "duration", ">", 50), {"a"}),
        (cmp("attr", "duration", "<", 50), {"b"}),
        (cmp("attr", "project", "contains", "proj-"), {"a", "b", "c", "d"}),
        (cmp("attr", "project", "=", "other"), set()),
        (Exists(FieldRef("tags", "team")), {"a", "b", "c"}),
        (Exists(FieldRef("metrics", "loss")), {"a", "b"}),
        (Exists(FieldRef("summary", "best")), {"a", "b"}),
        (Exists(FieldRef("attr", "end_time")), {"a", "b"}),
        (Not(Exists(FieldRef("params", "lr"))), {"d"}),
        # Missing keys: every comparison is false, also !=, and Not() of it is true.
        (cmp("params", "missing", "!=", 1), set()),
        (cmp("metrics", "missing", "!=", 1), set()),
        (Not(cmp("params", "lr", "<", 0.1)), {"b", "c", "d"}),
        (Not(cmp("metrics", "loss", "!=", 0.2)), {"a", "c", "d"}),
        (Not(cmp("attr", "end_time", "<", 1050)), {"a", "c", "d"}),
        (And((cmp("params", "lr", "<", 0.2), cmp("metrics", "acc", ">=", 0.8))), {"a", "b"}),
        (Or((cmp("params", "opt", "=", "sgd"), cmp("tags", "team", "=", "vision"))), {"a", "b"}),
        (
            And(
                (
                    Or((cmp("attr", "name", "=", "a"), cmp("attr", "name", "=", "c"))),
                    Not(cmp("params", "lr", ">", 0.4)),
                )
            ),
            {"a"},
        ),
        (And(()), {"a", "b", "c", "d"}),
        (Or(()), set()),
        # SQL metacharacters are data, in keys and in values.
        (cmp("params", INJECTION, "=", INJECTION), {"c"}),
        (cmp("tags", INJECTION, "contains", "drop table"), {"c"}),
        (cmp("params", "opt", "=", INJECTION), set()),
        (cmp("attr", "name", "=", "%"), set()),
        (cmp("params", "opt", "contains", "%"), set()),
    ],
)  # fmt: skip
def test_filter(store: SqlStore, project: str, runs: dict[str, str], expr: Expr, expected: set[str]) -> None:
    assert matched(store, project, expr) == expected
    assert store.find_run_ids(runs["a"]) == [runs["a"]]  # the runs table is still there


def test_filter_null_and_list_values(store: SqlStore, project: str) -> None:
    run_id = uuid.uuid4().hex
    store.create_run(run_id=run_id, project=project, name="n", user=None, start_time=1.0, params={"x": None})
    other = uuid.uuid4().hex
    store.create_run(run_id=other, project=project, name="o", user=None, start_time=2.0, params={"x": [1, 2]})
    assert matched(store, project, cmp("params", "x", "=", None)) == {"n"}
    assert matched(store, project, cmp("params", "x", "!=", None)) == {"o"}
    assert matched(store, project, cmp("params", "x", "=", 1)) == set()


@pytest.mark.parametrize(
    "expr",
    [
        cmp("metrics", "acc", ">", "high"),
        cmp("params", "lr", "contains", 1),
        cmp("params", "lr", "<", None),
        cmp("params", "lr", "=", (1, 2)),
        cmp("params", "lr", "~", 1),
        cmp("nope", "lr", "=", 1),
        cmp("attr", "color", "=", 1),
        cmp("params", "lr", "<", 1, agg="max"),
        cmp("metrics", "acc", "<", 1, agg="median"),
        cmp("attr", "duration", "=", "long"),
    ],
)
def test_malformed_filters_are_invalid_input(
    store: SqlStore, project: str, runs: dict[str, str], expr: Expr
) -> None:
    with pytest.raises(InvalidInputError):
        store.search_runs(project, filter=expr)


def test_sort(store: SqlStore, project: str, runs: dict[str, str]) -> None:
    def order(*keys: SortKey) -> list[str]:
        return names(store, project, None, list(keys))

    assert order() == ["d", "c", "b", "a"]  # newest first
    assert order(SortKey("params.lr")) == ["a", "b", "c", "d"]
    assert order(SortKey("params.lr", descending=True)) == ["c", "b", "a", "d"]
    assert order(SortKey("metrics.acc", descending=True)) == ["a", "b", "c", "d"]
    assert order(SortKey("metrics.acc")) == ["c", "b", "a", "d"]
    assert order(SortKey("metrics.acc", agg="max", descending=True)) == ["c", "a", "b", "d"]
    assert order(SortKey("metrics.acc", agg="min")) == ["a", "c", "b", "d"]
    assert order(SortKey("metrics.loss")) == ["a", "b", "d", "c"]  # missing last, then newest first
    assert order(SortKey("params.opt")) == ["c", "a", "b", "d"]  # "Adam" < "adam" < "sgd"
    assert order(SortKey("tags.team", descending=True)) == ["c", "a", "b", "d"]
    assert order(SortKey("summary.best")) == ["b", "a", "d", "c"]
    assert order(SortKey("name", descending=True)) == ["d", "c", "b", "a"]
    assert order(SortKey("end_time")) == ["b", "a", "d", "c"]
    assert order(SortKey("duration", descending=True)) == ["a", "b", "d", "c"]
    assert order(SortKey("tags.team"), SortKey("params.lr", descending=True)) == ["b", "a", "c", "d"]
    assert order(SortKey(f"params.{INJECTION}")) == ["c", "d", "b", "a"]
    with pytest.raises(InvalidInputError):
        order(SortKey("color"))
    with pytest.raises(InvalidInputError):
        order(SortKey("metrics.acc", agg="median"))


def test_sort_mixed_types_numbers_then_strings(store: SqlStore, project: str) -> None:
    for i, value in enumerate([2, "b", 1.5, None, "a"]):
        store.create_run(
            run_id=uuid.uuid4().hex,
            project=project,
            name=f"r{i}",
            user=None,
            start_time=float(i),
            params={"v": value},
        )
    assert names(store, project, None, [SortKey("params.v")]) == ["r2", "r0", "r4", "r1", "r3"]


def test_paging_and_total(store: SqlStore, project: str) -> None:
    for i in range(25):
        store.create_run(
            run_id=uuid.uuid4().hex, project=project, name=f"r{i:02d}", user=None, start_time=float(i),
            params={"i": i},
        )  # fmt: skip
    expr = cmp("params", "i", ">=", 5)
    sort = [SortKey("params.i")]
    seen: list[str] = []
    for offset in range(0, 30, 7):
        page = store.search_runs(project, filter=expr, sort=sort, offset=offset, limit=7)
        assert page.total == 20
        assert (page.offset, page.limit) == (offset, 7)
        seen.extend(run.name for run in page.runs)
    assert seen == [f"r{i:02d}" for i in range(5, 25)]


def test_page_runs_are_complete(store: SqlStore, project: str, runs: dict[str, str]) -> None:
    page = store.search_runs(project, filter=cmp("attr", "name", "=", "a"))
    (run,) = page.runs
    full = store.get_run(runs["a"])
    assert run.params == full.params
    assert run.tags == full.tags
    assert run.summary == full.summary
    assert run.metrics == full.metrics
    assert run.metrics["acc"].last == 0.9
    assert not math.isnan(run.metrics["acc"].last)


def test_search_missing_project(store: SqlStore, project: str) -> None:
    with pytest.raises(NotFoundError):
        store.search_runs(project)


def test_other_projects_are_not_seen(store: SqlStore, project: str, runs: dict[str, str]) -> None:
    store.create_run(run_id=uuid.uuid4().hex, project=project + "-2", name="a", user=None, start_time=1.0)
    assert store.search_runs(project).total == 4
    assert store.search_runs(project + "-2").total == 1


def test_nan_in_filters(store: SqlStore, project: str) -> None:
    """`= nan` finds NaN, `!= nan` finds numbers, other comparisons with NaN are false (docs/FILTERS.md)."""
    nan = math.nan
    for i, (name, last, param) in enumerate([("n", nan, nan), ("r", 1.0, 2.0), ("m", None, None)]):
        run_id = f"{i}{uuid.uuid4().hex[1:]}"
        params = {} if param is None else {"p": param}
        store.create_run(
            run_id=run_id, project=project, name=name, user=None, start_time=1.0 + i, params=params
        )
        if last is not None:
            store.log_metrics(run_id, MetricsBatch(["x", "x"], [0, 1], [5.0, last], [0.0, 0.0]))
    assert names(store, project, cmp("metrics", "x", "=", nan)) == ["n"]
    assert names(store, project, cmp("metrics", "x", "!=", nan)) == ["r"]
    assert names(store, project, cmp("metrics", "x", "<", nan)) == []
    assert sorted(names(store, project, cmp("metrics", "x", "in", (nan, 1.0)))) == ["n", "r"]
    assert names(store, project, cmp("metrics", "x", "not_in", (nan,))) == ["r"]
    assert sorted(names(store, project, cmp("metrics", "x", "=", 5.0, agg="max"))) == ["n", "r"]
    assert sorted(names(store, project, cmp("metrics", "x", "=", 5.0, agg="min"))) == ["n"]
    assert names(store, project, cmp("params", "p", "=", nan)) == ["n"]
    assert names(store, project, cmp("params", "p", "!=", nan)) == ["r"]
    assert names(store, project, cmp("params", "p", "in", (nan,))) == ["n"]
    assert sorted(names(store, project, Not(cmp("metrics", "x", "=", nan)))) == ["m", "r"]


def test_a_long_filter_gives_the_same_runs(store: SqlStore, project: str) -> None:
    # Past COLLAPSE_ABOVE terms PostgreSQL plans the semi-joins in the order written (planning 100 'and'
    # terms freely took 42 s over 500 runs): the answer must not change.
    for i in range(6):
        store.create_run(
            run_id=uuid.uuid4().hex,
            project=project,
            name=f"long-{i}",
            user="u",
            start_time=float(i),
            params={f"k{j}": i + j for j in range(12)},
        )
    terms: list[Expr] = [cmp("params", f"k{j}", ">=", 2 + j) for j in range(12)]
    terms += [Exists(FieldRef("params", f"k{j}")) for j in range(12)]
    page = store.search_runs(project, And(tuple(terms)))
    assert sorted(r.name for r in page.runs) == ["long-2", "long-3", "long-4", "long-5"]
    none_match = [cmp("params", f"k{j}", "=", 100 + j) for j in range(12)]
    either = Or((*none_match, cmp("params", "k0", "=", 0)))
    assert [r.name for r in store.search_runs(project, either).runs] == ["long-0"]


def test_a_sort_by_one_metric_pages_like_the_general_sort(store: SqlStore, project: str) -> None:
    """The index walk of ``metric_sort`` (one metric, no filter) gives the pages the general sort gives:
    ties by newest start, NaN and missing values last, other projects' runs with the key never seen."""
    import random

    rng = random.Random(14)
    for i in range(60):
        run_id = uuid.uuid4().hex
        store.create_run(
            run_id=run_id, project=project, name=f"r{i:02d}", user=None, start_time=float(i % 17)
        )
        roll = rng.random()
        if roll < 0.15:
            continue  # never logged m
        value = math.nan if roll < 0.3 else float(rng.choice([0.1, 0.2, 0.3, rng.random()]))
        store.log_metrics(run_id, MetricsBatch(["m", "m"], [0, 1], [rng.random(), value], [0.0, 0.0]))
    store.create_run(
        run_id=uuid.uuid4().hex, project=project + "-x", name="other", user=None, start_time=99.0
    )
    for descending in (True, False):
        fast = [SortKey("metrics.m", descending=descending)]
        general = [*fast, SortKey("start_time", descending=True)]  # the same order, by the outer join
        want = names(store, project, None, general)
        assert names(store, project, None, fast) == want and len(want) == 60
        for offset, limit in ((0, 7), (7, 7), (40, 9), (45, 30), (59, 5), (60, 5), (100, 5)):
            page = store.search_runs(project, sort=fast, offset=offset, limit=limit)
            assert [r.name for r in page.runs] == want[offset : offset + limit]
            assert page.total == 60


def test_git_commit_and_branch_filter_and_sort(store: SqlStore, project: str) -> None:
    contexts: dict[str, dict[str, Any]] = {
        "a": {"git": {"commit": "bbb222", "branch": "main", "dirty": False}},
        "b": {"git": {"commit": "aaa111", "branch": "exp/x", "dirty": True}},
        "c": {"git": {"note": "not a git repository"}},
        "d": {"git": {"commit": 12345}},  # not text: treated as no commit, as the runs list shows it
        "e": {},
    }
    for i, (name, context) in enumerate(contexts.items()):
        run_id = uuid.uuid4().hex
        store.create_run(run_id=run_id, project=project, name=name, user=None, start_time=float(i))
        if context:
            store.update_context(run_id, context)
    assert matched(store, project, cmp("attr", "git.commit", "=", "aaa111")) == {"b"}
    assert matched(store, project, cmp("attr", "git.commit", "contains", "22")) == {"a"}
    assert matched(store, project, cmp("attr", "git.branch", "in", ("main", "dev"))) == {"a"}
    assert matched(store, project, Exists(FieldRef("attr", "git.commit"))) == {"a", "b"}
    assert matched(store, project, cmp("attr", "git.commit", "=", None)) == {"c", "d", "e"}
    assert names(store, project, None, [SortKey("git.commit")]) == ["b", "a", "e", "d", "c"]
    assert names(store, project, None, [SortKey("git.commit", descending=True)]) == ["a", "b", "e", "d", "c"]
    assert names(store, project, None, [SortKey("git.branch")]) == ["b", "a", "e", "d", "c"]


def test_nullable_attributes_compare_with_null(store: SqlStore, project: str, runs: dict[str, str]) -> None:
    """`end_time = null` finds the runs that have not ended, as docs/FILTERS.md says (it was refused)."""
    assert matched(store, project, cmp("attr", "end_time", "=", None)) == {"c", "d"}
    assert matched(store, project, cmp("attr", "end_time", "!=", None)) == {"a", "b"}
    assert matched(store, project, cmp("attr", "user", "=", None)) == set()
