"""Monitoring's input handling: tables from what callers pass, times, kinds made consistent, the rows kept
for the label join, and small conversions shared by ingestion, labels and reports."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mltrail.entities import Monitor
from mltrail.errors import InvalidInputError
from mltrail.stats.profile import DatasetProfile, infer_kind
from mltrail.store.monitoring import PredictionRow

__all__ = [
    "ID_COLUMN",
    "MAX_TIME",
    "SCORE_COLUMN",
    "TIME_COLUMN",
    "as_float",
    "conform",
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
    return DatasetProfile.from_bytes(a).merge(DatasetProfile.from_bytes(b)).to_bytes()


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
    """The table with each watched column whose kind contradicts the schema (text where numbers are
    expected) replaced by nulls: such values are counted as ``wrong type`` and then profiled as missing,
    rather than failing the merge with the window's profile. The prediction is cast to its kind when it
    can be (class labels 0/1 to text), else nulled the same way."""
    columns: Mapping[str, Any] = monitor.schema.get("columns", {})
    expected_kinds = {name: columns.get(name, {}).get("kind") for name in monitor.features}
    expected_kinds[monitor.prediction] = prediction_kind
    for name, expected in expected_kinds.items():
        if name not in table.column_names or expected not in ("numeric", "categorical"):
            continue
        column = table.column(name)
        kind = infer_kind(column.type)
        if kind in ("null", expected):
            continue
        target = pa.float64() if expected == "numeric" else pa.string()
        replacement: pa.ChunkedArray | pa.Array = pa.nulls(table.num_rows, target)
        if name == monitor.prediction:
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):  # else: missing
                replacement = pc.cast(column, target)
        table = table.set_column(table.column_names.index(name), name, replacement)
    return table


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
