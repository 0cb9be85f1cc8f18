"""Signatures: inferred from examples, JSON round trips, and checks that name the failing column."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import orjson
import pandas as pd
import pytest

from mltrail.errors import InvalidInputError
from mltrail.sdk.flavors import FieldSpec, Schema, Signature, infer_signature


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": np.array([31, 45, 27], dtype=np.int64),
            "income": [52.5, np.nan, 61.0],
            "city": pd.Series(["Lyon", "Oslo", None], dtype=object),
            "member": [True, False, True],
            "since": pd.to_datetime(["2020-01-01", "2021-06-30", "2019-03-15"]),
            "plan": pd.Categorical(["a", "b", "a"]),
        }
    )


def _roundtrip(signature: Signature) -> Signature:
    return Signature.from_dict(orjson.loads(orjson.dumps(signature.to_dict())))


def test_dataframe_signature_records_names_kinds_and_nullability() -> None:
    sig = infer_signature(_frame(), np.array([0.1, 0.2, 0.3]))
    fields = {f.name: f for f in sig.inputs.fields}
    assert sig.inputs.layout == "dataframe"
    assert [f.name for f in sig.inputs.fields] == ["age", "income", "city", "member", "since", "plan"]
    assert {n: f.kind for n, f in fields.items()} == {
        "age": "int",
        "income": "float",
        "city": "str",
        "member": "bool",
        "since": "datetime",
        "plan": "str",
    }
    assert {n for n, f in fields.items() if f.nullable} == {"income", "city"}
    assert fields["age"].dtype == "int64"
    assert sig.outputs == Schema("tensor", (FieldSpec(None, "float", "float64", (-1,), False),))
    assert _roundtrip(sig) == sig


def test_array_dict_and_list_signatures_round_trip() -> None:
    tensor = infer_signature(np.zeros((5, 3, 2), dtype=np.float32))
    assert tensor.inputs.fields == (FieldSpec(None, "float", "float32", (-1, 3, 2), False),)
    mapping = infer_signature({"ids": np.arange(4), "text": np.array(["a", "b", "c", "d"])})
    assert mapping.inputs.layout == "dict"
    assert [(f.name, f.kind, f.shape) for f in mapping.inputs.fields] == [
        ("ids", "int", (-1,)),
        ("text", "str", (-1,)),
    ]
    rows = infer_signature([[1.0, 2.0], [3.0, None]])
    assert rows.inputs.fields == (FieldSpec(None, "float", "object", (-1, 2), True),)
    records = infer_signature([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    assert records.inputs.layout == "dataframe"
    assert [(f.name, f.kind) for f in records.inputs.fields] == [("a", "int"), ("b", "str")]
    objects = infer_signature(np.array([datetime(2020, 1, 1), None], dtype=object))
    assert objects.inputs.fields[0].kind == "datetime" and objects.inputs.fields[0].nullable
    for sig in (tensor, mapping, rows, records, objects):
        assert _roundtrip(sig) == sig


def test_frame_check_passes_good_input_drops_extras_and_reorders() -> None:
    sig = infer_signature(_frame())
    shuffled = _frame()[["plan", "since", "member", "city", "income", "age"]].assign(extra=1)
    checked = sig.check_input(shuffled)
    assert list(checked.columns) == ["age", "income", "city", "member", "since", "plan"]
    widened = _frame().assign(income=[1, 2, 3])  # int where float was seen: a safe widening
    assert sig.check_input(widened) is not None
    all_missing = _frame().assign(city=pd.Series([None, None, None], dtype=object))
    assert sig.check_input(all_missing) is not None  # no values: nothing contradicts str
    assert len(sig.check_input(_frame().iloc[:0])) == 0
    as_mapping = sig.check_input(_frame().to_dict(orient="list"))
    assert list(as_mapping.columns) == list(checked.columns)


def test_frame_check_names_the_missing_column() -> None:
    sig = infer_signature(_frame())
    with pytest.raises(InvalidInputError, match=r"missing column\(s\) \['income'\]") as info:
        sig.check_input(_frame().drop(columns=["income"]))
    assert info.value.field == "income"


@pytest.mark.parametrize(
    ("column", "value", "expected", "got"),
    [
        ("age", ["x", "y", "z"], "int", "str"),
        ("age", [1.5, 2.5, 3.5], "int", "float"),
        ("income", ["1", "2", "3"], "float", "str"),
        ("member", [1, 0, 1], "bool", "int"),
        ("since", ["2020-01-01", "b", "c"], "datetime", "str"),
    ],
)
def test_frame_check_names_the_column_of_the_wrong_kind(
    column: str, value: list[object], expected: str, got: str
) -> None:
    sig = infer_signature(_frame())
    with pytest.raises(InvalidInputError, match=f"column '{column}': expected {expected}.*got {got}") as info:
        sig.check_input(_frame().assign(**{column: value}))
    assert info.value.field == column


def test_frame_signature_refuses_an_array() -> None:
    with pytest.raises(InvalidInputError, match="expected a DataFrame") as info:
        infer_signature(_frame()).check_input(np.zeros((3, 6)))
    assert info.value.field == "input"


def test_tensor_check_shape_and_kind() -> None:
    sig = infer_signature(np.zeros((10, 4)))
    assert sig.check_input(np.ones((2, 4), dtype=np.int32)) is not None  # int passes for float
    assert sig.check_input([[1.0, 2.0, 3.0, 4.0]]) is not None
    with pytest.raises(InvalidInputError, match=r"expected shape \(n, 4\), got \(2, 5\)") as info:
        sig.check_input(np.zeros((2, 5)))
    assert info.value.field == "input"
    with pytest.raises(InvalidInputError, match="expected shape"):
        sig.check_input(np.zeros(4))
    with pytest.raises(InvalidInputError, match=r"expected float.*got str"):
        sig.check_input(np.array([["a", "b", "c", "d"]]))
    with pytest.raises(InvalidInputError, match="expected an array, got a DataFrame"):
        sig.check_input(pd.DataFrame(np.zeros((2, 4))))


def test_dict_check_names_the_key() -> None:
    sig = infer_signature({"ids": np.arange(4), "vec": np.zeros((4, 3))})
    good = sig.check_input({"ids": [1, 2], "vec": np.ones((2, 3)), "extra": [0]})
    assert set(good) == {"ids", "vec"}  # extra keys dropped
    with pytest.raises(InvalidInputError, match="missing key") as info:
        sig.check_input({"ids": [1]})
    assert info.value.field == "vec"
    with pytest.raises(InvalidInputError, match=r"'vec': expected shape \(n, 3\)") as info:
        sig.check_input({"ids": [1], "vec": np.ones((1, 2))})
    assert info.value.field == "vec"
    with pytest.raises(InvalidInputError, match="expected a mapping"):
        sig.check_input(np.zeros((1, 3)))


@pytest.mark.parametrize("example", ["text", 3.5, np.float64(2.0), {}, pd.DataFrame()])
def test_uninferable_examples_are_refused(example: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        infer_signature(example)
    assert info.value.field == "input_example"


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"inputs": {"layout": "table", "fields": []}},
        {"inputs": {"layout": "tensor", "fields": []}},
        {"inputs": {"layout": "tensor", "fields": [{"name": None, "kind": "complex", "dtype": "c8"}]}},
        {"inputs": {"layout": "tensor", "fields": [{"name": 3, "kind": "int", "dtype": "int64"}]}},
        {
            "inputs": {
                "layout": "tensor",
                "fields": [{"name": None, "kind": "int", "dtype": "i8", "shape": [-2]}],
            }
        },
    ],
)
def test_malformed_signature_json_is_refused(data: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        Signature.from_dict(data)
    assert info.value.field == "signature"
