"""The filter and sort languages over a table's columns."""

from __future__ import annotations

import pytest

from mltrail.entities import SortKey
from mltrail.errors import InvalidFilterError
from mltrail.query import TABLE_COLUMN, parse_table_filter, parse_table_sorts
from mltrail.query_ast import And, Comparison, Exists, FieldRef

COLUMNS = {"y_true", "y_pred", "proba.cat", "age group"}


def test_columns_are_bare_or_backquoted() -> None:
    expr = parse_table_filter('y_true != 1 and `age group` = "30-40" and proba.cat exists', COLUMNS)
    assert expr == And(
        (
            Comparison(FieldRef(TABLE_COLUMN, "y_true"), "!=", 1),
            Comparison(FieldRef(TABLE_COLUMN, "age group"), "=", "30-40"),
            Exists(FieldRef(TABLE_COLUMN, "proba.cat")),
        )
    )
    assert parse_table_filter("  ", COLUMNS) is None


def test_unknown_columns_are_named_with_a_suggestion() -> None:
    with pytest.raises(InvalidFilterError, match="no column 'y_ture' — did you mean 'y_true'"):
        parse_table_filter("y_ture = 1", COLUMNS)
    with pytest.raises(InvalidFilterError, match="expected a column"):
        parse_table_filter("= 1", COLUMNS)


def test_sorts() -> None:
    assert parse_table_sorts(["-proba.cat", "`age group` desc", "+y_true"], COLUMNS) == [
        SortKey("proba.cat", True),
        SortKey("age group", True),
        SortKey("y_true", False),
    ]
    with pytest.raises(InvalidFilterError):
        parse_table_sorts(["nope"], COLUMNS)
    with pytest.raises(InvalidFilterError, match="expected 'asc'"):
        parse_table_sorts(["y_true up"], COLUMNS)
