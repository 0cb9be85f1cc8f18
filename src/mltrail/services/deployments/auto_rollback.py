"""``DeploymentRollbacks``: the ``rollback:DEPLOYMENT`` action of an alert rule — the deployment rolled back
to its previous spec by itself when the rule's alert opens, if its spec allows it.

Policy: a rule may name only a deployment of its monitor's project (checked when the rule is created); the
rollback happens only while the deployment's current spec says ``"auto_rollback": true``, and never undoes
a version that an automatic rollback made (one alert storm rolls back once, not down the whole history).
It is a new spec version like any rollback, by the system user ``mltrail-alerts`` with a comment naming the
alert; the gateways pick it up by polling. No HTTP here: the alert service notifies the rule's channels.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from mltrail.entities import Alert, AlertRule, Monitor, Role
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.accounts.service import Principal
from mltrail.services.deployments.service import DeploymentService
from mltrail.services.deployments.validation import validate_deployment_name

__all__ = ["ROLLBACK", "SYSTEM_USER", "DeploymentRollbacks"]

log = logging.getLogger(__name__)
ROLLBACK = "rollback:"
SYSTEM_USER = "mltrail-alerts"


class DeploymentRollbacks:
    def __init__(self, deployments: Callable[[], DeploymentService]) -> None:
        self._service = deployments

    @property
    def _deployments(self) -> DeploymentService:
        return self._service()

    def _target(self, action: str) -> str:
        if not action.startswith(ROLLBACK):
            raise InvalidInputError(
                f"unknown action {action!r}: the one action is rollback:DEPLOYMENT", field="action"
            )
        try:
            return validate_deployment_name(action[len(ROLLBACK) :])
        except InvalidInputError as exc:
            raise InvalidInputError(f"action: {exc.message}", field="action") from None

    def check(self, action: str, monitor: Monitor) -> str:
        name = self._target(action.strip())
        try:
            deployment = self._deployments.get(name)
        except NotFoundError:
            raise InvalidInputError(f"action: no deployment {name!r}", field="action") from None
        if deployment.project != monitor.project:
            # Members of the monitor's project create its rules; they may act on their own project only.
            raise InvalidInputError(
                f"action: deployment {name!r} is in project {deployment.project!r}, not the monitor's"
                f" {monitor.project!r}",
                field="action",
            )
        return ROLLBACK + name

    def run(self, action: str, rule: AlertRule, alert: Alert, monitor: Monitor) -> dict[str, Any]:
        name = self._target(action)
        out: dict[str, Any] = {"action": action, "deployment": name}
        current = self._deployments.get(name)
        if current.project != monitor.project:
            return {**out, "outcome": "refused", "reason": "the deployment is in another project"}
        if not current.spec.auto_rollback:
            return {
                **out,
                "outcome": "refused",
                "reason": f"version {current.version}'s spec does not allow it (auto_rollback is false)",
            }
        latest = self._deployments.get_version(name, current.version)
        if latest.action == "rolled_back" and latest.user == SYSTEM_USER:
            return {
                **out,
                "outcome": "refused",
                "reason": f"version {current.version} is an automatic rollback already",
            }
        where = f" on {alert.feature}" if alert.feature else ""
        comment = (
            f"automatic rollback: alert {alert.id} ({alert.metric} {alert.comparator} {alert.threshold:g}"
            f"{where}, value {alert.value:g}) of rule {rule.id} on monitor {monitor.name}"
        )
        rolled = self._deployments.rollback(
            name,
            principal=Principal(name=SYSTEM_USER, role=Role.MEMBER),
            comment=comment,
            reason={"alert": alert.id, "rule": rule.id, "monitor": monitor.name},
        )
        log.warning("deployment %s rolled back to v%d by alert %s", name, rolled.version, alert.id)
        return {**out, "outcome": "rolled_back", "from_version": current.version, "version": rolled.version}
