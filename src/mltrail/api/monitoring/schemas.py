"""Request and response bodies of the monitoring routes: monitors, ingestion, labels, reports, alerts."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from typing import Any, Literal

import numpy as np
from pydantic import Field, RootModel

from mltrail.api.tracking.schemas import JsonFloat, _In, _Out
from mltrail.entities import (
    Alert,
    AlertNotification,
    AlertRule,
    AlertState,
    Monitor,
    MonitorVersion,
)
from mltrail.errors import InvalidInputError
from mltrail.json_floats import encode_float
from mltrail.services.monitoring.alerts import redact_channel
from mltrail.services.monitoring.service import IngestResult
from mltrail.stats.profile import DatasetProfile

__all__ = [
    "AlertActionIn",
    "AlertDetailPublic",
    "AlertListPublic",
    "AlertNotificationPublic",
    "AlertPublic",
    "AlertRuleIn",
    "AlertRuleListPublic",
    "AlertRulePublic",
    "CalibrationIn",
    "IngestPublic",
    "LabelsIn",
    "LabelsPublic",
    "MonitorCreate",
    "MonitorListItemPublic",
    "MonitorListPublic",
    "MonitorPatch",
    "MonitorPublic",
    "MonitorVersionPublic",
    "PerformanceIn",
    "PerformancePublic",
    "PredictionsJsonIn",
    "ProfileIn",
    "RawRowsPublic",
    "ReferenceIn",
    "ReportPublic",
    "json_safe",
]

_USER = Field(
    None,
    max_length=200,
    description="who acts, without authentication (with it: the authenticated user, whatever this says)",
)
Label = str | int | float | bool | None


def json_safe(value: Any) -> Any:
    """A value JSON can hold, at any depth: non-finite floats as ``"NaN"``/``"Infinity"``/``"-Infinity"``
    (as everywhere in the API), numpy scalars and arrays as numbers and lists, times as ISO 8601 text,
    bytes as base64, anything else unknown as its text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return json_safe(float(value))
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


# -- monitors -----------------------------------------------------------------------------------------------
class MonitorCreate(_In):
    name: str = Field(description="the monitor's name, unique on the server (as a model name)")
    model: str = Field(
        description="the version watched: churn:3, or churn@champion / churn@production to follow that alias"
        " or stage to whichever version it names"
    )
    segments: list[str] = Field(
        default_factory=list, description="a column (one segment per value) or a condition such as age < 30"
    )
    granularity: Literal["day", "hour"] = "day"
    task: Literal["classification", "regression"] = "classification"
    features: list[str] | None = Field(None, description="the inputs watched (default: the signature's)")
    prediction: str = Field("prediction", description="the column holding the model's output")
    drift: dict[str, Any] | None = Field(None, description="drift options: thresholds, per-column tests")
    reference: str | None = Field(
        None,
        max_length=64 << 20,
        description="the reference profile (base64 of a DatasetProfile's bytes, as the SDK sends for"
        " reference=); default: the training dataset's profile from the version's run",
    )
    reference_source: str | None = Field(
        None, max_length=500, description="where the given reference came from, e.g. file reference.csv"
    )
    calibration: dict[str, Any] | None = Field(
        None,
        description="performance estimation's calibration (a CBPE document, or a DLE one for regression,"
        " fitted on labelled reference rows, as the SDK sends for reference= with label=); default: none",
    )
    user: str | None = _USER

    def reference_profile(self) -> DatasetProfile | None:
        """The given reference, once it decodes and parses (else a 400 naming ``reference``)."""
        return _profile_of(self.reference)


def _profile_of(text: str | None) -> DatasetProfile | None:
    if text is None:
        return None
    try:
        return DatasetProfile.from_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, KeyError, AttributeError, RuntimeError) as exc:
        raise InvalidInputError(f"reference is not a dataset profile: {exc}", field="reference") from exc


