"""Alert rules of a monitor (``/monitors/{name}/alert-rules``, ``/alert-rules/{id}``) and alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from mltrail.api.monitoring.access import MonitorAccessDep
from mltrail.api.monitoring.schemas import (
    AlertActionIn,
    AlertDetailPublic,
    AlertEventIn,
    AlertListPublic,
    AlertPublic,
    AlertRuleIn,
    AlertRuleListPublic,
    AlertRulePublic,
)
from mltrail.api.tracking.schemas import INT64_MAX
from mltrail.entities import AlertState, Role
from mltrail.notify import parse_channel

__all__ = ["router"]

router = APIRouter(tags=["monitoring"])
RuleId = Annotated[int, Path(ge=1, le=INT64_MAX, description="the alert rule's id")]
AlertId = Annotated[int, Path(ge=1, le=INT64_MAX, description="the alert's id")]
NO_CONTENT = status.HTTP_204_NO_CONTENT
AlertLimit = Annotated[int, Query(ge=1, le=1000)]


def _validate_channel(spec: str) -> None:
    parse_channel(spec)


@router.post("/monitors/{name}/alert-rules", status_code=status.HTTP_201_CREATED)
def create_alert_rule(name: str, body: AlertRuleIn, ma: MonitorAccessDep) -> AlertRulePublic:
    """A rule on one of the monitor's figures (member); channels are checked now (400 naming ``notify``)."""
    monitor = ma.monitor(name, Role.MEMBER)
    rule = ma.alerts.add_rule(
        monitor,
        metric=body.metric,
        feature=body.feature,
        segment=body.segment,
        above=body.above,
        below=body.below,
        for_windows=body.for_windows,
        notify=body.notify,
        created_by=ma.actor(body.user),
        validate_channel=_validate_channel,
        action=body.action,
    )
    return AlertRulePublic.of(rule, monitor)


@router.post("/monitors/{name}/alerts/events")
def raise_alert_event(name: str, body: AlertEventIn, ma: MonitorAccessDep) -> AlertPublic:
    """Raise an event alert on the monitor (member), e.g. ``gateway.reload_failed`` from a gateway that
    refused a new model; de-duplicated while open, notified through the monitor's rule of that metric."""
    monitor = ma.monitor(name, Role.MEMBER)
    alert, _ = ma.alerts.raise_event(monitor, metric=body.metric, detail=body.detail)
    return AlertPublic.of(alert, monitor)


@router.get("/monitors/{name}/alert-rules")
def list_alert_rules(name: str, ma: MonitorAccessDep) -> AlertRuleListPublic:
    """The monitor's active rules (channels without the secrets in their URLs)."""
    monitor = ma.monitor(name, Role.VIEWER)
    return AlertRuleListPublic(rules=[AlertRulePublic.of(r, monitor) for r in ma.alerts.rules(monitor)])


@router.post("/monitors/{name}/alert-rules/evaluate")
def evaluate_alert_rules(name: str, ma: MonitorAccessDep) -> AlertListPublic:
    """Evaluate the monitor's rules now over the windows already stored (member): the alerts this opened,
    notified like any other. A rule is also evaluated so when it is added."""
    monitor = ma.monitor(name, Role.MEMBER)
    return AlertListPublic(alerts=[AlertPublic.of(a, monitor) for a in ma.alerts.evaluate_rules(monitor)])


@router.delete("/alert-rules/{rule_id}", status_code=NO_CONTENT)
def delete_alert_rule(rule_id: RuleId, ma: MonitorAccessDep) -> Response:
    """Deactivate the rule (maintainer); its alerts are kept."""
    ma.rule(rule_id, Role.MAINTAINER)
    ma.alerts.delete_rule(rule_id)
    return Response(status_code=NO_CONTENT)


@router.get("/alerts")
def list_alerts(
    ma: MonitorAccessDep,
    monitor: Annotated[str | None, Query(max_length=500)] = None,
    state: Annotated[AlertState | None, Query()] = None,
    limit: AlertLimit = 100,
) -> AlertListPublic:
    """Alerts of the monitors you may view (of ``monitor`` when given), newest first."""
    state_name = None if state is None else state.value
    if monitor is not None:
        watched = ma.monitor(monitor, Role.VIEWER)
        found = ma.alerts.list(watched, state=state_name, limit=limit)
        return AlertListPublic(alerts=[AlertPublic.of(a, watched) for a in found])
    monitors = {m.id: m for m in ma.monitoring.list_monitors(projects=ma.visible_projects())}
    alerts = (
        ma.alerts.list(state=state_name, limit=limit)
        if ma.access.unrestricted
        else [a for m in monitors.values() for a in ma.alerts.list(m, state=state_name, limit=limit)]
    )
    alerts.sort(key=lambda a: (a.opened_at, a.id), reverse=True)
    return AlertListPublic(
        alerts=[AlertPublic.of(a, monitors[a.monitor_id]) for a in alerts[:limit] if a.monitor_id in monitors]
    )


@router.get("/alerts/{alert_id}")
def get_alert(alert_id: AlertId, ma: MonitorAccessDep) -> AlertDetailPublic:
    """The alert, the model version and run behind its monitor, and its notification log."""
    monitor, alert = ma.alert(alert_id, Role.VIEWER)
    notifications = ma.alerts.notifications(alert.id)
    return AlertDetailPublic.of_detail(alert, monitor, notifications)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(
    alert_id: AlertId, ma: MonitorAccessDep, body: AlertActionIn | None = None
) -> AlertDetailPublic:
    """Open → acknowledged (member): someone is on it; a resolved alert is 409."""
    monitor, _ = ma.alert(alert_id, Role.MEMBER)
    alert = ma.alerts.acknowledge(alert_id, ma.actor(None if body is None else body.user))
    return AlertDetailPublic.of_detail(alert, monitor, ma.alerts.notifications(alert_id))


@router.post("/alerts/{alert_id}/resolve")
def resolve_alert(
    alert_id: AlertId, ma: MonitorAccessDep, body: AlertActionIn | None = None
) -> AlertDetailPublic:
    """Resolve the alert now (member); it opens again if its rule fires on a later window."""
    monitor, _ = ma.alert(alert_id, Role.MEMBER)
    if body is not None:
        ma.actor(body.user)
    alert = ma.alerts.resolve(alert_id)
    return AlertDetailPublic.of_detail(alert, monitor, ma.alerts.notifications(alert_id))
