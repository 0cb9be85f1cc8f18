"""Model signatures: what a model takes and returns, inferred from an example and checked on input.

A ``Schema`` has a layout — ``dataframe`` (named columns), ``tensor`` (one array) or ``dict`` (named
arrays) — and one ``FieldSpec`` per column or array: its dtype *kind* (``int``, ``float``, ``str``,
``bool``, ``datetime`` or ``object``), the exact dtype for information, the shape for arrays (``-1``
for the batch dimension) and whether the example held missing values. Checking compares kinds, not exact
dtypes: ``int32`` passes for ``int64``, and an ``int`` column passes where ``float`` is expected (a
widening that loses nothing a model cares about), and an object column or array whose values are all
missing passes for any kind; everything else must match. Nullability is recorded, not enforced (NaN is a
value many models accept). Columns or keys the signature does not name are dropped, and DataFrame
columns are put in the signature's order.
pandas is imported only when a DataFrame is involved.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, cast

import numpy as np

from mltrail.errors import InvalidInputError

__all__ = ["KINDS", "FieldSpec", "Schema", "Signature", "infer_schema", "infer_signature"]

Layout = Literal["dataframe", "tensor", "dict"]
LAYOUTS: tuple[str, ...] = ("dataframe", "tensor", "dict")
KINDS: tuple[str, ...] = ("int", "float", "str", "bool", "datetime", "object")
# expected kind -> the input kinds that pass for it (besides itself)
_WIDENINGS: dict[str, frozenset[str]] = {"float": frozenset({"int"}), "object": frozenset(KINDS)}
# object values that are all missing (or none at all): they fit any kind when checked
_EMPTY = "empty"


@dataclass(frozen=True)
class FieldSpec:
    """One column (dataframe layout) or array (tensor and dict layouts) of a schema."""

    name: str | None
    kind: str
    dtype: str
    shape: tuple[int, ...] | None = None
    nullable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "dtype": self.dtype,
            "shape": None if self.shape is None else list(self.shape),
            "nullable": self.nullable,
        }

    @classmethod
    def from_dict(cls, data: Any) -> FieldSpec:
        try:
            name, kind, dtype = data["name"], data["kind"], data["dtype"]
            shape, nullable = data.get("shape"), data.get("nullable", False)
            ok = (
                (name is None or isinstance(name, str))
                and kind in KINDS
                and isinstance(dtype, str)
                and isinstance(nullable, bool)
                and (shape is None or all(isinstance(d, int) and d >= -1 for d in shape))
            )
        except (KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise InvalidInputError(f"malformed signature field: {data!r}", field="signature")
        return cls(name, kind, dtype, None if shape is None else tuple(shape), nullable)


@dataclass(frozen=True)
class Schema:
    """The layout and fields of a model's input or output."""

    layout: Layout
    fields: tuple[FieldSpec, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"layout": self.layout, "fields": [f.to_dict() for f in self.fields]}

    @classmethod
    def from_dict(cls, data: Any) -> Schema:
        if not isinstance(data, Mapping) or data.get("layout") not in LAYOUTS:
            raise InvalidInputError(f"malformed signature schema: {data!r}", field="signature")
        fields = data.get("fields")
        if not isinstance(fields, list) or not fields:
            raise InvalidInputError("a signature schema needs at least one field", field="signature")
        return cls(cast(Layout, data["layout"]), tuple(FieldSpec.from_dict(f) for f in fields))

    def check(self, value: Any) -> Any:
        """``value`` if it fits this schema (extra columns or keys dropped), else ``InvalidInputError``."""
        if self.layout == "dataframe":
            return _check_frame(self, value)
        if self.layout == "dict":
            if not isinstance(value, Mapping):
                raise InvalidInputError(
                    f"expected a mapping of arrays with keys {[f.name for f in self.fields]}, "
                    f"got {type(value).__name__}",
                    field="input",
                )
            missing = [f.name for f in self.fields if f.name not in value]
            if missing:
                raise InvalidInputError(f"input is missing key(s) {missing}", field=str(missing[0]))
            return {f.name: _check_array(f, value[f.name]) for f in self.fields}
        return _check_array(self.fields[0], value)


