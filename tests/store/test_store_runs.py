"""Contract tests of the SQL store: projects, runs, params, tags, summaries, context, deletion, staleness."""

from __future__ import annotations

import math
import time
import uuid

import pytest

from mltrail.entities import MetricsBatch, RunStatus
from mltrail.errors import ConflictError, InvalidInputError, NotFoundError
from mltrail.store.sql import SqlStore


def new_id() -> str:
    return uuid.uuid4().hex


def make_run(store: SqlStore, project: str, **kwargs: object) -> str:
    run_id = new_id()
    args: dict[str, object] = {"name": "run", "user": "ada", "start_time": time.time()}
    args.update(kwargs)
    store.create_run(run_id=run_id, project=project, **args)  # type: ignore[arg-type]
    return run_id


def test_create_and_get_run(store: SqlStore, project: str) -> None:
    run = store.create_run(
        run_id=new_id(),
        project=project,
        name="first",
        user="ada",
        start_time=100.0,
        params={"lr": 0.1},
        tags={"team": "vision"},
        notes="hello",
        context={"git": {"commit": "abc"}},
    )
    assert run.status == RunStatus.RUNNING
    assert run.project == project
    got = store.get_run(run.id)
    assert got.name == "first"
    assert got.user == "ada"
    assert got.start_time == 100.0
    assert got.end_time is None
    assert got.params == {"lr": 0.1}
    assert got.tags == {"team": "vision"}
    assert got.notes == "hello"
    assert got.context == {"git": {"commit": "abc"}}
    assert got.metrics == {}


def test_duplicate_run_id_is_conflict(store: SqlStore, project: str) -> None:
    run_id = make_run(store, project)
    with pytest.raises(ConflictError):
        store.create_run(run_id=run_id, project=project, name="again", user=None, start_time=1.0)


def test_run_id_too_long_is_invalid(store: SqlStore, project: str) -> None:
    with pytest.raises(InvalidInputError):
        store.create_run(run_id="x" * 65, project=project, name="n", user=None, start_time=1.0)


def test_missing_run_and_project(store: SqlStore, project: str) -> None:
    with pytest.raises(NotFoundError):
        store.get_run(new_id())
    with pytest.raises(NotFoundError):
        store.get_project(project)
    with pytest.raises(NotFoundError):
        store.update_run(new_id(), status=RunStatus.FINISHED)
    with pytest.raises(NotFoundError):
        store.set_params(new_id(), {"a": 1})
    with pytest.raises(NotFoundError):
        store.delete_run(new_id())


def test_projects(store: SqlStore, project: str) -> None:
    created = store.get_or_create_project(project)
    assert created.name == project
    assert store.get_or_create_project(project).id == created.id
    make_run(store, project, start_time=10.0)
    make_run(store, project, start_time=20.0)
    got = store.get_project(project)
    assert got.run_count == 2
    assert got.last_run_at == 20.0
    names = [p.name for p in store.list_projects()]
    assert project in names
    assert names == sorted(names)


def test_update_run(store: SqlStore, project: str) -> None:
    run_id = make_run(store, project, start_time=10.0)
    store.update_run(run_id, heartbeat_at=15.0)
    store.update_run(
        run_id, status=RunStatus.FAILED, end_time=20.0, error={"type": "ValueError", "message": "boom"}
    )
    store.update_run(run_id, notes="n", name="renamed")
    run = store.get_run(run_id)
    assert run.status == RunStatus.FAILED
    assert run.end_time == 20.0
    assert run.heartbeat_at == 15.0
    assert run.error == {"type": "ValueError", "message": "boom"}
    assert run.notes == "n"
    assert run.name == "renamed"
    assert run.duration == 10.0


