"""Profiles of a Spark DataFrame: each partition profiled in place (``mapInArrow``), merged on the driver.

The function that runs inside Spark, :func:`partition_profiles`, is plain pyarrow: it reads the partition's
Arrow record batches, splits them by window (``hour``/``day`` of a time column) and segment (the monitors'
segment specs, ``country`` or ``age < 25``), profiles each piece with ``stats.profile_batches`` and yields one
row per (window, segment): the profile in its serialized form (``DatasetProfile.to_bytes``). Only those rows,
a few kB each, travel to the driver, which merges them per key with ``DatasetProfile.merge_all`` — the same
merge a monitor's windows use — so the rows never leave the cluster.

pyspark is not imported here: the DataFrame is duck-typed (``select``, ``mapInArrow``, ``collect``), so this
module loads without the ``spark`` extra and the partition function is tested on its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from mltrail.entities import GRANULARITIES
from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.inputs import TIME_COLUMN, epoch_seconds
from mltrail.services.monitoring.segments import (
    MAX_SEGMENT_VALUES,
    parse_segment,
    segment_spec,
    split_segments,
)
from mltrail.stats.profile import DEFAULT_KLL_K, DatasetProfile, profile_batches

__all__ = [
    "OUTPUT_SCHEMA",
    "assemble",
    "is_spark_dataframe",
    "partition_profiles",
    "profile_spark",
    "split_windows",
    "window_width",
]

# What each partition yields: a profile per (window start, segment); window NaN without ``window=``.
OUTPUT_SCHEMA = "window double, segment string, rows long, profile binary"
_ARROW_OUTPUT = pa.schema(
    [("window", pa.float64()), ("segment", pa.string()), ("rows", pa.int64()), ("profile", pa.binary())]
)
# Rows of one (window, segment) gathered before they are profiled as one table: Spark hands out Arrow
# batches of 10,000 rows by default, and a sketch update per small batch costs more than copying them.
FLUSH_ROWS = 131_072
# All pieces a partition holds at once (many windows × segments), flushed together beyond this.
MAX_BUFFERED_ROWS = 1_048_576


def is_spark_dataframe(data: Any) -> bool:
    """A pyspark DataFrame (classic or Spark Connect), recognized without importing pyspark."""
    return type(data).__module__.startswith("pyspark.") and hasattr(data, "mapInArrow")


def window_width(window: str | float | None) -> float | None:
    """Seconds of a window: ``"hour"``, ``"day"`` (the monitors' granularities), or a number of seconds."""
    if window is None:
        return None
    if isinstance(window, str):
        if window not in GRANULARITIES:
            raise InvalidInputError(
                f"window must be one of {', '.join(GRANULARITIES)} or seconds, got {window!r}", field="window"
            )
        return float(GRANULARITIES[window])
    width = float(window)
    if not (math.isfinite(width) and width > 0):
        raise InvalidInputError(
            f"window must be a positive number of seconds, got {window!r}", field="window"
        )
    return width


def partition_profiles(
    batches: Iterable[pa.RecordBatch],
    *,
    columns: Sequence[str],
    segments: Sequence[str] = (),
    width: float | None = None,
    time_column: str = TIME_COLUMN,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    kll_k: int = DEFAULT_KLL_K,
) -> Iterator[pa.RecordBatch]:
    """One partition's profiles, one row per (window, segment) it holds rows of (see the module text)."""
    specs = [parse_segment(s) for s in segments]
    found: dict[tuple[float, str], DatasetProfile] = {}
    pending: dict[tuple[float, str], list[pa.Table]] = {}
    pending_rows: dict[tuple[float, str], int] = {}

    def flush(key: tuple[float, str]) -> None:
        pieces = pending.pop(key)
        pending_rows.pop(key)
        table = pa.concat_tables(pieces).combine_chunks() if len(pieces) > 1 else pieces[0]
        part = profile_batches(table, columns=columns, categorical=categorical, numeric=numeric, kll_k=kll_k)
        old = found.get(key)
        found[key] = part if old is None else old.merge(part)

    for batch in batches:
        if batch.num_rows == 0:
            continue
        table = pa.Table.from_batches([batch])
        for start, rows in split_windows(table, width, time_column):
            for segment, part in [("", rows), *split_segments(rows, specs)]:
                key = (start, segment)
                pending.setdefault(key, []).append(part)
                pending_rows[key] = pending_rows.get(key, 0) + part.num_rows
                if pending_rows[key] >= FLUSH_ROWS:
                    flush(key)
        if sum(pending_rows.values()) > MAX_BUFFERED_ROWS:
            for key in list(pending):
                flush(key)
    for key in list(pending):
        flush(key)
    if found:
        keys = sorted(found)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array([k[0] for k in keys], pa.float64()),
                pa.array([k[1] for k in keys], pa.string()),
                pa.array([found[k].rows for k in keys], pa.int64()),
                pa.array([found[k].to_bytes() for k in keys], pa.binary()),
            ],
            schema=_ARROW_OUTPUT,
        )


