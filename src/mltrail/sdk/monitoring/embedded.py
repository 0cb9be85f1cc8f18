"""``InProcessMonitoring``: the monitoring services over this process's embedded store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from mltrail.entities import Alert, AlertRule, Monitor
from mltrail.notify import parse_channel
from mltrail.render.html_report import render_report_html
from mltrail.services.container import Services
from mltrail.services.monitoring.alias import followed_alias
from mltrail.stats.profile import DatasetProfile

__all__ = ["InProcessMonitoring"]


def validate_channel(spec: str) -> None:
    parse_channel(spec)


class InProcessMonitoring:
    """The embedded monitors: the services over the serving process's own store."""

    max_batch_bytes: int | None = None

    def __init__(
        self, services: Services, where: str = "the embedded store", user: str | None = None
    ) -> None:
        self.services = services
        self.where = where
        self.user = user

    def get(self, name: str) -> Monitor:
        return self.services.monitoring.get(name)

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
    ) -> Monitor:
        version = self.services.registry.resolve(ref)
        return self.services.monitoring.create_for_version(
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
        )

    def ingest(self, name: str, table: pa.Table, key: str | None = None) -> int:
        return self.services.monitoring.ingest(name, table, batch_key=key).rows

    def log_labels(self, name: str, ids: Sequence[Any], labels: Sequence[Any]) -> tuple[int, int]:
        return self.services.monitoring.log_labels(name, list(ids), list(labels))

    def report(
        self, name: str, *, granularity: str | None, since: float | None, until: float | None
    ) -> dict[str, Any]:
        return self.services.monitoring.report(name, granularity=granularity, since=since, until=until)

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
        )

    def alerts(self, monitor: Monitor, state: str | None) -> list[Alert]:
        return self.services.alerts.list(monitor, state=state)

    def flush(self) -> None:
        self.services.alerts.flush()

    def close(self) -> None:
        """The services belong to the connection: only wait for this process's queued notifications."""
        self.services.alerts.flush()
