"""Production monitoring's entities: monitors, their time windows, alert rules and alerts.

Frozen dataclasses the store returns (profiles travel as the bytes of ``stats.DatasetProfile``: the store
never interprets them).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ALERT_METRICS",
    "EVENT_METRICS",
    "GRANULARITIES",
    "Alert",
    "AlertNotification",
    "AlertRule",
    "AlertState",
    "Monitor",
    "MonitorVersion",
    "MonitorWindow",
    "PredictionBatch",
]

GRANULARITIES = {"hour": 3600.0, "day": 86400.0}
# The figures an alert rule can watch (docs/MONITORING.md). ``drift.*`` and ``missing_rate`` are per feature
# (``*`` for every one, ``prediction`` for the model output); ``performance.*`` need delayed labels;
# ``estimated.*`` are estimated before labels and need a calibration (CBPE for classifiers, DLE for
# regression: services/monitoring/estimation.py).
ALERT_METRICS = (
    "drift.score",
    "drift.psi",
    "drift.ks",
    "drift.js",
    "drift.wasserstein",
    "drift.chi2",
    "drift.share",
    "missing_rate",
    "missing_rate.delta",
    "validation.violations",
    "performance.accuracy",
    "performance.precision",
    "performance.recall",
    "performance.f1",
    "performance.roc_auc",
    "performance.log_loss",
    "performance.mae",
    "performance.rmse",
    "performance.r2",
    "estimated.accuracy",
    "estimated.precision",
    "estimated.recall",
    "estimated.f1",
    "estimated.roc_auc",
    "estimated.mae",
    "estimated.rmse",
    "rows",
    "gateway.reload_failed",
)
# Raised by an event, not computed from windows: a gateway refused a new spec or model version (a missing
# model, a blob whose digest does not match). A rule of it is created on first use; add one with channels
# to be told.
EVENT_METRICS = ("gateway.reload_failed",)


@dataclass(frozen=True, slots=True)
class MonitorVersion:
    """One model version a monitor watched, from ``since`` (epoch seconds) until the next entry's."""

    version: int
    run_id: str | None
    since: float
    reference_source: str


@dataclass(frozen=True, slots=True)
class Monitor:
    """What is watched: a model version's inputs (``features``), output (``prediction``) and, once labels
    arrive, its performance; against ``reference`` (the profile of its training data by default), per
    ``segments`` too, in windows of ``granularity``.

    A monitor created from ``churn@production`` or ``churn@champion`` follows that stage or alias
    (``alias``): when it names another version, the monitor moves to it, and ``versions`` keeps every
    version it watched, oldest first (one entry for a monitor of a fixed version, none without a model).
    """

    id: int
    name: str
    project: str
    model: str | None
    version: int | None
    run_id: str | None
    features: tuple[str, ...]
    prediction: str
    task: str  # classification | regression
    granularity: str
    segments: tuple[str, ...]
    schema: dict[str, Any]  # validation rules per column (services/monitor_validation.py)
    drift: dict[str, Any]  # drift options (thresholds, per-column tests)
    training_metrics: dict[str, float]
    reference: bytes  # stats.DatasetProfile.to_bytes()
    reference_source: str
    created_at: float
    created_by: str | None = None
    unmatched_labels: int = 0
    alias: str | None = None  # the alias or stage followed (the part of the reference after "@")
    versions: tuple[MonitorVersion, ...] = ()
    # performance estimation's calibration, fitted on a labelled reference (JSON, ``stats.estimation``)
    calibration: dict[str, Any] | None = None

    def binding_at(self, when: float) -> tuple[int | None, str | None]:
        """(version, run id) the monitor watched at ``when``: the newest entry of ``versions`` since then
        (the first one before it began), else the current binding."""
        chosen = next((v for v in reversed(self.versions) if v.since <= when), None)
        if chosen is None and self.versions:
            chosen = self.versions[0]
        if chosen is None or chosen.version == self.version:
            return self.version, self.run_id
        return chosen.version, chosen.run_id


@dataclass(frozen=True, slots=True)
class MonitorWindow:
    """One time window of one segment (``""`` is all traffic): the merged profile of its rows, the
    validation violations counted per rule, and performance accumulators once labels arrived."""

    monitor_id: int
    segment: str
    granularity: str
    start: float
    rows: int
    profile: bytes
    violations: dict[str, int] = field(default_factory=dict)
    performance: dict[str, Any] = field(default_factory=dict)
    updated_at: float = 0.0
    # what performance is estimated from before labels: probability histograms or loss sums (estimation.py)
    estimation: dict[str, Any] = field(default_factory=dict)
    # The window's drift against the reference, computed once after it last changed (``figures_at`` is the
    # ``updated_at`` it was computed for), so reports and alert rules do not re-test every window.
    figures: dict[str, Any] | None = None
    figures_at: float | None = None

    @property
    def fresh_figures(self) -> dict[str, Any] | None:
        return self.figures if self.figures_at is not None and self.figures_at == self.updated_at else None


@dataclass(frozen=True, slots=True)
class PredictionBatch:
    """One ingested batch kept as Parquet in the blob store (partitioned by day for drill-down)."""

    monitor_id: int
    day: str
    digest: str
    rows: int
    min_time: float
    max_time: float
    created_at: float


class AlertState(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class AlertRule:
    """``metric`` of ``feature`` (``*``: each feature) in ``segment`` (None: all traffic) compared with
    ``threshold`` (``above`` or ``below``) for ``for_windows`` consecutive windows raises an alert."""

    id: int
    monitor_id: int
    metric: str
    feature: str | None
    segment: str | None
    comparator: str
    threshold: float
    for_windows: int
    channels: tuple[str, ...]
    created_at: float
    created_by: str | None = None
    active: bool = True
    action: str | None = None  # "rollback:DEPLOYMENT": done when the rule's alert opens


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert of one rule on one feature and segment. At most one is not resolved at a time per
    (rule, feature, segment): a rule that keeps firing updates it instead of opening another."""

    id: int
    rule_id: int
    monitor_id: int
    metric: str
    feature: str | None
    segment: str | None
    state: AlertState
    value: float
    threshold: float
    comparator: str
    window_start: float
    opened_at: float
    updated_at: float
    acknowledged_by: str | None = None
    resolved_at: float | None = None
    detail: str | None = None  # what happened, for an alert raised by an event (a refused reload)


@dataclass(frozen=True, slots=True)
class AlertNotification:
    alert_id: int
    channel: str
    time: float
    ok: bool
    status_code: int | None = None
    error: str | None = None
