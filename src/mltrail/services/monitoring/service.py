"""Production monitoring: monitors of a model version, ingestion of predictions, delayed labels. No HTTP.

A batch of predictions is profiled once per hour window (``stats.profile_batches``), per segment too; hour
profiles merge into day profiles in memory, and both are merged into the stored windows in one
transaction. The raw rows are kept as Parquet blobs indexed by day for drill-down; request ids, times and
outputs are kept narrow for the label join. Reports then read window profiles, never raw rows.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from mltrail.entities import GATEWAY_COLUMNS, GRANULARITIES, AlertRule, Monitor
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.monitoring.alias import (
    FOLLOW_EVERY,
    AliasFollower,
    training_metrics,
    training_profile,
    watched_reference,
)
from mltrail.services.monitoring.baseline import OutputBaseline
from mltrail.services.monitoring.estimation import (
    calibration_from_table,
    check_calibration,
    estimation_delta,
    merge_estimation,
    probability_columns,
    validated_calibration,
)
from mltrail.services.monitoring.figures import drift_options, refresh_figures
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
    signature_inputs,
    to_table,
)
from mltrail.services.monitoring.kinds import output_kind
from mltrail.services.monitoring.labels import performance_updates, segment_memberships, windows_of
from mltrail.services.monitoring.performance import merge_accumulators, metrics_from
from mltrail.services.monitoring.profile_ingest import check_window, profile_deltas
from mltrail.services.monitoring.raw import keep_raw, lake_folder, raw_tables
from mltrail.services.monitoring.reference import (
    replace_reference,
    run_reference,
    segment_references,
)
from mltrail.services.monitoring.report import build_report
from mltrail.services.monitoring.segments import parse_segment, segment_spec, split_segments
from mltrail.services.monitoring.spark_performance import check_accumulator
from mltrail.services.monitoring.validation import count_violations, infer_schema, validate_schema
from mltrail.services.registry.checks import parse_model_ref, validate_model_name
from mltrail.stats.profile import DatasetProfile, profile_batches
from mltrail.store.base import registry_of, tracking_of
from mltrail.store.blobs import BlobStore
from mltrail.store.monitoring import MonitorStore, WindowDelta
from mltrail.store.registry import RegistryStore
from mltrail.store.tracking import TrackingStore

__all__ = ["IngestResult", "MonitoringService", "PerformanceResult"]


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


class MonitoringService:
    def __init__(
        self,
        store: MonitorStore,
        blobs: BlobStore,
        *,
        runs: TrackingStore | None = None,
        registry: RegistryStore | None = None,
        after_ingest: Callable[[Monitor, Sequence[float]], object] | None = None,
        clock: Callable[[], float] = time.time,
        cache: bool = True,
    ) -> None:
        self.store = store
        # Lineage: the run a version came from and its datasets; the registry for monitors of an alias.
        self.runs = runs if runs is not None else tracking_of(store)
        self.registry = registry if registry is not None else registry_of(store)
        self.blobs = blobs
        self.clock = clock
        self._after_ingest = after_ingest  # the alert evaluation, once a batch is stored
        # A server keeps nothing between requests (replicas share the database, and a monitor changed
        # by one must not be stale in another), so it passes ``cache=False``.
        self._caching = cache
        self._cache: dict[str, Monitor] = {}
        # per monitor and version: a monitor of an alias takes the reference of each version it moves to
        self._prediction_kinds: dict[tuple[int, int | None], str] = {}
        # Monitors of an alias move with it (services/monitor_alias.py): looked up at most every 30 s in
        # an embedded process, on every batch in a server.
        self._follower = AliasFollower(
            store, registry=self.registry, runs=self.runs, every=FOLLOW_EVERY if cache else None
        )
        self._baseline = OutputBaseline(store)

    # -- monitors ---------------------------------------------------------------------------------------
    def create_monitor(
        self,
        name: str,
        *,
        project: str,
        reference: DatasetProfile,
        reference_source: str,
        features: Sequence[str] | None = None,
        prediction: str = "prediction",
        task: str = "classification",
        granularity: str = "day",
        segments: Sequence[str] = (),
        drift: Mapping[str, Any] | None = None,
        schema: Mapping[str, Any] | None = None,
        model: str | None = None,
        version: int | None = None,
        run_id: str | None = None,
        training_metrics: Mapping[str, float] | None = None,
        created_by: str | None = None,
        alias: str | None = None,
        calibration: Mapping[str, Any] | None = None,
    ) -> Monitor:
        validate_model_name(name)
        if granularity not in GRANULARITIES:
            raise InvalidInputError(
                f"granularity must be one of {', '.join(GRANULARITIES)}", field="granularity"
            )
        if task not in ("classification", "regression"):
            raise InvalidInputError("task must be classification or regression", field="task")
        watched = list(features) if features else [c for c in reference.columns if c != prediction]
        missing = [f for f in watched if f not in reference.columns]
        if missing:
            raise InvalidInputError(f"features not in the reference: {', '.join(missing)}", field="features")
        for spec in segments:
            parse_segment(spec)
        options = dict(drift or {})
        drift_options(options)
        kept = DatasetProfile(reference.rows, {c: reference.columns[c] for c in watched})
        rules = validate_schema(schema) if schema is not None else infer_schema(kept)
        compared = watched_reference(reference, watched, prediction)
        if calibration is not None:
            calibration = validated_calibration(
                calibration, task=task, features=watched, prediction=prediction
            )
        return self.store.create_monitor(
            name=name,
            project=project,
            model=model,
            version=version,
            run_id=run_id,
            features=watched,
            prediction=prediction,
            task=task,
            granularity=granularity,
            segments=list(segments),
            schema=rules,
            drift=options,
            training_metrics=dict(training_metrics or {}),
            reference=compared.to_bytes(),
            reference_source=reference_source,
            created_at=self.clock(),
            created_by=created_by,
            alias=alias,
            segment_references=segment_references(reference, segments, watched, prediction),
            calibration=calibration,
        )

    def create_for_version(
        self,
        name: str,
        *,
        model: str,
        version: int,
        run_id: str | None,
        signature: Mapping[str, Any] | None,
        reference: DatasetProfile | None = None,
        alias: str | None = None,
        **options: Any,
    ) -> Monitor:
        """A monitor of a registered version: the reference is the profile of its run's training dataset
        (unless given), the features the signature's inputs, the training metrics the run's own. With
        ``alias`` (``production`` for ``churn@production``) it follows that alias or stage from then on."""
        if alias is not None:
            parse_model_ref(f"{model}@{alias}", field="alias")
        source = "given"
        training: dict[str, float] = {}
        if run_id is not None:
            run = self.runs.get_run(run_id)
            project = options.pop("project", None) or run.project
            training = training_metrics(run)
            if reference is None and (found := training_profile(self.runs, run_id)) is not None:
                reference, source = found
        else:
            project = options.pop("project", None)
        if reference is None or project is None:
            raise InvalidInputError(
                f"{model}:{version} has no training dataset with a profile in its run's lineage: give a"
                " reference (a DataFrame or table of the training data)",
                field="reference",
            )
        features = options.pop("features", None) or signature_inputs(signature) or None
        return self.create_monitor(
            name,
            project=project,
            reference=reference,
            reference_source=source,
            features=features,
            model=model,
            version=version,
            run_id=run_id,
            training_metrics=training,
            alias=alias,
            **options,
        )

    def get(self, name: str) -> Monitor:
        if not self._caching:
            return self.store.get_monitor(name)
        monitor = self._cache.get(name)
        if monitor is None:
            monitor = self._cache[name] = self.store.get_monitor(name)
        return monitor

    def list_monitors(self, *, projects: Sequence[str] | None = None) -> list[Monitor]:
        """Monitors by name (of ``projects`` when given)."""
        return self.store.list_monitors(projects=projects)

    def get_by_id(self, monitor_id: int) -> Monitor:
        """The monitor with this id (the store indexes monitors by name; there are few of them)."""
        for monitor in self.store.list_monitors():
            if monitor.id == monitor_id:
                return monitor
        raise NotFoundError(f"no monitor with id {monitor_id}")

    def find_rule(self, rule_id: int) -> tuple[Monitor, AlertRule]:
        """An active alert rule and its monitor; NotFoundError for a deleted or unknown one."""
        for monitor in self.store.list_monitors():
            for rule in self.store.list_alert_rules(monitor.id):
                if rule.id == rule_id:
                    return monitor, rule
        raise NotFoundError(f"no alert rule {rule_id}")

    def update(self, name: str, **changes: Any) -> Monitor:
        if changes.get("schema") is not None:
            changes["schema"] = validate_schema(changes["schema"])
        if changes.get("drift") is not None:
            drift_options(changes["drift"])
        for spec in changes.get("segments") or ():
            parse_segment(spec)
        self._forget(name)
        return self.store.update_monitor(name, **changes)

    def calibrate(self, name: str, calibration: Mapping[str, Any]) -> Monitor:
        """Keep a calibration for performance estimation (``stats.estimation``, fitted from a labelled
        reference by ``calibration_from_table``); it replaces the one kept. Every stored window is then
        estimated under it, from its histograms: nothing is re-read. (A regression's loss model applies to
        the batches ingested after it.)"""
        monitor = self.require(name)
        doc = check_calibration(calibration, monitor)
        self._forget(name)
        return self.store.update_monitor(name, calibration=doc)

    def calibrate_from(self, name: str, data: Any, *, label: str, prediction: str | None = None) -> Monitor:
        """Fit the calibration on reference rows with labels (``label``), predicted classes (the monitor's
        prediction column unless ``prediction``) and probabilities (``score`` or ``score_<class>``), and
        keep it: the one call for anything that replaces a monitor's reference with labelled rows."""
        monitor = self.require(name)
        doc = calibration_from_table(
            to_table(data),
            label=label,
            prediction=prediction or monitor.prediction,
            task=monitor.task,
            features=monitor.features,
        )
        return self.calibrate(name, doc)

    def _forget(self, name: str) -> None:
        monitor = self._cache.pop(name, None)
        if monitor is not None:
            self._prediction_kinds.pop((monitor.id, monitor.version), None)
            self._follower.forget(monitor.id)
            self._baseline.forget(monitor.id)

    def _following(self, name: str) -> Monitor:
        """The monitor, moved to the version its alias names now if the alias moved (never failing)."""
        monitor = self.get(name)
        current = self._follower.follow(monitor, now=self.clock())
        if current is not monitor:
            self._cache.pop(name, None)
            self._prediction_kinds.pop((monitor.id, monitor.version), None)  # the old version's
            if self._caching:
                self._cache[name] = current
        return current

    def _prediction_kind(self, monitor: Monitor) -> str:
        """The kind the prediction column is profiled as: the reference's when it has one, else the
        task's (class labels are categories, regression outputs numbers), so every window agrees."""
        key = (monitor.id, monitor.version)
        kind = self._prediction_kinds.get(key)
        if kind is None:
            kind = self._prediction_kinds[key] = output_kind(monitor)
        return kind

    def set_reference(
        self,
        name: str,
        *,
        reference: DatasetProfile | None = None,
        source: str | None = None,
        run_id: str | None = None,
    ) -> Monitor:
        """Replace the monitor's reference with ``reference`` (``source`` says where it came from, e.g.
        ``file ref.parquet``) or with the profile of a dataset run ``run_id`` logged, and compute the kept
        figures again (``monitoring/reference.py``)."""
        if (reference is None) == (run_id is None):
            raise InvalidInputError("give exactly one of a reference and a run", field="reference")
        monitor = self.store.get_monitor(name)
        if run_id is not None:
            reference, source = run_reference(self.runs, run_id, monitor)
        assert reference is not None
        self._forget(name)
        updated = replace_reference(
            self.store,
            monitor,
            reference,
            source or "given",
            baseline=self._baseline,
            after=self._after_ingest,
        )
        self._forget(name)
        return updated

    def delete(self, name: str) -> None:
        """Delete the monitor, and its raw batches' lake folder (a new monitor of the name starts empty)."""
        self._forget(name)
        self.store.delete_monitor(name)
        self.blobs.remove_named(lake_folder(name))

    def lake_url(self, name: str) -> str:
        """Where the monitor's raw batches lie as Hive-partitioned Parquet (``monitoring/raw.py``), for
        Spark, DuckDB or pyarrow to read: ``…/lake/monitor=<name>`` (its ``day=…`` folders below)."""
        return self.blobs.url(lake_folder(self.require(name).name))

    # -- ingestion --------------------------------------------------------------------------------------
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

    def report(
        self,
        monitor: Monitor | str,
        *,
        granularity: str | None = None,
        since: float | None = None,
        until: float | None = None,
        segments: bool = True,
        distributions: bool = True,
    ) -> dict[str, Any]:
        """The report of the period from the kept window figures (``monitoring/report.py``); a monitor
        given by name is read afresh (another process may have moved it). ``segments`` and
        ``distributions`` False leave those sections out (not computed)."""
        if isinstance(monitor, str):
            monitor = self.store.get_monitor(monitor)
        return build_report(
            self.store,
            monitor,
            granularity=granularity,
            since=since,
            until=until,
            include_segments=segments,
            distributions=distributions,
        )

    def labelled_performance(
        self, name: str, *, segment: str = "", since: float | None = None, until: float | None = None
    ) -> dict[str, float]:
        """Realized performance from the labels of the predictions of one segment (``""``: all traffic)
        in the windows overlapping [since, until): the report's figures for it (``labeled`` the count).
        Windows are the monitor's (an hour or a day), so the period is widened to whole windows."""
        monitor = self.get(name)
        width = GRANULARITIES[monitor.granularity]
        start = None if since is None else math.floor(since / width) * width
        windows = self.store.list_windows(
            monitor.id, monitor.granularity, segment=segment, since=start, until=until, profiles=False
        )
        acc: dict[str, Any] = {}
        for window in windows:
            acc = merge_accumulators(acc, window.performance)
        return metrics_from(acc, monitor.task)

    def last_window(self, monitor: Monitor) -> float | None:
        """The start of the monitor's last window that received traffic (None before any)."""
        newest = max((b.max_time for b in self.store.list_prediction_batches(monitor.id)), default=None)
        if newest is None:
            return None
        width = GRANULARITIES[monitor.granularity]
        return math.floor(newest / width) * width

    def read_raw(
        self,
        name: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        """The raw rows kept for [since, until) (drill-down), oldest batch first, read back from their
        Parquet blobs; only until ``limit`` rows are in hand. Batches whose columns have types no common
        type holds (numbers in one, lists in another) cannot be one table: ``raw_rows`` reads those."""
        tables = raw_tables(self.store, self.blobs, self.get(name), since, until, limit)
        if not tables:
            return pa.table({})
        table = pa.concat_tables(tables, promote_options="permissive")
        return table if limit is None else table.slice(0, limit)

    def raw_rows(
        self,
        name: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """``read_raw`` as one dict per row, for batches of any schema."""
        rows: list[dict[str, Any]] = []
        for table in raw_tables(self.store, self.blobs, self.get(name), since, until, limit):
            rows.extend(table.to_pylist())
        return rows if limit is None else rows[:limit]

    # -- delayed labels ---------------------------------------------------------------------------------
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

    def require(self, name: str) -> Monitor:
        try:
            return self.get(name)
        except NotFoundError:
            raise NotFoundError(f"no monitor {name!r}") from None


def _merged(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if a is None or b is None:
        return a if b is None else b
    return merge_estimation(a, b)