class MonitorPatch(_In):
    """What is given replaces the monitor's: validation rules, drift options, segments."""

    schema_: dict[str, Any] | None = Field(None, alias="schema", description="validation rules per column")
    drift: dict[str, Any] | None = None
    segments: list[str] | None = None


class CalibrationIn(_In):
    """A calibration for performance estimation, fitted on a labelled reference: for a classifier
    (``stats/estimation.py``) ``method`` cbpe, ``version``, ``kind``, ``bins``, ``rows``, ``sd`` and one entry
    per probability column in ``classes`` (its ``column``, ``class``, bin ``map`` and ``sd``); for a
    regression (``stats/loss_estimation.py``) ``method`` dle, ``inputs``, ``sd`` and two tree ensembles."""

    calibration: dict[str, Any]


class ReferenceIn(_In):
    """A new reference for the monitor: exactly one of ``reference`` (a profile, as the SDK and CLI send
    for a file) and ``run`` (a run whose logged dataset is profiled: one holding the output first)."""

    reference: str | None = Field(
        None, max_length=64 << 20, description="base64 of a DatasetProfile's bytes (as for a new monitor)"
    )
    run: str | None = Field(
        None, max_length=200, description="the run that logged the dataset: its id, a unique prefix or name"
    )
    reference_source: str | None = Field(
        None, max_length=500, description="where the given reference came from, e.g. file reference.csv"
    )
    user: str | None = _USER

    def reference_profile(self) -> DatasetProfile | None:
        """The given reference, once it decodes and parses (else a 400 naming ``reference``)."""
        return _profile_of(self.reference)


class MonitorVersionPublic(_Out):
    """A version the monitor watched from ``since`` until the next entry's."""

    version: int
    run_id: str | None
    since: JsonFloat
    reference_source: str

    @classmethod
    def of(cls, v: MonitorVersion) -> MonitorVersionPublic:
        return cls(version=v.version, run_id=v.run_id, since=v.since, reference_source=v.reference_source)


class MonitorPublic(_Out):
    """A monitor's configuration, never its reference profile (only where it came from). ``alias``: the
    alias or stage it follows (``production`` for ``churn@production``), else null; ``versions``: the
    versions it watched, oldest first."""

    id: int
    name: str
    project: str
    model: str | None
    version: int | None
    run_id: str | None
    alias: str | None
    versions: list[MonitorVersionPublic]
    features: list[str]
    prediction: str
    task: str
    granularity: str
    segments: list[str]
    schema_: dict[str, Any] = Field(alias="schema")
    drift: dict[str, Any]
    training_metrics: dict[str, JsonFloat]
    reference_source: str
    created_at: JsonFloat
    created_by: str | None
    unmatched_labels: int
    calibration: dict[str, Any] | None = Field(
        None, description="performance estimation's calibration (null: not calibrated)"
    )

    @classmethod
    def of(cls, m: Monitor) -> MonitorPublic:
        return cls(
            id=m.id,
            name=m.name,
            project=m.project,
            model=m.model,
            version=m.version,
            run_id=m.run_id,
            alias=m.alias,
            versions=[MonitorVersionPublic.of(v) for v in m.versions],
            features=list(m.features),
            prediction=m.prediction,
            task=m.task,
            granularity=m.granularity,
            segments=list(m.segments),
            schema=json_safe(m.schema),
            drift=json_safe(m.drift),
            training_metrics=dict(m.training_metrics),
            reference_source=m.reference_source,
            created_at=m.created_at,
            created_by=m.created_by,
            unmatched_labels=m.unmatched_labels,
            calibration=None if m.calibration is None else json_safe(m.calibration),
        )


class MonitorListItemPublic(MonitorPublic):
    """A monitor in a listing: ``last_window`` is the start of the last window that received traffic (null
    before any), ``open_alerts`` how many of its alerts are open."""

    last_window: JsonFloat | None = None
    open_alerts: int = 0


class MonitorListPublic(_Out):
    monitors: list[MonitorListItemPublic]