@dataclass(frozen=True)
class Signature:
    """A model's input schema and, when known, its output schema. JSON round-trips through ``to_dict``."""

    inputs: Schema
    outputs: Schema | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.to_dict(),
            "outputs": None if self.outputs is None else self.outputs.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Signature:
        if not isinstance(data, Mapping) or "inputs" not in data:
            raise InvalidInputError(f"malformed signature: {data!r}", field="signature")
        outputs = data.get("outputs")
        return cls(Schema.from_dict(data["inputs"]), None if outputs is None else Schema.from_dict(outputs))

    def check_input(self, value: Any) -> Any:
        """The input as the model should get it, or ``InvalidInputError`` naming the column or key."""
        return self.inputs.check(value)


def infer_signature(input_example: Any, output_example: Any = None) -> Signature:
    """A signature from an example input and, optionally, the model's output for it."""
    inputs = infer_schema(input_example, field="input_example")
    outputs = None if output_example is None else infer_schema(output_example, field="output_example")
    return Signature(inputs, outputs)


def infer_schema(example: Any, *, field: str = "example") -> Schema:
    """The schema of a DataFrame, Series, array, mapping of arrays, or list (of rows or of records)."""
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(example, pd.DataFrame):
        if example.columns.has_duplicates:
            raise InvalidInputError("the example has duplicate column names", field=field)
        specs = [_column_spec(str(name), example[name]) for name in example.columns]
        if not specs:
            raise InvalidInputError("the example has no columns", field=field)
        return Schema("dataframe", tuple(specs))
    if pd is not None and isinstance(example, pd.Series):
        name = None if example.name is None else str(example.name)
        kind, nullable = _known(_series_kind(example)), bool(example.isna().any())
        return Schema("tensor", (FieldSpec(name, kind, str(example.dtype), (-1,), nullable),))
    if isinstance(example, Mapping):
        if not example:
            raise InvalidInputError("the example mapping is empty", field=field)
        return Schema("dict", tuple(_array_spec(str(k), _as_array(v, field)) for k, v in example.items()))
    if isinstance(example, Sequence) and example and all(isinstance(r, Mapping) for r in example):
        import pandas  # a list of records is a table

        return infer_schema(pandas.DataFrame.from_records(list(example)), field=field)
    return Schema("tensor", (_array_spec(None, _as_array(example, field)),))


def _as_array(value: Any, field: str) -> np.ndarray[Any, Any]:
    if isinstance(value, str | bytes) or not hasattr(value, "__len__"):
        raise InvalidInputError(
            f"cannot infer a schema from {type(value).__name__}: give a DataFrame, an array, "
            "a mapping of arrays or a list",
            field=field,
        )
    array = np.asarray(value)
    if array.ndim == 0:
        raise InvalidInputError("an example needs a batch dimension, got a scalar", field=field)
    return array


def _array_spec(name: str | None, array: np.ndarray[Any, Any]) -> FieldSpec:
    kind = _known(_array_kind(array))
    shape = (-1, *array.shape[1:])
    return FieldSpec(name, kind, str(array.dtype), shape, _has_missing(array))


def _dtype_kind(dtype: np.dtype[Any]) -> str | None:
    """The kind of a numpy dtype, or None for object arrays (decided by their values)."""
    return {"b": "bool", "i": "int", "u": "int", "f": "float", "U": "str", "S": "str", "M": "datetime"}.get(
        dtype.kind, None if dtype.kind == "O" else "object"
    )


def _array_kind(array: np.ndarray[Any, Any]) -> str:
    kind = _dtype_kind(array.dtype)
    return kind if kind is not None else _values_kind(array.ravel().tolist())


