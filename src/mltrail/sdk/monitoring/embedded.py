"""``InProcessMonitoring``: the monitoring services over this process's embedded store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from mltrail.entities import Alert, AlertRule, Monitor
from mltrail.notify import parse_channel
from mltrail.render.html_report import render_report_html
from mltrail.sdk.monitoring.client import (
    AlertDetail,
    IngestOutcome,
    MonitorSummary,
    PerformanceOutcome,
    WindowTarget,
    alerts_of_period,
)
from mltrail.services.container import Services
from mltrail.services.monitoring.alerts import report_alert
from mltrail.services.monitoring.alias import followed_alias
from mltrail.services.monitoring.service import IngestResult
from mltrail.stats.profile import DatasetProfile

__all__ = ["InProcessMonitoring"]


def validate_channel(spec: str) -> None:
    parse_channel(spec)


def _outcome(done: IngestResult) -> IngestOutcome:
    return IngestOutcome(done.rows, tuple(done.windows), dict(done.violations), done.duplicate)


def _at(window: WindowTarget) -> dict[str, Any]:
    """The service's keywords for ``window``: its start, granularity and idempotency key."""
    return {"window_start": window.window_start, "granularity": window.granularity, "batch_key": window.key}


class InProcessMonitoring:
    """The embedded monitors: the services over the serving process's own store."""

    max_batch_bytes: int | None = None

    def __init__(
        self, services: Services, where: str = "the embedded store", user: str | None = None
    ) -> None:
        self.services = services
        self.where = where
        self.user = user

    def as_user(self, user: str | None) -> InProcessMonitoring:
        return InProcessMonitoring(self.services, self.where, user)

    def get(self, name: str) -> Monitor:
        return self.services.monitoring.get(name)

    def monitors(self) -> list[Monitor]:
        return self.services.monitoring.list_monitors()

    def summaries(self) -> list[MonitorSummary]:
        monitoring, alerts = self.services.monitoring, self.services.alerts
        return [
            MonitorSummary(m, monitoring.last_window(m), len(alerts.list(m, state="open", limit=1000)))
            for m in monitoring.list_monitors()
        ]

    def create(
        self,
        name: str,
        ref: str,
        *,
        reference: DatasetProfile | None,
        features: Sequence[str] | None,
        prediction: str,
        task: str,
        granularity: str,
        segments: Sequence[str],
        drift: Mapping[str, Any] | None,
        reference_source: str | None = None,
        calibration: Mapping[str, Any] | None = None,
    ) -> Monitor:
        version = self.services.registry.resolve(ref)
        monitor = self.services.monitoring.create_for_version(
            name,
            model=version.model,
            version=version.version,
            run_id=version.run_id,
            signature=version.signature,
            reference=reference,
            features=list(features) if features else None,
            prediction=prediction,
            task=task,
            granularity=granularity,
            segments=list(segments),
            drift=None if drift is None else dict(drift),
            alias=followed_alias(ref),
            created_by=self.user,
            calibration=calibration,
        )
        if reference is not None and reference_source:
            monitor = self.services.monitoring.update(monitor.name, reference_source=reference_source)
        return monitor

    def calibrate(self, name: str, calibration: Mapping[str, Any]) -> Monitor:
        return self.services.monitoring.calibrate(name, calibration)

    def set_reference(
        self,
        name: str,
        *,
        reference: DatasetProfile | None = None,
        run: str | None = None,
        reference_source: str | None = None,
    ) -> Monitor:
        run_id = None if run is None else self.services.tracking.resolve_run(run.strip(), None)
        source = reference_source or (None if reference is None else f"given by {self.user or 'a client'}")
        return self.services.monitoring.set_reference(name, reference=reference, source=source, run_id=run_id)

    def delete(self, name: str) -> None:
        self.services.monitoring.delete(name)

    def ingest(self, name: str, table: pa.Table, key: str | None = None) -> int:
        return self.services.monitoring.ingest(name, table, batch_key=key).rows

    def ingest_batch(self, name: str, table: pa.Table, key: str | None = None) -> IngestOutcome:
        return _outcome(self.services.monitoring.ingest(name, table, batch_key=key))

    def log_profile(
        self, name: str, profile: DatasetProfile, window: WindowTarget, segment: str = ""
    ) -> IngestOutcome:
        return _outcome(self.services.monitoring.log_profile(name, profile, segment=segment, **_at(window)))

    def log_performance(
        self, name: str, accumulators: Mapping[str, Mapping[str, Any]], window: WindowTarget
    ) -> PerformanceOutcome:
        done = self.services.monitoring.log_performance(name, accumulators, **_at(window))
        return PerformanceOutcome(tuple(done.windows), done.duplicate)

    def log_labels(self, name: str, ids: Sequence[Any], labels: Sequence[Any]) -> tuple[int, int]:
        return self.services.monitoring.log_labels(name, list(ids), list(labels))

    def report(
        self, name: str, *, granularity: str | None, since: float | None, until: float | None
    ) -> dict[str, Any]:
        monitoring = self.services.monitoring
        report = monitoring.report(name, granularity=granularity, since=since, until=until)
        entity = monitoring.get(name)
        found = alerts_of_period(self.services.alerts.list(entity, limit=1000), since, until)
        report["alerts"] = [report_alert(a, entity) for a in found]
        return report

    def report_html(
        self, name: str, *, granularity: str | None, since: float | None, until: float | None
    ) -> str:
        return render_report_html(self.report(name, granularity=granularity, since=since, until=until))

    def add_rule(
        self,
        monitor: Monitor,
        *,
        metric: str,
        feature: str | None,
        segment: str | None,
        above: float | None,
        below: float | None,
        for_windows: int,
        notify: Sequence[str],
        action: str | None = None,
    ) -> AlertRule:
        return self.services.alerts.add_rule(
            monitor,
            metric=metric,
            feature=feature,
            segment=segment,
            above=above,
            below=below,
            for_windows=for_windows,
            notify=notify,
            created_by=self.user,
            validate_channel=validate_channel,
            action=action,
        )

    def raise_event(self, monitor: Monitor, metric: str, detail: str) -> Alert:
        return self.services.alerts.raise_event(monitor, metric=metric, detail=detail)[0]

    def alerts(self, monitor: Monitor, state: str | None) -> list[Alert]:
        return self.services.alerts.list(monitor, state=state)

    def rules(self, monitor: Monitor) -> list[AlertRule]:
        return self.services.alerts.rules(monitor)

    def delete_rule(self, rule_id: int) -> None:
        self.services.alerts.delete_rule(rule_id)

    def evaluate_rules(self, monitor: Monitor) -> list[Alert]:
        opened = self.services.alerts.evaluate_rules(monitor)
        self.services.alerts.flush()  # the notifications of what opened go out before the command ends
        return opened

    def list_alerts(self, monitor: Monitor | None, state: str | None, limit: int) -> list[Alert]:
        return self.services.alerts.list(monitor, state=state, limit=limit)

    def _detail(self, alert: Alert) -> AlertDetail:
        monitor = self.services.monitoring.get_by_id(alert.monitor_id)
        log = self.services.alerts.notifications(alert.id)
        return AlertDetail(alert, monitor, tuple(log))

    def alert(self, alert_id: int) -> AlertDetail:
        return self._detail(self.services.alerts.get(alert_id))

    def acknowledge(self, alert_id: int) -> AlertDetail:
        return self._detail(self.services.alerts.acknowledge(alert_id, self.user))

    def resolve(self, alert_id: int) -> AlertDetail:
        return self._detail(self.services.alerts.resolve(alert_id))

    def flush(self) -> None:
        self.services.alerts.flush()

    def close(self) -> None:
        """The services belong to the connection: only wait for this process's queued notifications."""
        self.services.alerts.flush()
