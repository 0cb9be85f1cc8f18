"""Ingestion: predictions, profiles and performance accumulators computed elsewhere, and delayed labels.

A batch of predictions is profiled once per hour window (``stats.profile_batches``), per segment too; hour
profiles merge into day profiles in memory, and both are merged into the stored windows in one
transaction. The raw rows are kept as Parquet blobs indexed by day for drill-down; request ids, times and
outputs are kept narrow for the label join. A client's idempotency key is recorded in the transaction of
the merge, so a retried batch, profile or set of accumulators lands once.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from mltrail.entities import GATEWAY_COLUMNS, GRANULARITIES
from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.core import MonitoringCore
from mltrail.services.monitoring.estimation import estimation_delta, merge_estimation, probability_columns
from mltrail.services.monitoring.figures import refresh_figures
from mltrail.services.monitoring.inputs import (
    ID_COLUMN,
    MAX_TIME,
    SCORE_COLUMN,
    TIME_COLUMN,
    as_float,
    conform_kinds,
    epoch_seconds,
    label_text,
    merge_profiles,
    prediction_rows,
    to_table,
)
from mltrail.services.monitoring.labels import performance_updates, segment_memberships, windows_of
from mltrail.services.monitoring.performance import merge_accumulators
from mltrail.services.monitoring.profile_ingest import check_window, profile_deltas
from mltrail.services.monitoring.raw import keep_raw
from mltrail.services.monitoring.segments import parse_segment, segment_spec, split_segments
from mltrail.services.monitoring.spark_performance import check_accumulator
from mltrail.services.monitoring.validation import count_violations
from mltrail.stats.profile import DatasetProfile, profile_batches
from mltrail.store.monitoring import WindowDelta

__all__ = ["IngestResult", "MonitorIngestion", "PerformanceResult", "performance_key"]


@dataclass(frozen=True, slots=True)
class IngestResult:
    rows: int
    windows: tuple[float, ...]  # starts of the monitor's windows the batch touched
    violations: dict[str, int] = field(default_factory=dict)
    duplicate: bool = False  # its idempotency key was seen before: merged then, not again


@dataclass(frozen=True, slots=True)
class PerformanceResult:
    windows: tuple[float, ...]  # starts of the monitor's windows the accumulators went into
    duplicate: bool = False  # its idempotency key was seen before: merged then, not again


def performance_key(batch_key: str) -> str:
    """The stored key of a ``log_performance`` call: its own (a Spark job may well name a window's
    profile and its accumulators alike), of a fixed length the keys' column holds."""
    return "performance:" + hashlib.sha256(batch_key.encode()).hexdigest()


