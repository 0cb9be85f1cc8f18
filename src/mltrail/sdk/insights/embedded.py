"""``InProcessInsights``: the insights service over this process's embedded store (as an admin)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from mltrail.channels import redact_channel
from mltrail.entities import Budget, Price
from mltrail.sdk.insights.client import TimeArg
from mltrail.services.accounts.audit import parse_time
from mltrail.services.container import Services

__all__ = ["InProcessInsights"]


class InProcessInsights:
    """Whoever holds the embedded store holds the database: every project, admin rights, own name."""

    def __init__(self, services: Services, user: str | None) -> None:
        self.service = services.insights
        self.user = user

    def _range(self, since: TimeArg, until: TimeArg) -> tuple[float | None, float | None]:
        now = self.service.clock()
        return parse_time(since, now, "since"), parse_time(until, now, "until")

    @staticmethod
    def _projects(project: str | None) -> list[str] | None:
        return None if project is None else [project]

    def cost(
        self, project: str | None = None, *, since: TimeArg = None, until: TimeArg = None, top: int = 10
    ) -> dict[str, Any]:
        start, end = self._range(since, until)
        return self.service.cost(self._projects(project), since=start, until=end, top=top)

    def value(
        self, project: str | None = None, *, since: TimeArg = None, until: TimeArg = None
    ) -> dict[str, Any]:
        start, end = self._range(since, until)
        return self.service.value(self._projects(project), since=start, until=end)

    def cadence(
        self, project: str | None = None, *, model: str | None = None, margin: float = 0.05
    ) -> list[dict[str, Any]]:
        return self.service.cadence(self._projects(project), model=model, margin=margin)

    def scorecard(
        self, project: str | None = None, *, since: TimeArg = None, until: TimeArg = None
    ) -> dict[str, Any]:
        start, end = self._range(since, until)
        return self.service.scorecard(self._projects(project), since=start, until=end)

    def prices(self) -> list[Price]:
        return self.service.prices()

    def set_price(self, kind: str, per_hour: float, currency: str = "USD") -> Price:
        return self.service.set_price(kind, per_hour, currency, user=self.user)

    def delete_price(self, kind: str) -> None:
        self.service.delete_price(kind)

    def budgets(self, project: str | None = None) -> list[dict[str, Any]]:
        return self.service.budgets(self._projects(project))

    def set_budget(
        self,
        project: str,
        amount: float,
        *,
        alert_share: float = 0.8,
        currency: str | None = None,
        notify: Sequence[str] = (),
    ) -> Budget:
        made = self.service.set_budget(
            project, amount, alert_share=alert_share, currency=currency, notify=notify, user=self.user
        )
        # Shown as a server shows it: the same answer whichever way the client is connected.
        return dataclasses.replace(made, channels=tuple(redact_channel(c) for c in made.channels))

    def delete_budget(self, project: str) -> None:
        self.service.delete_budget(project)
