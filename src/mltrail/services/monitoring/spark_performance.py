"""Performance from labelled rows in Spark: per (window, segment) accumulators, computed per partition with
``mapInArrow`` and merged on the driver (``performance.merge_accumulators``: counts and sums, so any order
gives the same figures), to be logged into a monitor with ``log_performance``.

The accumulators are those labels build in a monitor (``performance.accumulate``: a confusion table, score
histograms and log-loss sums for a classifier; error sums for a regression), so a report reads them beside
those of ``log_labels``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.inputs import TIME_COLUMN, as_float, label_text
from mltrail.services.monitoring.performance import SCORE_BINS, accumulate, merge_accumulators
from mltrail.services.monitoring.segments import parse_segment, split_segments
from mltrail.services.monitoring.spark_profile import is_spark_dataframe, split_windows, window_width
from mltrail.store.monitoring import LabelMatch

__all__ = ["check_accumulator", "partition_performance", "performance_spark"]

OUTPUT_SCHEMA = "window double, segment string, accumulator string"
_ARROW_OUTPUT = pa.schema([("window", pa.float64()), ("segment", pa.string()), ("accumulator", pa.string())])
_COUNTS = ("n", "logloss_n")
_SUMS = ("sum_abs", "sum_sq", "sum_y", "sum_y2", "logloss_sum")


def _matches(table: pa.Table, label: str, prediction: str, score: str | None, task: str) -> list[LabelMatch]:
    labels = table.column(label).to_pylist()
    outputs = table.column(prediction).to_pylist()
    scores = table.column(score).to_pylist() if score is not None else [None] * len(labels)
    found = []
    for truth, output, prob in zip(labels, outputs, scores, strict=True):
        if truth is None:
            continue
        if task == "regression":
            found.append(LabelMatch("", 0.0, as_float(output), None, label_text(truth), as_float(truth)))
        else:
            predicted = None if output is None else label_text(output)
            found.append(LabelMatch("", 0.0, as_float(prob), predicted, label_text(truth), as_float(truth)))
    return found


def partition_performance(
    batches: Iterable[pa.RecordBatch],
    *,
    label: str,
    prediction: str,
    score: str | None,
    task: str,
    width: float,
    time_column: str = TIME_COLUMN,
    segments: Sequence[str] = (),
) -> Iterator[pa.RecordBatch]:
    """One partition's accumulators, one row per (window, segment) it holds labelled rows of."""
    specs = [parse_segment(s) for s in segments]
    found: dict[tuple[float, str], dict[str, Any]] = {}
    for batch in batches:
        if batch.num_rows == 0:
            continue
        for start, rows in split_windows(pa.Table.from_batches([batch]), width, time_column):
            for segment, part in [("", rows), *split_segments(rows, specs)]:
                acc = accumulate(_matches(part, label, prediction, score, task), task)
                if acc:
                    key = (start, segment)
                    found[key] = merge_accumulators(found[key], acc) if key in found else acc
    if found:
        keys = sorted(found)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array([k[0] for k in keys], pa.float64()),
                pa.array([k[1] for k in keys], pa.string()),
                pa.array([json.dumps(found[k]) for k in keys], pa.string()),
            ],
            schema=_ARROW_OUTPUT,
        )


def performance_spark(
    df: Any,
    *,
    label: str,
    prediction: str = "prediction",
    score: str | None = None,
    task: str = "classification",
    segments: Sequence[str] = (),
    window: str | float = "day",
    time_column: str = TIME_COLUMN,
) -> dict[float, dict[str, dict[str, Any]]]:
    """``{window start: {segment ("" for all traffic): accumulator}}`` of a Spark DataFrame's labelled rows
    (``label`` the truth, ``prediction`` the model's output, ``score`` the positive class's probability)."""
    if not is_spark_dataframe(df):
        raise InvalidInputError(f"expected a pyspark DataFrame, got {type(df).__name__}", field="df")
    if task not in ("classification", "regression"):
        raise InvalidInputError("task must be classification or regression", field="task")
    width = window_width(window)
    assert width is not None
    specs = [parse_segment(s) for s in segments]
    needed = [label, prediction, *([score] if score else []), time_column, *(s.column for s in specs)]
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise InvalidInputError(f"columns not in the DataFrame: {', '.join(missing)}", field="columns")
    spec_texts = [s.spec for s in specs]

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return partition_performance(
            batches,
            label=label,
            prediction=prediction,
            score=score,
            task=task,
            width=width,
            time_column=time_column,
            segments=spec_texts,
        )

    rows = df.select(*dict.fromkeys(needed)).mapInArrow(run, OUTPUT_SCHEMA).collect()
    out: dict[float, dict[str, dict[str, Any]]] = {}
    for row in rows:
        segments_of = out.setdefault(float(row["window"]), {})
        acc = json.loads(row["accumulator"])
        old = segments_of.get(row["segment"])
        segments_of[row["segment"]] = acc if old is None else merge_accumulators(old, acc)
    return {start: out[start] for start in sorted(out)}


def check_accumulator(acc: Any, where: str) -> dict[str, Any]:
    """A performance accumulator as ``performance.accumulate`` builds it, else InvalidInputError naming
    ``where``: counts are whole and not negative, sums finite, histograms of ``SCORE_BINS`` counts."""

    def bad(why: str) -> InvalidInputError:
        return InvalidInputError(f"{where}: {why}", field=where)

    if not isinstance(acc, Mapping):
        raise bad("an accumulator is an object")
    for key, value in acc.items():
        if key in _COUNTS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise bad(f"{key} must be a count")
        elif key in _SUMS:
            if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
                raise bad(f"{key} must be a finite number")
        elif key in ("pos_hist", "neg_hist"):
            if not (
                isinstance(value, list)
                and len(value) == SCORE_BINS
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
            ):
                raise bad(f"{key} must be {SCORE_BINS} counts")
        elif key == "confusion":
            if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and "\x1f" in k and isinstance(v, int) and v >= 0 for k, v in value.items()
            ):
                raise bad("confusion must map 'predicted\\x1flabel' to counts")
        else:
            raise bad(f"unknown field {key!r}")
    if "n" not in acc:
        raise bad("n (the labelled rows) is missing")
    return dict(acc)
