"""MLflow's search syntax translated to mltrail's filter tree: what is covered, and errors naming the rest."""

from __future__ import annotations

import pytest

from mltrail.entities import SortKey
from mltrail.errors import InvalidFilterError
from mltrail.query_ast import And, Comparison, Exists, FieldRef, Not, Or
from mltrail.services.mlflow.filters import parse_mlflow_filter, parse_mlflow_order


def test_metrics_params_tags_and_attributes() -> None:
    expr = parse_mlflow_filter(
        "metrics.acc > 0.9 and params.opt = 'adam' AND tags.`team name` != \"x\""
        " and attributes.status = 'KILLED'"
    )
    assert expr == And(
        (
            Comparison(FieldRef("metrics", "acc"), ">", 0.9),
            Comparison(FieldRef("params", "opt"), "=", "adam"),
            Comparison(FieldRef("tags", "team name"), "!=", "x"),
            Comparison(FieldRef("attr", "status"), "=", "failed"),
        )
    )


def test_numeric_param_text_matches_a_number_too() -> None:
    field = FieldRef("params", "lr")
    assert parse_mlflow_filter("params.lr = '0.01'") == Or(
        (Comparison(field, "=", "0.01"), Comparison(field, "=", 0.01))
    )


def test_times_are_milliseconds_and_names_map() -> None:
    expr = parse_mlflow_filter(
        "attributes.start_time >= 1700000000000 and run_name = 'bob' and tags.mlflow.user = 'u'"
    )
    assert expr == And(
        (
            Comparison(FieldRef("attr", "start_time"), ">=", 1_700_000_000.0),
            Comparison(FieldRef("attr", "name"), "=", "bob"),
            Comparison(FieldRef("attr", "user"), "=", "u"),
        )
    )


def test_in_like_and_null() -> None:
    assert parse_mlflow_filter("attributes.run_id IN ('a', 'b')") == Comparison(
        FieldRef("attr", "id"), "in", ("a", "b")
    )
    assert parse_mlflow_filter("tags.t NOT IN ('a')") == Comparison(FieldRef("tags", "t"), "not_in", ("a",))
    assert parse_mlflow_filter("run_name LIKE '%bert%'") == Comparison(
        FieldRef("attr", "name"), "contains", "bert"
    )
    assert parse_mlflow_filter("params.x LIKE 'exact'") == Comparison(FieldRef("params", "x"), "=", "exact")
    assert parse_mlflow_filter("tags.t IS NULL") == Not(Exists(FieldRef("tags", "t")))
    assert parse_mlflow_filter("tags.t IS NOT NULL") == Exists(FieldRef("tags", "t"))
    assert parse_mlflow_filter("  ") is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("metrics.a > 1 OR metrics.b > 1", "no OR"),
        ("tags.t ILIKE '%x%'", "ILIKE"),
        ("tags.t LIKE 'ab%'", "'%text%'"),
        ("datasets.name = 'x'", "datasets"),
        ("attributes.artifact_uri = 'x'", "not searchable"),
        ("metrics.acc > 'high'", "number"),
        ("params.lr = 0.1", "quoted string"),
        ("metrics.acc >", "value"),
        ("metrics.acc ~ 1", "unexpected character"),
        ("foo.bar = 'x'", "unknown entity"),
    ],
)
def test_unsupported_or_malformed_filters_say_why(text: str, says: str) -> None:
    with pytest.raises(InvalidFilterError) as caught:
        parse_mlflow_filter(text)
    assert says in caught.value.message


def test_order_by() -> None:
    assert parse_mlflow_order(["metrics.acc DESC", "attributes.start_time", "params.`a b` asc"]) == [
        SortKey("metrics.acc", descending=True),
        SortKey("start_time"),
        SortKey("params.a b"),
    ]
    with pytest.raises(InvalidFilterError):
        parse_mlflow_order(["metrics.acc sideways"])
