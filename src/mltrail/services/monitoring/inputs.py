"""Monitoring's input handling: tables from what callers pass, times, kinds made consistent, the rows kept
for the label join, and small conversions shared by ingestion, labels and reports."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mltrail.entities import Monitor
from mltrail.errors import InvalidInputError
from mltrail.stats.profile import infer_kind
from mltrail.store.monitoring import PredictionRow

__all__ = [
    "ID_COLUMN",
    "MAX_TIME",
    "SCORE_COLUMN",
    "TIME_COLUMN",
    "as_float",
    "conform",
    "conform_kinds",
    "epoch_seconds",
    "label_text",
    "merge_profiles",
    "prediction_rows",
    "signature_inputs",
    "to_table",
    "training_reference",
]

TIME_COLUMN = "timestamp"
MAX_TIME = 253_402_300_799.0  # 9999-12-31 23:59:59 UTC: windows and day labels stay in range
ID_COLUMN = "id"
SCORE_COLUMN = "score"
_TRAINING_KEYS = (
    "accuracy",
    "acc",
    "f1",
    "roc_auc",
    "auc",
    "precision",
    "recall",
    "log_loss",
    "mae",
    "rmse",
    "r2",
)


def merge_profiles(a: bytes, b: bytes) -> bytes:
    """A window's profile merged with a batch's, kinds reconciled (``monitoring/kinds.py``)."""
    from mltrail.services.monitoring.kinds import merge_profiles as merge

    return merge(a, b)


def to_table(data: Any) -> pa.Table:
    """An Arrow table from a pandas DataFrame, an Arrow table or batch, a mapping of columns, or a list of
    row dicts."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if type(data).__module__.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False).replace_schema_metadata(None)
    if type(data).__module__.startswith("polars"):
        table: pa.Table = data.to_arrow()
        return table
    if isinstance(data, Mapping):
        return pa.table({str(k): v for k, v in data.items()})
    if isinstance(data, list) and all(isinstance(r, Mapping) for r in data):
        return pa.Table.from_pylist(data)
    raise InvalidInputError(
        f"cannot read {type(data).__name__} as a table (a DataFrame, Arrow table, dict of columns or list of"
        " rows)",
        field="rows",
    )


def epoch_seconds(column: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_timestamp(column.type):
        micros = pc.cast(column, pa.timestamp("us", tz=column.type.tz)).cast(pa.int64())
        seconds: np.ndarray = micros.to_numpy(zero_copy_only=False).astype(np.float64) / 1e6
        return seconds
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values: np.ndarray = column.to_numpy(zero_copy_only=False).astype(np.float64)
        return values
    raise InvalidInputError(f"{TIME_COLUMN} must be a timestamp or epoch seconds", field=TIME_COLUMN)


def conform(table: pa.Table, monitor: Monitor, prediction_kind: str) -> pa.Table:
    """``conform_kinds`` without the count."""
    return conform_kinds(table, monitor, prediction_kind)[0]


def conform_kinds(table: pa.Table, monitor: Monitor, prediction_kind: str) -> tuple[pa.Table, dict[str, int]]:
    """The table with each watched column of another kind than the monitor's windows hold (its schema's
    kind; ``prediction_kind`` for the output) read as that kind, value by value: numbers become labels
    (``7`` → ``"7"``), labels that are numbers become numbers, and only what cannot be read so (``"abc"``
    as a number, a timestamp) is profiled as missing. Such values are counted by validation as ``wrong
    type``; the second result counts, per column, the rows that came in another kind (``monitoring/
    kinds.py`` keeps whole profiles of another kind apart when a window meets one)."""
    columns: Mapping[str, Any] = monitor.schema.get("columns", {})
    expected_kinds = {name: columns.get(name, {}).get("kind") for name in monitor.features}
    expected_kinds[monitor.prediction] = prediction_kind
    changed: dict[str, int] = {}
    for name, expected in expected_kinds.items():
        if name not in table.column_names or expected not in ("numeric", "categorical"):
            continue
        column = table.column(name)
        kind = infer_kind(column.type)
        if kind in ("null", expected):
            continue
        changed[name] = table.num_rows - column.null_count
        replacement = _read_as(column, expected) if kind in ("numeric", "categorical") else None
        if replacement is None:
            target = pa.float64() if expected == "numeric" else pa.string()
            replacement = pa.chunked_array([pa.nulls(table.num_rows, target)])
        table = table.set_column(table.column_names.index(name), name, replacement)
    return table, changed


_NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


def _read_as(column: pa.ChunkedArray, kind: str) -> pa.ChunkedArray | None:
    """Numbers as labels, or labels as numbers where they are numbers (others null); None if impossible."""
    try:
        if kind == "categorical":
            if pa.types.is_floating(column.type):
                whole = pc.equal(pc.floor(column), column)
                as_int = pc.cast(pc.if_else(whole, column, None), pa.int64(), safe=False)
                text = pc.if_else(whole, pc.cast(as_int, pa.string()), pc.cast(column, pa.string()))
                return pc.if_else(pc.is_finite(column), text, None)
            return pc.cast(column, pa.string())
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        if pa.types.is_boolean(column.type):
            return pc.cast(column, pa.float64())
        text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
        numeric = pc.match_substring_regex(text, _NUMBER)
        return pc.cast(pc.if_else(numeric, text, None), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def label_text(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value.item() if isinstance(value, np.generic) else value)


def as_float(value: Any) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def prediction_rows(
    table: pa.Table,
    monitor: Monitor,
    times: np.ndarray,
    segments: Sequence[tuple[str, ...]] | None = None,
) -> list[PredictionRow]:
    """The rows kept for the label join; ``segments``: per row, the segments it fell in."""
    ids = table.column(ID_COLUMN).to_pylist()
    outputs = (
        table.column(monitor.prediction).to_pylist()
        if monitor.prediction in table.column_names
        else [None] * len(ids)
    )
    scores = (
        table.column(SCORE_COLUMN).to_pylist() if SCORE_COLUMN in table.column_names else [None] * len(ids)
    )
    memberships: Sequence[tuple[str, ...]] = segments if segments is not None else [()] * len(ids)
    rows = []
    for request_id, output, score, when, names in zip(
        ids, outputs, scores, times.tolist(), memberships, strict=True
    ):
        if request_id is None:
            continue
        if monitor.task == "regression":
            rows.append(PredictionRow(str(request_id), when, as_float(output), None, names))
        else:
            text = None if output is None else label_text(output)
            rows.append(PredictionRow(str(request_id), when, as_float(score), text, names))
    return rows


def signature_inputs(signature: Mapping[str, Any] | None) -> list[str]:
    if not signature:
        return []
    inputs = signature.get("inputs") or {}
    fields = inputs.get("fields") if isinstance(inputs, Mapping) else None
    names = [f.get("name") for f in fields or [] if isinstance(f, Mapping)]
    return [n for n in names if isinstance(n, str)]


def training_reference(metrics: Mapping[str, float], name: str) -> float | None:
    """The training run's figure for a metric (``accuracy`` matches ``val/acc``, ``test/acc``…)."""
    aliases = {"accuracy": ("accuracy", "acc"), "roc_auc": ("roc_auc", "auc")}.get(name, (name,))
    for prefix in ("", "val/", "valid/", "validation/", "test/", "eval/"):
        for alias in aliases:
            if f"{prefix}{alias}" in metrics:
                return metrics[f"{prefix}{alias}"]
    return None
