"""The filter language has limits: any text is a filter or an InvalidFilterError (a 400), never a crash."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltrail.errors import InvalidFilterError
from mltrail.query import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_FILTER_CHARS,
    MAX_IN_VALUES,
    MAX_SORT_KEYS,
    parse_filter,
    parse_sorts,
)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("(" * 5000 + "metrics.a > 1" + ")" * 5000, "nests deeper"),
        ("not " * 3000 + "metrics.a > 1", "nests deeper"),
        (" and ".join(f"params.p{i} = 1" for i in range(400)), "conditions"),
        (" or ".join(f"metrics.m{i} exists" for i in range(700)), "conditions"),
        ("params.p in (" + ", ".join(str(i) for i in range(2500)) + ")", "'in' list"),
        ("params.p = '" + "x" * (MAX_FILTER_CHARS + 1) + "'", "characters long"),
    ],
)
def test_hostile_filters_are_refused_naming_the_limit(text: str, says: str) -> None:
    with pytest.raises(InvalidFilterError, match=says) as info:
        parse_filter(text)
    assert info.value.field == "filter"


def test_filters_at_the_limits_still_parse() -> None:
    assert parse_filter("(" * MAX_DEPTH + "metrics.a > 1" + ")" * MAX_DEPTH) is not None
    assert parse_filter(" and ".join(f"params.p{i} = 1" for i in range(MAX_CONDITIONS))) is not None
    assert parse_filter("params.p in (" + ", ".join(str(i) for i in range(MAX_IN_VALUES)) + ")") is not None


def test_too_many_sort_keys_are_refused() -> None:
    assert len(parse_sorts(["-metrics.a"] * MAX_SORT_KEYS)) == MAX_SORT_KEYS
    with pytest.raises(InvalidFilterError, match="sort keys") as info:
        parse_sorts(["-metrics.a"] * 300)
    assert info.value.field == "sort"


_PIECES = st.sampled_from(
    [
        "(",
        ")",
        " and ",
        " or ",
        "not ",
        "metrics.a",
        "params.`b c`",
        "tags.t",
        " > ",
        " = ",
        " in ",
        "(1, 2)",
        "'x'",
        '"y',
        "`",
        "exists",
        "contains",
        "1e308",
        "nan",
        "-inf",
        ",",
        "max(metrics.a)",
        "status",
        "\ud800",
    ]
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.one_of(st.text(max_size=200), st.lists(_PIECES, max_size=60).map("".join)))
def test_any_text_is_a_filter_or_a_filter_error(text: str) -> None:
    with contextlib.suppress(InvalidFilterError):
        parse_filter(text)