class MonitorIngestion(MonitoringCore):
    """Rows, profiles, performance accumulators and labels into a monitor's windows (part of
    ``MonitoringService``)."""

    def ingest(
        self, name: str, data: Any, *, now: float | None = None, batch_key: str | None = None
    ) -> IngestResult:
        """Profile a batch of predictions into its windows; keep the raw rows; index ids for labels.

        Columns: the monitor's features, its prediction column, optionally ``timestamp`` (epoch seconds or
        an Arrow timestamp; default now), ``id`` (for delayed labels) and ``score`` (the positive class's
        probability). Missing or extra columns are counted as validation violations, never refused. A
        monitor of an alias first moves to the version the alias names now (``services/monitor_alias.py``).
        ``batch_key``: the client's idempotency key; a batch retried with a key already merged is not
        merged again (``duplicate``).
        """
        monitor = self._following(name)
        table = to_table(data)
        current = self.clock() if now is None else now
        if table.num_rows == 0:
            return IngestResult(0, ())
        if TIME_COLUMN in table.column_names:
            times = epoch_seconds(table.column(TIME_COLUMN))
            if not np.isfinite(times).all():
                raise InvalidInputError(f"{TIME_COLUMN} has missing or infinite values", field=TIME_COLUMN)
            if times.size and (times.min() < 0 or times.max() > MAX_TIME):
                raise InvalidInputError(
                    f"{TIME_COLUMN} must be epoch seconds between 1970 and 9999", field=TIME_COLUMN
                )
        else:
            times = np.full(table.num_rows, current, dtype=np.float64)
        watched = [*monitor.features, monitor.prediction]
        segments = [parse_segment(s) for s in monitor.segments]
        # Columns that only segment traffic (a country the model does not read) are expected, not extra.
        # The deployment gateway's own columns (variant, latency, guards…) describe serving, not input.
        ignore = (
            TIME_COLUMN,
            ID_COLUMN,
            SCORE_COLUMN,
            *probability_columns(table.column_names),
            monitor.prediction,
            *(s.column for s in segments),
            *GATEWAY_COLUMNS,
        )
        hour, day = GRANULARITIES["hour"], GRANULARITIES["day"]
        hour_starts = np.floor(times / hour) * hour
        deltas: dict[tuple[str, str, float], WindowDelta] = {}
        all_violations: dict[str, int] = {}

        def add(
            granularity: str,
            segment: str,
            start: float,
            rows: int,
            profile: bytes,
            violations: Mapping[str, int],
            estimation: Mapping[str, Any] | None,
        ) -> None:
            key = (granularity, segment, start)
            old = deltas.get(key)
            if old is None:
                deltas[key] = WindowDelta(
                    segment, granularity, start, rows, profile, dict(violations), estimation
                )
            else:
                merged_v = dict(old.violations)
                for rule, n in violations.items():
                    merged_v[rule] = merged_v.get(rule, 0) + n
                deltas[key] = WindowDelta(
                    segment,
                    granularity,
                    start,
                    old.rows + rows,
                    merge_profiles(old.profile, profile),
                    merged_v,
                    _merged(old.estimation, estimation),
                )

        starts = np.unique(hour_starts)
        for start in starts:
            part = table if len(starts) == 1 else table.filter(pa.array(hour_starts == start))
            violations = count_violations(part, monitor.schema, ignore=ignore)
            for rule, n in violations.items():
                all_violations[rule] = all_violations.get(rule, 0) + n
            conformed, changed = conform_kinds(part, monitor, self._prediction_kind(monitor))
            if monitor.prediction in changed:  # features of another kind are counted as ``wrong type``
                kind = self._prediction_kind(monitor)
                rule = f"{monitor.prediction}: kind changed (read as {kind})"
                violations[rule] = violations.get(rule, 0) + changed[monitor.prediction]
                all_violations[rule] = all_violations.get(rule, 0) + changed[monitor.prediction]
            # One chunk per column: a merged writer batch has one per logged batch, and each chunk is a
            # sketch update of its own (a 10-value segment multiplied them by 11). Estimation reads the
            # probability columns too.
            kept = {*watched, *(s.column for s in segments), *probability_columns(conformed.column_names)}
            conformed = conformed.select([c for c in conformed.column_names if c in kept]).combine_chunks()
            pieces = [("", conformed), *split_segments(conformed, segments)]
            for segment, rows in pieces:
                profile = profile_batches(rows, columns=watched).to_bytes()
                seg_violations = violations if segment == "" else {}
                # for estimation: probability histograms, or a regression's loss sums (estimation.py)
                histograms = estimation_delta(rows, monitor)
                add("hour", segment, float(start), rows.num_rows, profile, seg_violations, histograms)
                add(
                    "day",
                    segment,
                    math.floor(float(start) / day) * day,
                    rows.num_rows,
                    profile,
                    seg_violations,
                    histograms,
                )
        if not self.store.merge_windows(
            monitor.id,
            list(deltas.values()),
            merge_profiles,
            now=current,
            batch_key=batch_key,
            merge_estimation=merge_estimation,
        ):
            return IngestResult(table.num_rows, (), all_violations, duplicate=True)
        completed = self._baseline.ensure(monitor)  # the output's reference, once a whole day is in
        if completed is not monitor:
            self._cache.pop(name, None)
            monitor = completed
        touched = tuple(sorted({d.start for d in deltas.values() if d.granularity == monitor.granularity}))
        refresh_figures(self.store, monitor, touched)
        keep_raw(self.store, self.blobs, monitor, table, times, current)
        if ID_COLUMN in table.column_names:
            memberships = segment_memberships(table, segments) if segments else None
            self.store.record_predictions(monitor.id, prediction_rows(table, monitor, times, memberships))
        if self._after_ingest is not None:
            self._after_ingest(monitor, touched)
        return IngestResult(table.num_rows, touched, all_violations)

    def log_profile(
        self,
        name: str,
        profile: DatasetProfile,
        *,
        window_start: float,
        granularity: str | None = None,
        segment: str = "",
        now: float | None = None,
        batch_key: str | None = None,
    ) -> IngestResult:
        """Merge a profile computed elsewhere (``mltrail.spark.profile``) into the window starting at
        ``window_start`` (``granularity``: the profile's window, default the monitor's), with its segments'
        profiles into their segment windows, or all of it into ``segment``'s; then drift, validation and
        alerts as for logged rows (``monitoring/profile_ingest.py``). ``batch_key`` as for ``ingest``."""
        monitor = self._following(name)
        current = self.clock() if now is None else now
        grain, start = check_window(monitor, window_start, granularity)
        if profile.rows == 0:
            return IngestResult(0, ())
        segment_columns = (parse_segment(s).column for s in monitor.segments)
        ignore = (TIME_COLUMN, ID_COLUMN, SCORE_COLUMN, monitor.prediction, *segment_columns)
        deltas, violations = profile_deltas(
            monitor,
            profile,
            granularity=grain,
            start=start,
            segment=segment,
            prediction_kind=self._prediction_kind(monitor),
            ignore=(*ignore, *GATEWAY_COLUMNS),
        )
        if not self.store.merge_windows(
            monitor.id,
            deltas,
            merge_profiles,
            now=current,
            batch_key=batch_key,
            merge_estimation=merge_estimation,
        ):
            return IngestResult(profile.rows, (), violations, duplicate=True)
        completed = self._baseline.ensure(monitor)
        if completed is not monitor:
            self._cache.pop(name, None)
            monitor = completed
        touched = tuple(sorted({d.start for d in deltas if d.granularity == monitor.granularity}))
        refresh_figures(self.store, monitor, touched)
        if self._after_ingest is not None:
            self._after_ingest(monitor, touched)
        return IngestResult(profile.rows, touched, violations)

    def log_performance(
        self,
        name: str,
        accumulators: Mapping[str, Mapping[str, Any]],
        *,
        window_start: float,
        granularity: str | None = None,
        batch_key: str | None = None,
    ) -> PerformanceResult:
        """Merge performance accumulators computed elsewhere (``mltrail.spark.performance``: segment, ``""``
        for all traffic, → accumulator) into the windows starting at ``window_start``, as labels would; a
        window never profiled (by rows or a profile) is skipped. Alert rules then run. ``batch_key``: the
        client's idempotency key, recorded in the transaction of the merge; a retry with a key already
        merged merges nothing (``duplicate``). Its own keys: a profile's key does not make it a retry."""
        monitor = self._following(name)
        grain, start = check_window(monitor, window_start, granularity)
        updates: dict[str, dict[str, Any]] = {}
        for segment, acc in accumulators.items():
            if segment and segment_spec(segment, monitor.segments) is None:
                raise InvalidInputError(
                    f"segment {segment!r} is not one of monitor {monitor.name}'s segments",
                    field="accumulators",
                )
            updates[segment] = check_accumulator(acc, f"accumulators.{segment or 'all traffic'}")
        starts = {grain: start}
        if grain == "hour":
            starts["day"] = math.floor(start / GRANULARITIES["day"]) * GRANULARITIES["day"]
        keyed = {g: {(segment, s): acc for segment, acc in updates.items()} for g, s in starts.items()}
        key = None if batch_key is None else performance_key(batch_key)
        if not self.store.add_performance(
            monitor.id, keyed, merge_accumulators, now=self.clock(), batch_key=key
        ):
            return PerformanceResult((), duplicate=True)
        touched = (starts[monitor.granularity],) if monitor.granularity in starts else ()
        if touched and self._after_ingest is not None:
            self._after_ingest(monitor, touched)
        return PerformanceResult(touched)

    def log_labels(self, name: str, ids: Sequence[Any], labels: Sequence[Any]) -> tuple[int, int]:
        """Join labels to their predictions by request id; (matched, unknown ids). Labels for ids never
        predicted are counted on the monitor, not refused."""
        monitor = self._following(name)
        if len(ids) != len(labels):
            raise InvalidInputError(f"{len(ids)} ids but {len(labels)} labels", field="labels")
        rows: list[tuple[str, str | None, float | None]] = []
        for request_id, label in zip(ids, labels, strict=True):
            value = as_float(label)
            text = None if label is None else label_text(label)
            rows.append((str(request_id), text, value))
        now = self.clock()
        matches, unknown = self.store.match_labels(monitor.id, rows, now=now)
        # All traffic and each segment the prediction fell in (``monitoring/labels.py``).
        if matches:
            updates = performance_updates(matches, monitor.task)
            self.store.add_performance(monitor.id, updates, merge_accumulators, now=now)
        if matches and self._after_ingest is not None:
            self._after_ingest(monitor, windows_of(matches, monitor.granularity))
        return len(matches), unknown


def _merged(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if a is None or b is None:
        return a if b is None else b
    return merge_estimation(a, b)