# -- ingestion and labels -----------------------------------------------------------------------------------
class ProfileIn(_In):
    """A profile computed elsewhere (``mltrail.spark.profile``) for one window: base64 of a DatasetProfile's
    bytes; ``granularity`` its window (default the monitor's), ``segment`` a segment name when the whole
    profile is that segment's (else its own segments' profiles go into their segment windows)."""

    profile: str = Field(max_length=64 << 20, description="base64 of a DatasetProfile's bytes")
    window_start: float = Field(description="epoch seconds of the start of the profile's UTC hour or day")
    granularity: Literal["hour", "day"] | None = None
    segment: str = Field("", max_length=500)

    def dataset_profile(self) -> DatasetProfile:
        """The profile, once it decodes and parses (else a 400 naming ``profile``)."""
        try:
            return DatasetProfile.from_bytes(base64.b64decode(self.profile, validate=True))
        except (ValueError, TypeError, KeyError, AttributeError, RuntimeError) as exc:
            raise InvalidInputError(f"profile is not a dataset profile: {exc}", field="profile") from exc


class PerformanceIn(_In):
    """Performance accumulators computed elsewhere (``mltrail.spark.performance``): segment (``""`` for all
    traffic) → accumulator, for the window starting at ``window_start``."""

    accumulators: dict[str, dict[str, Any]] = Field(max_length=1000)
    window_start: float = Field(description="epoch seconds of the start of the UTC hour or day")
    granularity: Literal["hour", "day"] | None = None


class PerformancePublic(_Out):
    """``windows``: the starts of the monitor's windows the accumulators went into; ``duplicate``: the
    ``Idempotency-Key`` was seen before, so they were not merged again."""

    windows: list[JsonFloat]
    duplicate: bool = False


class PredictionsJsonIn(_In):
    """A JSON batch: exactly one of ``rows`` (one object per prediction) and ``columns`` (name → values)."""

    rows: list[dict[str, Any]] | None = None
    columns: dict[str, list[Any]] | None = None


class IngestPublic(_Out):
    """``windows``: the starts of the monitor's windows the batch touched; ``violations``: rows per broken
    validation rule; ``duplicate``: the ``Idempotency-Key`` was seen before, so the batch was not merged
    again."""

    rows: int
    windows: list[JsonFloat]
    violations: dict[str, int]
    duplicate: bool = False

    @classmethod
    def of(cls, r: IngestResult) -> IngestPublic:
        return cls(rows=r.rows, windows=list(r.windows), violations=dict(r.violations), duplicate=r.duplicate)


class LabelsIn(_In):
    """Delayed ground truth: ``labels[i]`` is the true outcome of the prediction with id ``ids[i]``."""

    ids: list[str | int] = Field(max_length=1_000_000)
    labels: list[Label] = Field(max_length=1_000_000)


class LabelsPublic(_Out):
    matched: int
    unknown: int


# -- reports and raw rows -----------------------------------------------------------------------------------
class ReportPublic(RootModel[dict[str, Any]]):
    """A monitoring report (``build_report``): free-form, non-finite floats as strings."""

    @classmethod
    def of(cls, report: dict[str, Any]) -> ReportPublic:
        return cls(json_safe(report))


class RawRowsPublic(_Out):
    """Raw predictions of the period, oldest batch first; ``truncated`` when more rows were there."""

    rows: list[dict[str, Any]]
    truncated: bool


# -- alert rules and alerts ---------------------------------------------------------------------------------
class AlertRuleIn(_In):
    """``metric`` (of ``feature``; ``*`` for each) above or below a threshold for ``for_windows`` windows."""

    metric: str = Field(description="e.g. drift.score, drift.psi, missing_rate, performance.accuracy, rows")
    feature: str | None = Field(None, max_length=500)
    segment: str | None = Field(None, max_length=500)
    above: JsonFloat | None = None
    below: JsonFloat | None = None
    for_windows: int = Field(1, description="consecutive windows (1–1000)")
    notify: list[str] = Field(
        default_factory=list, max_length=50, description="channels: webhook:URL, slack:URL, email:ADDR"
    )
    action: str | None = Field(
        None,
        max_length=200,
        description="rollback:DEPLOYMENT: roll it back when the alert opens (if its spec allows it)",
    )
    user: str | None = _USER


