"""The run filter and sort languages: exact trees for good input, exact positions for bad input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltrail.entities import SortKey
from mltrail.errors import InvalidFilterError
from mltrail.query import format_filter, parse_filter, parse_sort, parse_sorts
from mltrail.query_ast import And, Comparison, Exists, Expr, FieldRef, Not, Or, Scalar


def P(key: str) -> FieldRef:
    return FieldRef("params", key)


def M(key: str, agg: str = "last") -> FieldRef:
    return FieldRef("metrics", key, agg)


def T(key: str) -> FieldRef:
    return FieldRef("tags", key)


def A(key: str) -> FieldRef:
    return FieldRef("attr", key)


GOOD: list[tuple[str, Expr]] = [
    ("metrics.acc > 0.9", Comparison(M("acc"), ">", 0.9)),
    ("metrics.acc>0.9", Comparison(M("acc"), ">", 0.9)),
    ("params.lr == 1e-3", Comparison(P("lr"), "=", 0.001)),
    ("params.lr = 1E+3", Comparison(P("lr"), "=", 1000.0)),
    ("params.layers <> 3", Comparison(P("layers"), "!=", 3)),
    ("params.layers != -2", Comparison(P("layers"), "!=", -2)),
    ("metrics.loss <= .5", Comparison(M("loss"), "<=", 0.5)),
    ("metrics.loss >= +2", Comparison(M("loss"), ">=", 2)),
    ("metrics.loss < inf", Comparison(M("loss"), "<", math.inf)),
    ("metrics.loss > -INF", Comparison(M("loss"), ">", -math.inf)),
    ('params.opt = "adam"', Comparison(P("opt"), "=", "adam")),
    ("params.opt = 'adam'", Comparison(P("opt"), "=", "adam")),
    (r'params.s = "a\"b\\c"', Comparison(P("s"), "=", 'a"b\\c')),
    (r"params.s = 'it\'s'", Comparison(P("s"), "=", "it's")),
    ("params.flag = true", Comparison(P("flag"), "=", True)),
    ("params.flag = FALSE", Comparison(P("flag"), "=", False)),
    ("params.x = null", Comparison(P("x"), "=", None)),
    ("param.lr = 1", Comparison(P("lr"), "=", 1)),
    ("metric.acc = 1", Comparison(M("acc"), "=", 1)),
    ('tag.team = "a"', Comparison(T("team"), "=", "a")),
    ("summary.best = 2", Comparison(FieldRef("summary", "best"), "=", 2)),
    ("params.model.depth = 3", Comparison(P("model.depth"), "=", 3)),
    ("metrics.sys/cpu_percent < 90", Comparison(M("sys/cpu_percent"), "<", 90)),
    ("metrics.val-acc:top@1 > 0", Comparison(M("val-acc:top@1"), ">", 0)),
    ("params.`my key` = 1", Comparison(P("my key"), "=", 1)),
    ("params.`a``b` = 1", Comparison(P("a`b"), "=", 1)),
    ("tags.`équipe` = 'é'", Comparison(T("équipe"), "=", "é")),
    ("PARAMS.Lr = 1", Comparison(P("Lr"), "=", 1)),
    ("min(metrics.loss) < 0.1", Comparison(M("loss", "min"), "<", 0.1)),
    ("MAX( metrics.acc ) > 0.1", Comparison(M("acc", "max"), ">", 0.1)),
    ("last(metrics.acc) > 0.1", Comparison(M("acc"), ">", 0.1)),
    ('status = "finished"', Comparison(A("status"), "=", "finished")),
    ('STATUS = "Failed"', Comparison(A("status"), "=", "failed")),
    ("duration > 60", Comparison(A("duration"), ">", 60)),
    ("end_time = null", Comparison(A("end_time"), "=", None)),
    ('name contains "bert"', Comparison(A("name"), "contains", "bert")),
    ('user = "ana"', Comparison(A("user"), "=", "ana")),
    ('params.opt in ("adam", "sgd")', Comparison(P("opt"), "in", ("adam", "sgd"))),
    ("params.n in (1)", Comparison(P("n"), "in", (1,))),
    ('params.opt NOT IN ("adam")', Comparison(P("opt"), "not_in", ("adam",))),
    ('status in ("running", "crashed")', Comparison(A("status"), "in", ("running", "crashed"))),
    ("tags.baseline exists", Exists(T("baseline"))),
    ('tags.note contains "x"', Comparison(T("note"), "contains", "x")),
    ("not tags.baseline exists", Not(Exists(T("baseline")))),
    ("not not params.a = 1", Not(Not(Comparison(P("a"), "=", 1)))),
    (
        "params.a = 1 and params.b = 2 and params.c = 3",
        And((Comparison(P("a"), "=", 1), Comparison(P("b"), "=", 2), Comparison(P("c"), "=", 3))),
    ),
    (
        "params.a = 1 and (params.b = 2 and params.c = 3)",
        And((Comparison(P("a"), "=", 1), Comparison(P("b"), "=", 2), Comparison(P("c"), "=", 3))),
    ),
    (
        "(params.a = 1 or params.b = 2) or params.c = 3",
        Or((Comparison(P("a"), "=", 1), Comparison(P("b"), "=", 2), Comparison(P("c"), "=", 3))),
    ),
    (
        "params.a = 1 or params.b = 2 AND params.c = 3",
        Or((Comparison(P("a"), "=", 1), And((Comparison(P("b"), "=", 2), Comparison(P("c"), "=", 3))))),
    ),
    (
        "not (params.a = 1 or params.b = 2) and params.c = 3",
        And((Not(Or((Comparison(P("a"), "=", 1), Comparison(P("b"), "=", 2)))), Comparison(P("c"), "=", 3))),
    ),
    ("  ((params.a = 1))  ", Comparison(P("a"), "=", 1)),
    # SQL metacharacters are data, never syntax.
    ('params.x = "\'; DROP TABLE runs; --"', Comparison(P("x"), "=", "'; DROP TABLE runs; --")),
    ("params.`a'b\"; --` = 1", Comparison(P("a'b\"; --"), "=", 1)),
    ('tags.x contains "%_\\\\"', Comparison(T("x"), "contains", "%_\\")),
]


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_good_filters_give_exact_trees(text: str, expected: Expr) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_filter_is_none(text: str) -> None:
    assert parse_filter(text) is None


def test_nan_value() -> None:
    expr = parse_filter("metrics.loss = NaN")
    assert isinstance(expr, Comparison)
    assert isinstance(expr.value, float)
    assert math.isnan(expr.value)


BAD: list[tuple[str, int, str]] = [
    ("metrics.acc <", 13, "expected a value after '<'"),
    ("metrics.acc < and", 14, "expected a value after '<'"),
    ("parms.lr = 1", 0, "unknown field 'parms.lr' — did you mean 'params.lr'?"),
    ("metrcs.acc > 1", 0, "did you mean 'metrics.acc'?"),
    ("stauts = 'failed'", 0, "did you mean 'status'?"),
    ("lr = 1", 0, "unknown field 'lr'"),
    ("params = 1", 0, "'params' needs a key"),
    ("params. = 1", 0, "expected a key after 'params.'"),
    ('params.x = "abc', 11, "unterminated string"),
    ("params.`abc = 1", 7, "unterminated backquoted key"),
    ("params.a = 1)", 12, "unexpected ')'"),
    ("params.a = 1 params.b = 2", 13, "expected 'and' or 'or' between conditions"),
    ("(params.a = 1", 13, "missing ')'"),
    ("(params.a = 1 params.b = 2)", 14, "expected 'and', 'or' or ')'"),
    ("()", 1, "expected a condition"),
    ("params.a 1", 9, "expected an operator after 'params.a'"),
    ("params.a", 8, "expected an operator"),
    ("params.a = 1 and", 16, "expected a field"),
    ("and params.a = 1", 0, "expected a field"),
    ("params.a not 1", 13, "expected 'in' after 'not'"),
    ("params.a in 1", 12, "expected '(' after 'in'"),
    ("params.a in ()", 13, "expected a value in the list"),
    ("params.a in (1,)", 15, "expected a value in the list"),
    ("params.a in (1 2)", 15, "expected ',' or ')'"),
    ("status = 'done'", 9, "status must be one of running, finished, failed, crashed"),
    ("status in ('running', 'x')", 22, "status must be one of"),
    ("status = finished", 9, 'text needs quotes, e.g. "finished"'),
    ("metrics.acc = 'high'", 14, "metrics.acc is a number"),
    ("metrics.acc > true", 14, "'>' needs a number or a string"),
    ("params.a < null", 11, "'<' needs a number or a string"),
    ("metrics.acc = null", 14, "metrics.acc is never null; use 'exists'"),
    ("tags.team = 3", 12, "tags.team is text"),
    ("name = 3", 7, "name is text"),
    ("params.a contains 3", 18, "'contains' needs a quoted string"),
    ("metrics.a contains 'x'", 10, "'contains' applies to text fields"),
    ("min(params.a) > 1", 0, "min() applies to metrics only"),
    ("max(metrics.a > 1", 14, "expected ')' to close max("),
    ("name exists", 5, "'exists' applies to params, metrics, tags and summary"),
    ("min(metrics.a) exists", 15, "'exists' takes a plain field"),
    ("params.a = 1 && params.b = 2", 13, "use 'and'"),
    ("params.a = 1 || params.b = 2", 13, "use 'or'"),
    ("params.é = 1", 7, "unexpected character 'é'"),
    ('params.a = "x\\n"', 13, "unknown escape"),
    ("params.a = 1.2.3", 11, "expected a value after '='"),
    ("params.a = 1 and not", 20, "expected a field"),
]


@pytest.mark.parametrize(("text", "position", "message"), BAD)
def test_bad_filters_point_at_the_offending_token(text: str, position: int, message: str) -> None:
    with pytest.raises(InvalidFilterError) as info:
        parse_filter(text)
    assert info.value.position == position, str(info.value)
    assert message in info.value.message
    assert info.value.field == "filter"
    assert info.value.text == text


def test_error_str_shows_a_caret() -> None:
    with pytest.raises(InvalidFilterError) as info:
        parse_filter("metrics.acc <")
    assert str(info.value).splitlines()[-1] == "  " + " " * 13 + "^"


SORTS: list[tuple[str, SortKey]] = [
    ("metrics.acc", SortKey("metrics.acc")),
    ("-metrics.acc", SortKey("metrics.acc", descending=True)),
    ("+params.lr", SortKey("params.lr")),
    ("  - params.lr  ", SortKey("params.lr", descending=True)),
    ("min(metrics.loss)", SortKey("metrics.loss", agg="min")),
    ("-max(metrics.acc)", SortKey("metrics.acc", descending=True, agg="max")),
    ("start_time", SortKey("start_time")),
    ("params.lr desc", SortKey("params.lr", descending=True)),
    ("params.lr ASC", SortKey("params.lr")),
    ("metric.acc", SortKey("metrics.acc")),
    ("tags.`my tag` desc", SortKey("tags.my tag", descending=True)),
]


@pytest.mark.parametrize(("text", "expected"), SORTS)
def test_sort_keys(text: str, expected: SortKey) -> None:
    assert parse_sort(text) == expected


def test_parse_sorts_keeps_order() -> None:
    assert parse_sorts(["-metrics.acc", "start_time"]) == [
        SortKey("metrics.acc", descending=True),
        SortKey("start_time"),
    ]


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "expected a field to sort by"),
        ("-", 1, "expected a field to sort by"),
        ("parms.lr", 0, "did you mean 'params.lr'?"),
        ("-params.lr desc", 11, "not both"),
        ("params.lr up", 10, "expected 'asc', 'desc'"),
        ("min(params.lr)", 0, "min() applies to metrics only"),
        ("--params.lr", 1, "unknown field"),
    ],
)
def test_bad_sort_keys(text: str, position: int, message: str) -> None:
    with pytest.raises(InvalidFilterError) as info:
        parse_sort(text)
    assert info.value.field == "sort"
    assert info.value.position == position, str(info.value)
    assert message in info.value.message


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_format_then_parse_gives_the_same_tree(text: str, expected: Expr) -> None:
    assert parse_filter(format_filter(expected)) == expected


# -- round trip over generated trees ----------------------------------------------------------------------
_keys = st.one_of(
    st.from_regex(r"[A-Za-z0-9_/\-.:@]{1,12}", fullmatch=True),
    st.text(min_size=1, max_size=12),
)
_numbers = st.one_of(st.integers(), st.floats(allow_nan=False))
_strings = st.text(max_size=12)
_any: st.SearchStrategy[Scalar] = st.one_of(_numbers, _strings, st.booleans(), st.none())


@st.composite
def _comparisons(draw: st.DrawFn) -> Expr:
    kind = draw(
        st.sampled_from(["params", "summary", "metrics", "tags", "status", "name", "duration", "user"])
    )
    field: FieldRef
    values: st.SearchStrategy[Scalar]
    ops = ["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "contains"]
    if kind in ("params", "summary"):
        field, values = FieldRef(kind, draw(_keys)), _any
    elif kind == "metrics":
        agg = draw(st.sampled_from(["last", "min", "max"]))
        field, values, ops = FieldRef(kind, draw(_keys), agg), _numbers, ops[:-1]
    elif kind == "tags":
        field, values = FieldRef(kind, draw(_keys)), _strings
    elif kind == "status":
        field, values = A("status"), st.sampled_from(["running", "finished", "failed", "crashed"])
        ops = ops[:-1]
    elif kind == "duration":
        field, values, ops = A(kind), st.one_of(_numbers, st.none()), ops[:-1]
    else:
        field, values = A(kind), st.one_of(_strings, st.none()) if kind == "user" else _strings
    op = draw(st.sampled_from(ops))
    if op == "contains":
        return Comparison(field, op, draw(_strings))
    if op in ("in", "not_in"):
        return Comparison(field, op, tuple(draw(st.lists(values, min_size=1, max_size=3))))
    value = draw(
        values.filter(lambda v: v is not None and not isinstance(v, bool))
        if op in ("<", "<=", ">", ">=")
        else values
    )
    return Comparison(field, op, value)


_leaves = st.one_of(
    _comparisons(), st.builds(Exists, st.builds(FieldRef, st.sampled_from(["params", "tags"]), _keys))
)


_exprs: st.SearchStrategy[Expr] = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.lists(inner.filter(lambda e: not isinstance(e, And)), min_size=2, max_size=3).map(
            lambda items: And(tuple(items))
        ),
        st.lists(inner.filter(lambda e: not isinstance(e, Or)), min_size=2, max_size=3).map(
            lambda items: Or(tuple(items))
        ),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(_exprs)
def test_round_trip_over_generated_trees(expr: Expr) -> None:
    text = format_filter(expr)
    assert parse_filter(text) == expr, text
