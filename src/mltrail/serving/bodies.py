"""A prediction request's body: JSON rows or columns, or an Arrow IPC stream of rows, checked before any
model sees it; and an answer as an Arrow stream. Every mistake is an ``InvalidInputError`` naming the
field (``rows[3].age``, ``columns.age``, ``key``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from mltrail.errors import InvalidInputError

__all__ = [
    "ARROW_STREAM",
    "ID_COLUMN",
    "MAX_ROWS",
    "PredictRequest",
    "arrow_answer",
    "check_columns",
    "parse_arrow",
    "parse_body",
]

MAX_ROWS = 10_000
ARROW_STREAM = "application/vnd.apache.arrow.stream"
ID_COLUMN = "_id"  # an Arrow body's optional column of row ids
_KEYS = {"rows", "columns", "key", "ids"}
_NUMERIC = {"int", "float"}


@dataclass(frozen=True, slots=True)
class PredictRequest:
    rows: list[dict[str, Any]]
    key: str | None
    ids: list[str] | None
    layout: str  # rows | columns: how the request named its fields, for messages


def parse_body(raw: bytes, *, max_rows: int = MAX_ROWS) -> PredictRequest:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"the body is not JSON: {exc}", field="body") from None
    if not isinstance(data, dict):
        raise InvalidInputError(
            'the body must be a JSON object: {"rows": [...]} or {"columns": {...}}', "body"
        )
    unknown = sorted(k for k in data if k not in _KEYS)
    if unknown:
        raise InvalidInputError(
            f"unknown key {unknown[0]!r} (known: columns, ids, key, rows)", field=unknown[0]
        )
    if ("rows" in data) == ("columns" in data):
        raise InvalidInputError(
            'give either "rows" (a list of objects) or "columns" (an object of lists)', "rows"
        )
    if "rows" in data:
        rows, layout = _rows(data["rows"], max_rows), "rows"
    else:
        rows, layout = _columns(data["columns"], max_rows), "columns"
    key = data.get("key")
    if key is not None and (not isinstance(key, str | int) or isinstance(key, bool) or len(str(key)) > 500):
        raise InvalidInputError("key must be text or an integer of at most 500 characters", field="key")
    ids = data.get("ids")
    if ids is not None:
        if not isinstance(ids, list) or len(ids) != len(rows):
            raise InvalidInputError(f"ids must be a list of {len(rows)} ids, one per row", field="ids")
        ids = _ids(ids, "ids")
    return PredictRequest(rows, None if key is None else str(key), ids, layout)


def parse_arrow(raw: bytes, *, key: str | None = None, max_rows: int = MAX_ROWS) -> PredictRequest:
    """An Arrow IPC stream (one or more record batches) of rows: one column per model input, and
    optionally ``_id`` (one id per row, for delayed labels). ``key`` comes from the query string."""
    import pyarrow as pa

    try:
        table = pa.ipc.open_stream(pa.py_buffer(raw)).read_all()
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise InvalidInputError(f"the body is not an Arrow IPC stream: {exc}", field="body") from None
    if not 1 <= table.num_rows <= max_rows:
        raise InvalidInputError(
            f"the Arrow stream must hold 1 to {max_rows} rows, got {table.num_rows}", field="columns"
        )
    names = table.column_names
    if len(set(names)) != len(names):
        raise InvalidInputError("the Arrow stream names a column twice", field="columns")
    ids = None
    if ID_COLUMN in names:
        ids = _ids(table.column(ID_COLUMN).to_pylist(), f"columns.{ID_COLUMN}")
        table = table.drop_columns([ID_COLUMN])
    if key is not None and len(key) > 500:
        raise InvalidInputError("key must be at most 500 characters", field="key")
    return PredictRequest(table.to_pylist(), key, ids, "columns")


def arrow_answer(answer: Mapping[str, Any]) -> bytes:
    """A ``Gateway`` answer as an Arrow IPC stream: columns ``prediction`` and ``id`` (and ``fallback``,
    ``guards`` when they fired); the request id, variant and model in the schema's metadata."""
    import pyarrow as pa

    try:
        predictions = pa.array(answer["predictions"])
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed answers (a class and "manual_review"): as text
        predictions = pa.array([None if v is None else str(v) for v in answer["predictions"]], pa.string())
    columns = {"prediction": predictions, "id": pa.array(answer["ids"], pa.string())}
    if "fallback" in answer:
        columns["fallback"] = pa.array(answer["fallback"], pa.string())
    if "guards" in answer:
        guards = [None if g is None else ",".join(g) for g in answer["guards"]]
        columns["guards"] = pa.array(guards, pa.string())
    metadata = {k: str(answer[k]) for k in ("request_id", "variant", "model")}
    table = pa.table(columns).replace_schema_metadata(metadata)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def _ids(values: list[Any], field: str) -> list[str]:
    if not all(isinstance(i, str | int) and not isinstance(i, bool) and len(str(i)) <= 200 for i in values):
        raise InvalidInputError("every id must be text or an integer of at most 200 characters", field)
    return [str(i) for i in values]


def _rows(value: Any, max_rows: int) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise InvalidInputError("rows must be a non-empty list of objects (column → value)", field="rows")
    if len(value) > max_rows:
        raise InvalidInputError(f"at most {max_rows} rows per request, got {len(value)}", field="rows")
    for i, row in enumerate(value):
        if not isinstance(row, dict):
            raise InvalidInputError(f"rows[{i}] must be an object (column → value)", field=f"rows[{i}]")
    return value


def _columns(value: Any, max_rows: int) -> list[dict[str, Any]]:
    if not isinstance(value, dict) or not value:
        raise InvalidInputError("columns must be a non-empty object of column → list of values", "columns")
    lengths = set()
    for name, values in value.items():
        if not isinstance(values, list):
            raise InvalidInputError(f"columns.{name} must be a list of values", field=f"columns.{name}")
        lengths.add(len(values))
    if len(lengths) != 1:
        raise InvalidInputError("every column must have the same number of values", field="columns")
    n = lengths.pop()
    if not 1 <= n <= max_rows:
        raise InvalidInputError(f"columns must hold 1 to {max_rows} rows, got {n}", field="columns")
    names = list(value)
    return [{name: value[name][i] for name in names} for i in range(n)]


def _where(layout: str, row: int, column: str) -> str:
    return f"rows[{row}].{column}" if layout == "rows" else f"columns.{column}[{row}]"


def check_columns(request: PredictRequest, columns: Sequence[str], kinds: Mapping[str, str]) -> None:
    """Every model column present in every row, with a value of the signature's kind (null allowed: the
    input guard, or the model, decides about missing values)."""
    for i, row in enumerate(request.rows):
        for name in columns:
            if name not in row:
                where = f"rows[{i}].{name}" if request.layout == "rows" else f"columns.{name}"
                raise InvalidInputError(
                    f"{where} is missing: the model reads columns {', '.join(columns)}", where
                )
            value = row[name]
            if value is None:
                continue
            kind = kinds.get(name)
            if kind in _NUMERIC and (isinstance(value, bool) or not isinstance(value, int | float)):
                where = _where(request.layout, i, name)
                raise InvalidInputError(f"{where} must be a number, got {value!r}", field=where)
            if kind in _NUMERIC and isinstance(value, float) and not math.isfinite(value):
                where = _where(request.layout, i, name)
                raise InvalidInputError(f"{where} must be finite", field=where)
            if kind == "str" and not isinstance(value, str):
                where = _where(request.layout, i, name)
                raise InvalidInputError(f"{where} must be text, got {value!r}", field=where)
