"""The storage interface of production monitoring, part of ``Store``: monitors, windows, predictions and
labels, raw-batch index, alert rules and alerts. Every method is one transaction."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mltrail.entities import (
    Alert,
    AlertNotification,
    AlertRule,
    Monitor,
    MonitorWindow,
    PredictionBatch,
)

__all__ = ["LabelMatch", "MonitorStore", "PredictionRow", "SegmentReferences", "WindowDelta"]


@dataclass(frozen=True, slots=True)
class WindowDelta:
    """What one batch adds to one window of one segment."""

    segment: str
    granularity: str
    start: float
    rows: int
    profile: bytes
    violations: Mapping[str, int]
    # what performance estimation keeps (probability histograms, or loss sums: services/monitoring/
    # estimation.py), merged by merge_windows' ``merge_estimation``; None when the batch adds nothing
    estimation: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SegmentReferences:
    """The reference's own profile of each segment, built when the monitor was created from reference rows.

    ``specs``: the segment specs (``country``, ``age < 25``) the reference rows were split by; a segment of
    one of them that ``profiles`` lacks was not in the reference (a new segment). ``profiles``: segment
    name → its profile's bytes, or None for a value in the reference too rare to keep its own profile."""

    specs: frozenset[str] = frozenset()
    profiles: Mapping[str, bytes | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PredictionRow:
    """One prediction kept for the label join: its request id, time and output."""

    request_id: str
    time: float
    score: float | None  # a regression value or the positive class's probability
    predicted: str | None  # a class label
    segments: tuple[str, ...] = ()  # the segments it fell in (``country=DE``, ``age < 25``)


@dataclass(frozen=True, slots=True)
class LabelMatch:
    request_id: str
    time: float
    score: float | None
    predicted: str | None
    label: str | None
    label_value: float | None
    segments: tuple[str, ...] = ()  # the prediction's segments: the label counts in their windows too


class MonitorStore(abc.ABC):
    # -- monitors ----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_monitor(
        self,
        *,
        name: str,
        project: str,
        model: str | None,
        version: int | None,
        run_id: str | None,
        features: Sequence[str],
        prediction: str,
        task: str,
        granularity: str,
        segments: Sequence[str],
        schema: Mapping[str, Any],
        drift: Mapping[str, Any],
        training_metrics: Mapping[str, float],
        reference: bytes,
        reference_source: str,
        created_at: float,
        created_by: str | None,
        alias: str | None = None,
        segment_references: SegmentReferences | None = None,
        calibration: Mapping[str, Any] | None = None,
    ) -> Monitor:
        """A new monitor (its project is created if new); a monitor of that name: ConflictError. Its
        version history starts with ``version`` (when given) since ``created_at``; ``alias`` is the alias or
        stage it follows; ``segment_references`` the reference's profile of each segment, kept with it;
        ``calibration`` the performance estimation's calibration (JSON), kept in its config."""

    @abc.abstractmethod
    def get_segment_references(
        self, monitor_id: int, segments: Sequence[str] | None = None
    ) -> SegmentReferences:
        """The segment references kept with the monitor (empty when it was created without): every spec,
        and the profiles of ``segments`` only when given (a batch touches a few of them)."""

    @abc.abstractmethod
    def get_monitor(self, name: str) -> Monitor: ...

    @abc.abstractmethod
    def list_monitors(self, *, projects: Sequence[str] | None = None) -> list[Monitor]: ...

    @abc.abstractmethod
    def update_monitor(
        self,
        name: str,
        *,
        schema: Mapping[str, Any] | None = None,
        drift: Mapping[str, Any] | None = None,
        segments: Sequence[str] | None = None,
        reference: bytes | None = None,
        reference_source: str | None = None,
        calibration: Mapping[str, Any] | None = None,
    ) -> Monitor:
        """Change what is given; ``calibration`` (a JSON document, ``stats.estimation``) replaces the one
        kept, an empty mapping removes it."""

    @abc.abstractmethod
    def rebind_monitor(
        self,
        name: str,
        *,
        expected_version: int | None,
        version: int,
        run_id: str | None,
        training_metrics: Mapping[str, float],
        since: float,
        reference: bytes | None = None,
        reference_source: str | None = None,
    ) -> tuple[Monitor, bool]:
        """Move a monitor following an alias from ``expected_version`` to ``version`` (its run, training
        metrics and, when given, reference with its source; else the reference and source stay) and append
        the history entry, under a lock on the monitor. When
        it is no longer at ``expected_version`` (another process moved it), nothing changes. The monitor as
        it is now, and True when this call moved it."""

    @abc.abstractmethod
    def replace_reference(
        self,
        name: str,
        *,
        reference: bytes,
        reference_source: str,
        segment_references: SegmentReferences | None,
    ) -> Monitor:
        """Replace the monitor's reference profile, its source (also on the current version's history
        entry) and its segment references (none kept when None), and forget every window's kept figures
        (computed against the old reference), in one transaction under a lock on the monitor."""

    @abc.abstractmethod
    def delete_monitor(self, name: str) -> None:
        """Delete the monitor with its windows, predictions, raw-batch index, alert rules and alerts (the
        Parquet blobs are content-addressed and may be shared; they are not deleted here)."""

    # -- windows -----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def merge_windows(
        self,
        monitor_id: int,
        deltas: Sequence[WindowDelta],
        merge: Callable[[bytes, bytes], bytes],
        *,
        now: float,
        batch_key: str | None = None,
        merge_estimation: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]] | None = None,
    ) -> bool:
        """Add each delta to its window (created when new), under a lock on the window rows, so concurrent
        ingesters never lose a batch: ``merge(stored, delta)`` combines two profiles, ``merge_estimation``
        two estimation accumulators (a delta's ``estimation`` is kept only with it). With ``batch_key``
        (a client's idempotency key) the key is recorded in the same transaction, and a key seen before
        (kept a week) merges nothing: False. True when the deltas were merged."""

    @abc.abstractmethod
    def add_performance(
        self,
        monitor_id: int,
        updates: Mapping[str, Mapping[tuple[str, float], Mapping[str, Any]]],
        merge: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]],
        *,
        now: float,
        batch_key: str | None = None,
    ) -> bool:
        """Merge performance accumulators into the windows keyed granularity → ``(segment, start)``
        (``""``: all traffic), in one transaction; a window that was never profiled is skipped. The
        windows' ``updated_at`` stays (their profiles, and so their kept drift figures, are unchanged).
        ``batch_key`` as for ``merge_windows`` (the same keys: one key names one call of either): a key
        seen before merges nothing, False. True when the accumulators were merged."""

    @abc.abstractmethod
    def set_window_figures(
        self,
        monitor_id: int,
        granularity: str,
        segment: str,
        start: float,
        figures: Mapping[str, Any],
        *,
        computed_for: float,
    ) -> bool:
        """Keep a window's drift figures, computed from its profile as of ``updated_at == computed_for``;
        False (nothing written) when the window changed meanwhile."""

    @abc.abstractmethod
    def list_windows(
        self,
        monitor_id: int,
        granularity: str,
        *,
        segment: str | None = "",
        since: float | None = None,
        until: float | None = None,
        profiles: bool = True,
    ) -> list[MonitorWindow]:
        """Windows oldest first; ``segment=None`` for every segment. ``profiles=False`` leaves each window's
        profile out (empty bytes): what reads kept figures and accumulators only needs."""

    # -- predictions, labels and raw batches -------------------------------------------------------------
    @abc.abstractmethod
    def record_predictions(self, monitor_id: int, rows: Sequence[PredictionRow]) -> int:
        """Keep predictions for the label join; a request id seen before keeps its first prediction.
        Returns how many were new."""

    @abc.abstractmethod
    def match_labels(
        self, monitor_id: int, labels: Sequence[tuple[str, str | None, float | None]], *, now: float
    ) -> tuple[list[LabelMatch], int]:
        """Attach labels ``(request_id, label, label_value)`` to their predictions. Returns the matches
        that were not labeled before, and how many ids matched no prediction (added to the monitor's
        ``unmatched_labels``). A label for an already labeled id replaces it and is not returned."""

    @abc.abstractmethod
    def add_prediction_batch(self, batch: PredictionBatch) -> None: ...

    @abc.abstractmethod
    def list_prediction_batches(
        self, monitor_id: int, *, since: float | None = None, until: float | None = None
    ) -> list[PredictionBatch]: ...

    # -- alerts ------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_alert_rule(
        self,
        *,
        monitor_id: int,
        metric: str,
        feature: str | None,
        segment: str | None,
        comparator: str,
        threshold: float,
        for_windows: int,
        channels: Sequence[str],
        created_at: float,
        created_by: str | None,
        action: str | None = None,
    ) -> AlertRule: ...

    @abc.abstractmethod
    def list_alert_rules(self, monitor_id: int) -> list[AlertRule]:
        """Active rules."""

    @abc.abstractmethod
    def delete_alert_rule(self, rule_id: int) -> None:
        """Deactivate it; its alerts are kept."""

    @abc.abstractmethod
    def raise_alert(
        self,
        rule: AlertRule,
        *,
        feature: str | None,
        segment: str | None,
        value: float,
        window_start: float,
        now: float,
        detail: str | None = None,
    ) -> tuple[Alert, bool]:
        """Open an alert, or update the one of (rule, feature, segment) that is not resolved (its
        ``detail`` replaced when one is given). True when a new alert was opened (only then should it
        notify)."""

    @abc.abstractmethod
    def resolve_alerts(
        self, rule_id: int, *, feature: str | None, segment: str | None, now: float
    ) -> list[Alert]:
        """Resolve the unresolved alert of (rule, feature, segment), if any; the alerts resolved."""

    @abc.abstractmethod
    def acknowledge_alert(self, alert_id: int, *, user: str | None, now: float) -> Alert:
        """Open → acknowledged; ConflictError for a resolved alert."""

    @abc.abstractmethod
    def get_alert(self, alert_id: int) -> Alert: ...

    @abc.abstractmethod
    def list_alerts(
        self, *, monitor_id: int | None = None, state: str | None = None, limit: int = 100
    ) -> list[Alert]:
        """Alerts newest first."""

    @abc.abstractmethod
    def record_alert_notification(self, notification: AlertNotification) -> None: ...

    @abc.abstractmethod
    def list_alert_notifications(self, alert_id: int) -> list[AlertNotification]: ...