def test_find_run_ids(store: SqlStore, project: str) -> None:
    a = make_run(store, project, name="alpha")
    b = make_run(store, project, name="beta")
    assert store.find_run_ids(a) == [a]
    assert store.find_run_ids(a[:8], project=project) == [a]
    assert store.find_run_ids("beta", project=project) == [b]
    assert store.find_run_ids("beta", project=project + "-other") == []
    assert store.find_run_ids("%") == []
    assert store.find_run_ids("_") == []


PARAMS = {
    "int": 3,
    "big_int": 2**70,
    "float": 0.001,
    "neg": -2.5,
    "bool_t": True,
    "bool_f": False,
    "str": "adam",
    "none": None,
    "list": [1, "a", None, [2.5]],
    "dict": {"a": 1},
    "long": "x" * 10_000,
    "model.depth": 6,
    "top 5 acc": 0.9,
    "val/loss": 1.0,
    "точность": "высокая ✓",
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
}


def test_params_round_trip_typed(store: SqlStore, project: str) -> None:
    run_id = make_run(store, project, params=PARAMS)
    got = store.get_run(run_id).params
    assert set(got) == set(PARAMS)
    for key, value in PARAMS.items():
        if isinstance(value, float) and math.isnan(value):
            assert isinstance(got[key], float) and math.isnan(got[key])  # type: ignore[arg-type]
        else:
            assert got[key] == value, key
            assert type(got[key]) is type(value), key


def test_params_overwrite_and_summary(store: SqlStore, project: str) -> None:
    run_id = make_run(store, project, params={"lr": 0.1, "opt": "sgd"})
    store.set_params(run_id, {"lr": 0.2, "new": "x"})
    store.set_summary(run_id, {"best_acc": 0.93, "epochs": 10, "note": "ok"})
    store.set_summary(run_id, {"best_acc": 0.95})
    run = store.get_run(run_id)
    assert run.params == {"lr": 0.2, "new": "x", "opt": "sgd"}
    assert run.summary == {"best_acc": 0.95, "epochs": 10, "note": "ok"}


def test_tags(store: SqlStore, project: str) -> None:
    run_id = make_run(store, project, tags={"a": "1", "b": "2"})
    store.set_tags(run_id, {"b": "20", "c": "3"})
    store.delete_tags(run_id, ["a", "missing"])
    assert store.get_run(run_id).tags == {"b": "20", "c": "3"}


def test_update_context_merges(store: SqlStore, project: str) -> None:
    run_id = make_run(store, project, context={"git": {"commit": "a"}, "command": "x"})
    store.update_context(run_id, {"git": {"commit": "b"}, "packages": ["numpy"]})
    assert store.get_run(run_id).context == {"git": {"commit": "b"}, "command": "x", "packages": ["numpy"]}


def test_mark_stale_runs_crashed(store: SqlStore, project: str) -> None:
    stale = make_run(store, project, start_time=10.0)
    store.update_run(stale, heartbeat_at=50.0)
    never_beat = make_run(store, project, start_time=20.0)
    fresh = make_run(store, project, start_time=10.0)
    store.update_run(fresh, heartbeat_at=200.0)
    done = make_run(store, project, start_time=10.0)
    store.update_run(done, status=RunStatus.FINISHED, end_time=30.0, heartbeat_at=30.0)
    assert store.mark_stale_runs_crashed(100.0) >= 2
    assert store.get_run(stale).status == RunStatus.CRASHED
    assert store.get_run(never_beat).status == RunStatus.CRASHED
    assert store.get_run(fresh).status == RunStatus.RUNNING
    assert store.get_run(done).status == RunStatus.FINISHED