class AlertEventIn(_In):
    """An event alert on the monitor (a gateway's refused reload), with what happened in words."""

    metric: str = Field(description="an event metric: gateway.reload_failed")
    detail: str = Field(max_length=2000, description="what happened, e.g. the digest that did not match")


class AlertRulePublic(_Out):
    id: int
    monitor: str
    metric: str
    feature: str | None
    segment: str | None
    comparator: str
    threshold: JsonFloat
    for_windows: int
    channels: list[str]
    created_at: JsonFloat
    created_by: str | None
    active: bool
    action: str | None = None

    @classmethod
    def of(cls, r: AlertRule, monitor: Monitor) -> AlertRulePublic:
        return cls(
            id=r.id,
            monitor=monitor.name,
            metric=r.metric,
            feature=r.feature,
            segment=r.segment,
            comparator=r.comparator,
            threshold=r.threshold,
            for_windows=r.for_windows,
            channels=[redact_channel(c) for c in r.channels],
            created_at=r.created_at,
            created_by=r.created_by,
            active=r.active,
            action=r.action,
        )


class AlertRuleListPublic(_Out):
    rules: list[AlertRulePublic]


class AlertPublic(_Out):
    id: int
    rule_id: int
    monitor: str
    project: str
    metric: str
    feature: str | None
    segment: str | None
    state: AlertState
    value: JsonFloat
    comparator: str
    threshold: JsonFloat
    window_start: JsonFloat
    opened_at: JsonFloat
    updated_at: JsonFloat
    acknowledged_by: str | None
    resolved_at: JsonFloat | None
    detail: str | None = None

    @classmethod
    def of(cls, a: Alert, monitor: Monitor) -> AlertPublic:
        return cls(**_alert_fields(a, monitor))


def _alert_fields(a: Alert, monitor: Monitor) -> dict[str, Any]:
    return {
        "id": a.id,
        "rule_id": a.rule_id,
        "monitor": monitor.name,
        "project": monitor.project,
        "metric": a.metric,
        "feature": a.feature,
        "segment": a.segment,
        "state": a.state,
        "value": a.value,
        "comparator": a.comparator,
        "threshold": a.threshold,
        "window_start": a.window_start,
        "opened_at": a.opened_at,
        "updated_at": a.updated_at,
        "acknowledged_by": a.acknowledged_by,
        "resolved_at": a.resolved_at,
        "detail": a.detail,
    }


class AlertListPublic(_Out):
    alerts: list[AlertPublic]


class AlertNotificationPublic(_Out):
    channel: str
    time: JsonFloat
    ok: bool
    status_code: int | None
    error: str | None

    @classmethod
    def of(cls, n: AlertNotification) -> AlertNotificationPublic:
        return cls(channel=n.channel, time=n.time, ok=n.ok, status_code=n.status_code, error=n.error)


class AlertDetailPublic(AlertPublic):
    """The alert with the trail back: the model version its monitor watched when it opened, the run that
    trained it, and every notification sent about it."""

    model: str | None
    version: int | None
    run_id: str | None
    notifications: list[AlertNotificationPublic]

    @classmethod
    def of_detail(
        cls, a: Alert, monitor: Monitor, notifications: list[AlertNotification]
    ) -> AlertDetailPublic:
        version, run_id = monitor.binding_at(a.opened_at)  # the version watched when the alert opened
        return cls(
            **_alert_fields(a, monitor),
            model=monitor.model,
            version=version,
            run_id=run_id,
            notifications=[AlertNotificationPublic.of(n) for n in notifications],
        )


class AlertActionIn(_In):
    user: str | None = _USER