def _values_kind(values: list[Any]) -> str:
    present = [v for v in values if not _missing(v)]
    if not present:
        return _EMPTY
    for kind, types in (
        ("bool", (bool, np.bool_)),
        ("str", (str,)),
        ("datetime", (datetime, date, np.datetime64)),
        ("int", (int, np.integer)),
        ("float", (int, float, np.integer, np.floating)),
    ):
        if all(isinstance(v, types) for v in present) and (
            kind in ("bool", "str", "datetime") or not any(isinstance(v, bool | np.bool_) for v in present)
        ):
            return kind
    return "object"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _has_missing(array: np.ndarray[Any, Any]) -> bool:
    if array.dtype.kind in "fc":
        return bool(np.isnan(array).any())
    if array.dtype.kind == "M":
        return bool(np.isnat(array).any())
    if array.dtype.kind == "O":
        return any(_missing(v) for v in array.ravel().tolist())
    return False


def _series_kind(series: Any) -> str:
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _series_kind(pd.Series(dtype.categories))
    api = pd.api.types
    if api.is_bool_dtype(dtype):
        return "bool"
    if api.is_integer_dtype(dtype):
        return "int"
    if api.is_float_dtype(dtype):
        return "float"
    if api.is_datetime64_any_dtype(dtype):
        return "datetime"
    if api.is_object_dtype(dtype) or api.is_string_dtype(dtype):
        inferred = api.infer_dtype(series, skipna=True)
        return {
            "string": "str",
            "boolean": "bool",
            "integer": "int",
            "floating": "float",
            "mixed-integer-float": "float",
            "decimal": "float",
            "datetime": "datetime",
            "datetime64": "datetime",
            "date": "datetime",
            "empty": _EMPTY,
        }.get(inferred, "object")
    return "object"


def _column_spec(name: str, series: Any) -> FieldSpec:
    return FieldSpec(name, _known(_series_kind(series)), str(series.dtype), None, bool(series.isna().any()))


def _kind_error(spec: FieldSpec, got: str, dtype: Any, what: str) -> InvalidInputError:
    label = spec.name if spec.name is not None else "input"
    return InvalidInputError(
        f"{what} {label!r}: expected {spec.kind} (as {spec.dtype}), got {got} (dtype {dtype})",
        field=label,
    )


def _kind_fits(expected: str, got: str) -> bool:
    return got in (expected, _EMPTY) or got in _WIDENINGS.get(expected, frozenset())


def _known(kind: str) -> str:
    """The kind to record: values that are all missing say nothing, so they are recorded as ``object``."""
    return "object" if kind == _EMPTY else kind


def _check_frame(schema: Schema, value: Any) -> Any:
    import pandas as pd

    if isinstance(value, Mapping):
        value = pd.DataFrame(dict(value))
    if not isinstance(value, pd.DataFrame):
        raise InvalidInputError(
            f"expected a DataFrame with columns {[f.name for f in schema.fields]}, "
            f"got {type(value).__name__}",
            field="input",
        )
    by_name = {str(c): c for c in value.columns}
    missing = [f.name for f in schema.fields if f.name not in by_name]
    if missing:
        raise InvalidInputError(f"input is missing column(s) {missing}", field=str(missing[0]))
    for spec in schema.fields:
        column = value[by_name[str(spec.name)]]
        got = _series_kind(column)
        if not _kind_fits(spec.kind, got):
            raise _kind_error(spec, got, column.dtype, "column")
    wanted = [by_name[str(f.name)] for f in schema.fields]
    return value if list(value.columns) == wanted else value[wanted]


def _check_array(spec: FieldSpec, value: Any) -> Any:
    label = spec.name if spec.name is not None else "input"
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(value, pd.DataFrame):
        raise InvalidInputError(f"{label!r}: expected an array, got a DataFrame", field=label)
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    expected = spec.shape or (-1,)
    if array.ndim != len(expected) or any(
        want not in (-1, got) for want, got in zip(expected[1:], array.shape[1:], strict=True)
    ):
        shown = tuple("n" if d == -1 else d for d in expected)
        raise InvalidInputError(
            f"{label!r}: expected shape {shown}, got {array.shape}".replace("'n'", "n"), field=label
        )
    got = _array_kind(array)
    if not _kind_fits(spec.kind, got):
        raise _kind_error(spec, got, array.dtype, "array")
    return value