def test_delete_run_removes_everything(store: SqlStore, project: str) -> None:
    run_id = make_run(store, project, params={"a": 1}, tags={"t": "v"})
    keep = make_run(store, project, params={"a": 2})
    store.set_summary(run_id, {"s": 1})
    store.log_metrics(run_id, MetricsBatch(["m"], [0], [1.0], [1.0], client_id="c", seq=1))
    store.log_metrics(keep, MetricsBatch(["m"], [0], [2.0], [1.0]))
    dataset = store.record_dataset_version(
        project=project, name="d", digest="1" * 64, kind="file", source=None, num_rows=1, num_bytes=1,
        schema=[], summary={},
    )  # fmt: skip
    store.link_dataset(run_id, dataset.id, "train")
    store.add_artifact(run_id, "model.pkl", "a" * 64, 3)
    store.delete_run(run_id)
    with pytest.raises(NotFoundError):
        store.get_run(run_id)
    with pytest.raises(NotFoundError):
        store.get_metric_history(run_id, "m")
    counts = _row_counts(store, run_id)
    assert counts == dict.fromkeys(counts, 0), counts
    assert store.get_metric_history(keep, "m").values == [2.0]
    assert store.get_run(keep).params == {"a": 2}
    # The same id can be used again, and sees nothing of the old run (no stale cached key ids).
    store.create_run(run_id=run_id, project=project, name="again", user=None, start_time=1.0)
    store.log_metrics(run_id, MetricsBatch(["m"], [5], [7.0], [1.0], client_id="c", seq=1))
    assert store.get_metric_history(run_id, "m").steps == [5]


def _row_counts(store: SqlStore, run_id: str) -> dict[str, int]:
    import sqlalchemy as sa

    from mltrail.store.sql import schema as t

    counts = {}
    with store.engine.connect() as conn:
        for table in (t.params, t.summaries, t.tags, t.metric_keys, t.batches, t.run_datasets, t.artifacts):
            counts[table.name] = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.run_id == run_id)
            ).scalar_one()
        counts["runs"] = conn.execute(
            sa.select(sa.func.count()).select_from(t.runs).where(t.runs.c.id == run_id)
        ).scalar_one()
        orphans = (
            sa.select(sa.func.count())
            .select_from(t.metric_points)
            .where(t.metric_points.c.key_id.not_in(sa.select(t.metric_keys.c.id)))
        )
        counts["orphan_points"] = conn.execute(orphans).scalar_one()
    return counts


def test_get_run_status(store: SqlStore, project: str) -> None:
    run_id = make_run(store, project)
    assert store.get_run_status(run_id) == RunStatus.RUNNING
    store.update_run(run_id, status=RunStatus.FAILED)
    assert store.get_run_status(run_id) == RunStatus.FAILED
    with pytest.raises(NotFoundError):
        store.get_run_status(new_id())


def test_create_run_returns_the_run_as_get_run_reads_it(store: SqlStore, project: str) -> None:
    # create_run builds its answer from what it wrote instead of reading the run back: the two must agree.
    params = {"b": True, "i": 3, "f": 0.25, "nan": float("nan"), "s": "adam", "l": [1, 2], "d": {"x": 1}}
    params |= {"none": None, "big": 10**30, "a": -1.5e300}
    run = store.create_run(
        run_id=new_id(),
        project=project,
        name="twin",
        user=None,
        start_time=1234.5678901234,
        params=params,  # type: ignore[arg-type]
        tags={"z": "1", "a": ""},
        notes=None,
        context={"git": {"commit": "abc", "dirty": False}, "nested": {"list": (1, "two")}},
    )
    got = store.get_run(run.id)
    assert repr(run) == repr(got)  # repr: NaN compares unequal to itself
    assert list(run.params) == sorted(params)
    assert list(run.tags) == ["a", "z"]


@pytest.mark.postgres
def test_a_statement_past_the_timeout_is_stopped_and_a_400(postgres_url: str) -> None:
    from mltrail.errors import InvalidInputError
    from mltrail.store.factory import open_store

    store = open_store(postgres_url, statement_timeout=0.2)
    try:
        with pytest.raises(InvalidInputError, match="statement timeout"):
            store._transaction(lambda conn: conn.exec_driver_sql("SELECT pg_sleep(3)"), write=False)
        assert store.list_projects() is not None  # the connection is usable again
    finally:
        store.close()
