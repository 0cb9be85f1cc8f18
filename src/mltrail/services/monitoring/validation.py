"""Data validation for monitored traffic: a schema inferred from the reference profile, editable as JSON,
and violations counted per rule in each batch.

Schema::

    {"columns": {"age": {"kind": "numeric", "not_null": true, "min": 18, "max": 99},
                 "country": {"kind": "categorical", "not_null": false, "allowed": ["DE", "FR"]}},
     "allow_extra": false}

Rules, as they are counted (one count per offending row): ``age: missing column`` (the batch lacks it: every
row counts), ``age: null``, ``age: wrong type``, ``age: below min``, ``age: above max``,
``country: unknown category``, and ``extra column: foo`` (every row of a batch that carries it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mltrail.errors import InvalidInputError
from mltrail.stats.profile import DatasetProfile, infer_kind

__all__ = ["MAX_ALLOWED_CATEGORIES", "count_violations", "infer_schema", "validate_schema"]

# Allowed categories are inferred only from a column with at most this many distinct reference values.
MAX_ALLOWED_CATEGORIES = 200


def infer_schema(reference: DatasetProfile) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for name, col in reference.columns.items():
        rule: dict[str, Any] = {"kind": col.kind, "not_null": col.missing + col.absent == 0 and col.count > 0}
        if col.kind == "numeric" and col.numeric is not None and col.numeric.count:
            rule["min"], rule["max"] = col.numeric.min, col.numeric.max
        if col.kind == "categorical" and col.categories is not None and col.categories.exact:
            labels, _ = col.categories.frequencies()
            if len(labels) <= MAX_ALLOWED_CATEGORIES:
                rule["allowed"] = sorted(labels)
        columns[name] = rule
    return {"columns": columns, "allow_extra": False}


def validate_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema if it is well formed, else ``InvalidInputError`` naming the field."""
    columns = schema.get("columns")
    if not isinstance(columns, Mapping):
        raise InvalidInputError("schema.columns must be an object of column → rules", field="schema.columns")
    for name, rule in columns.items():
        where = f"schema.columns.{name}"
        if not isinstance(rule, Mapping):
            raise InvalidInputError(f"{where} must be an object", field=where)
        if rule.get("kind") not in ("numeric", "categorical", "other", "null"):
            raise InvalidInputError(f"{where}.kind must be numeric or categorical", field=f"{where}.kind")
        for bound in ("min", "max"):
            value = rule.get(bound)
            if value is not None and not isinstance(value, int | float):
                raise InvalidInputError(f"{where}.{bound} must be a number", field=f"{where}.{bound}")
        allowed = rule.get("allowed")
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)
        ):
            raise InvalidInputError(f"{where}.allowed must be a list of strings", field=f"{where}.allowed")
    return {
        "columns": {k: dict(v) for k, v in columns.items()},
        "allow_extra": bool(schema.get("allow_extra")),
    }


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_boolean(column.type):
        return pc.if_else(column, "true", "false")
    return column.cast(pa.string())


def count_violations(
    table: pa.Table, schema: Mapping[str, Any], *, ignore: tuple[str, ...] = ()
) -> dict[str, int]:
    """Rule → offending rows of this batch (rules with no violation are left out)."""
    found: dict[str, int] = {}
    columns: Mapping[str, Any] = schema.get("columns", {})
    present = set(table.column_names)
    rows = table.num_rows

    def add(rule: str, n: int) -> None:
        if n:
            found[rule] = found.get(rule, 0) + int(n)

    for name, rule in columns.items():
        if name not in present:
            add(f"{name}: missing column", rows)
            continue
        column = table.column(name)
        nulls = column.null_count
        if pa.types.is_floating(column.type):
            nulls += int(pc.sum(pc.is_nan(column)).as_py() or 0)
        if rule.get("not_null"):
            add(f"{name}: null", nulls)
        kind = infer_kind(column.type)
        expected = rule.get("kind")
        if kind == "null":
            continue  # an all-null batch: counted as nulls above
        if expected in ("numeric", "categorical") and kind != expected:
            add(f"{name}: wrong type", rows - column.null_count)
            continue
        if kind == "numeric":
            lo, hi = rule.get("min"), rule.get("max")
            if lo is not None:
                add(f"{name}: below min", int(pc.sum(pc.less(column, lo)).as_py() or 0))
            if hi is not None:
                add(f"{name}: above max", int(pc.sum(pc.greater(column, hi)).as_py() or 0))
        elif kind == "categorical" and rule.get("allowed") is not None:
            allowed = pa.array(rule["allowed"], pa.string())
            known = pc.is_in(_as_text(column), value_set=allowed)
            # is_in gives null for a null value: nulls are counted by the not-null rule, not here
            add(f"{name}: unknown category", int(pc.sum(pc.invert(known)).as_py() or 0))
    if not schema.get("allow_extra", False):
        for name in table.column_names:
            if name not in columns and name not in ignore:
                add(f"extra column: {name}", rows)
    return found
