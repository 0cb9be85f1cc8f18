"""What the monitoring routes share: the caller's role on a monitor's project, and who acts.

A monitor (or its rules and alerts) whose project the caller has the role ``none`` on raises the very
``NotFoundError`` a missing one raises; a visible one with too low a role is 403 ``PermissionDeniedError``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from mltrail.api.access import Access, AccessDep
from mltrail.api.deps import AlertsDep, MonitoringDep, RegistryDep, TrackingDep
from mltrail.entities import Alert, AlertRule, Monitor, RegisteredModel, Role
from mltrail.errors import NotFoundError
from mltrail.services.monitoring.alerts import AlertService
from mltrail.services.monitoring.service import MonitoringService
from mltrail.services.registry.service import RegistryService
from mltrail.services.tracking.service import TrackingService

__all__ = ["MonitorAccess", "MonitorAccessDep"]


class MonitorAccess:
    """The current principal's permissions on monitors, for one request."""

    def __init__(
        self,
        access: Access,
        monitoring: MonitoringService,
        alerts: AlertService,
        registry: RegistryService,
        tracking: TrackingService,
    ) -> None:
        self.access = access
        self.monitoring = monitoring
        self.alerts = alerts
        self.registry = registry
        self._tracking = tracking

    def monitor(self, name: str, minimum: Role) -> Monitor:
        """The monitor, after checking the principal's role on its project."""
        monitor = self.monitoring.get(name)
        self.access.project(monitor.project, minimum, NotFoundError(f"no monitor {name!r}"))
        return monitor

    def model(self, name: str, minimum: Role) -> RegisteredModel:
        """The registered model a new monitor watches, after the check on its project."""
        model = self.registry.get_model(name)
        self.access.project(model.project, minimum, NotFoundError(f"no registered model {name!r}"))
        return model

    def rule(self, rule_id: int, minimum: Role) -> tuple[Monitor, AlertRule]:
        monitor, rule = self.monitoring.find_rule(rule_id)
        self.access.project(monitor.project, minimum, NotFoundError(f"no alert rule {rule_id}"))
        return monitor, rule

    def alert(self, alert_id: int, minimum: Role) -> tuple[Monitor, Alert]:
        alert = self.alerts.get(alert_id)
        monitor = self.monitoring.get_by_id(alert.monitor_id)
        self.access.project(monitor.project, minimum, NotFoundError(f"no alert {alert_id}"))
        return monitor, alert

    def visible_projects(self) -> list[str] | None:
        """The projects the principal may view (None: every project)."""
        return self.access.visible_names(self._tracking)

    def actor(self, user: str | None) -> str | None:
        """Who acts: the authenticated user; without authentication the body's ``user`` (or nobody)."""
        if self.access.principal.anonymous:
            name = (user or "").strip() or None
            if name is not None and self.access.note is not None:
                self.access.note.user = name
            return name
        return self.access.principal.name


async def _monitor_access(
    access: AccessDep,
    monitoring: MonitoringDep,
    alerts: AlertsDep,
    registry: RegistryDep,
    tracking: TrackingDep,
) -> MonitorAccess:
    # async: no I/O here, so no worker-thread hop
    return MonitorAccess(access, monitoring, alerts, registry, tracking)


MonitorAccessDep = Annotated[MonitorAccess, Depends(_monitor_access)]