def split_windows(table: pa.Table, width: float | None, time_column: str) -> Iterator[tuple[float, pa.Table]]:
    """The table's rows per window of ``time_column`` (all of them under NaN without a width)."""
    if width is None:
        yield math.nan, table
        return
    if time_column not in table.column_names:
        raise InvalidInputError(f"window= needs the time column {time_column!r}", field="time_column")
    times = epoch_seconds(table.column(time_column))
    if not np.isfinite(times).all():
        raise InvalidInputError(f"{time_column} has missing values: each row needs a time", field=time_column)
    starts = np.floor(times / width) * width
    unique = np.unique(starts)
    if len(unique) == 1:
        yield float(unique[0]), table
        return
    for start in unique:
        yield float(start), table.filter(pa.array(starts == start))


def assemble(
    rows: Iterable[tuple[float | None, str, bytes]], segments: Sequence[str]
) -> dict[float | None, DatasetProfile]:
    """The driver's half: partition profiles merged per (window, segment) in the order given, each window's
    segment profiles under ``DatasetProfile.segments`` in the form a monitor's reference has (a by-value
    spec keeps its ``MAX_SEGMENT_VALUES`` largest segments, the others listed without a profile)."""
    grouped: dict[tuple[float | None, str], list[DatasetProfile]] = {}
    for window, segment, data in rows:
        start = None if window is None or math.isnan(window) else float(window)
        grouped.setdefault((start, segment), []).append(DatasetProfile.from_bytes(bytes(data)))
    merged = {key: DatasetProfile.merge_all(parts) for key, parts in grouped.items()}
    out: dict[float | None, DatasetProfile] = {}
    for (start, segment), profile in sorted(merged.items(), key=lambda kv: (_order(kv[0][0]), kv[0][1])):
        if segment == "" and profile is not None:
            out[start] = profile
    specs = [parse_segment(s) for s in segments]
    for start, profile in out.items():
        for spec in specs:
            parts = {
                name: p
                for (w, name), p in merged.items()
                if w == start and name and p is not None and _spec_of(name, segments) == spec.spec
            }
            ranked = sorted(parts, key=lambda name: (-parts[name].rows, name))
            kept: dict[str, DatasetProfile | None] = {
                name: parts[name] for name in ranked[:MAX_SEGMENT_VALUES]
            }
            kept.update(dict.fromkeys(sorted(ranked[MAX_SEGMENT_VALUES:])))
            profile.segments[spec.spec] = kept
    return out


def _order(start: float | None) -> float:
    return -math.inf if start is None else start


def _spec_of(name: str, segments: Sequence[str]) -> str | None:
    spec = segment_spec(name, segments)
    return None if spec is None else spec.spec


def profile_spark(
    df: Any,
    *,
    columns: Sequence[str] | None = None,
    segments: Sequence[str] = (),
    window: str | float | None = None,
    time_column: str = TIME_COLUMN,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    kll_k: int = DEFAULT_KLL_K,
) -> DatasetProfile | dict[float, DatasetProfile]:
    """Profile a Spark DataFrame: without ``window``, one ``DatasetProfile`` of all its rows; with it,
    ``{window start (epoch seconds): profile}`` for each window of ``time_column`` that holds rows. With
    ``segments``, each profile carries its segments' own profiles (``DatasetProfile.segments``), so it can
    be a monitor's reference or be logged into a monitor's segment windows (``monitor.log_profile``).

    ``columns`` default to all the DataFrame's columns (but the time column when windowed); segment and
    time columns are read for splitting only, unless listed."""
    if not is_spark_dataframe(df):
        raise InvalidInputError(f"expected a pyspark DataFrame, got {type(df).__name__}", field="df")
    width = window_width(window)
    specs = [parse_segment(s) for s in segments]
    available = list(df.columns)
    wanted = (
        list(columns)
        if columns is not None
        else [c for c in available if not (width is not None and c == time_column)]
    )
    needed = list(dict.fromkeys([*wanted, *(s.column for s in specs)]))
    if width is not None and time_column not in needed:
        needed.append(time_column)
    unknown = [c for c in needed if c not in available and c not in (columns or ())]
    if unknown:
        raise InvalidInputError(f"columns not in the DataFrame: {', '.join(unknown)}", field="columns")
    read = [c for c in needed if c in available]
    spec_texts = [s.spec for s in specs]
    cats, nums = tuple(categorical), tuple(numeric)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return partition_profiles(
            batches,
            columns=wanted,
            segments=spec_texts,
            width=width,
            time_column=time_column,
            categorical=cats,
            numeric=nums,
            kll_k=kll_k,
        )

    collected = df.select(*read).mapInArrow(run, OUTPUT_SCHEMA).collect()
    found = assemble(((r["window"], r["segment"], r["profile"]) for r in collected), spec_texts)
    if width is not None:
        return {start: p for start, p in found.items() if start is not None}
    whole = found.get(None)
    if whole is None:  # no rows at all
        whole = profile_batches([], columns=wanted, categorical=cats, numeric=nums, kll_k=kll_k)
        for spec in spec_texts:
            whole.segments[spec] = {}
    return whole
