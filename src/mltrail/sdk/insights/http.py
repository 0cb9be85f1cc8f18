"""``HttpInsights``: team insights on a server, through ``/api/v1/insights``."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail.entities import Budget, Price
from mltrail.sdk.insights.client import TimeArg
from mltrail.sdk.tracking.http import HttpTransport

__all__ = ["HttpInsights"]


def _params(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _price(d: Mapping[str, Any]) -> Price:
    return Price(
        kind=d["kind"],
        per_hour=float(d["per_hour"]),
        currency=d["currency"],
        updated_at=float(d["updated_at"]),
        updated_by=d["updated_by"],
    )


class HttpInsights:
    """The server decides who sees which projects (the API key's user)."""

    def __init__(self, http: HttpTransport) -> None:
        self.http = http

    def cost(
        self, project: str | None = None, *, since: TimeArg = None, until: TimeArg = None, top: int = 10
    ) -> dict[str, Any]:
        params = _params(project=project, since=since, until=until, top=top)
        doc: dict[str, Any] = self.http._json("GET", "/insights/cost", params=params)
        return doc

    def value(
        self, project: str | None = None, *, since: TimeArg = None, until: TimeArg = None
    ) -> dict[str, Any]:
        doc: dict[str, Any] = self.http._json(
            "GET", "/insights/value", params=_params(project=project, since=since, until=until)
        )
        return doc

    def cadence(
        self, project: str | None = None, *, model: str | None = None, margin: float = 0.05
    ) -> list[dict[str, Any]]:
        doc: list[dict[str, Any]] = self.http._json(
            "GET", "/insights/cadence", params=_params(project=project, model=model, margin=margin)
        )
        return doc

    def scorecard(
        self, project: str | None = None, *, since: TimeArg = None, until: TimeArg = None
    ) -> dict[str, Any]:
        doc: dict[str, Any] = self.http._json(
            "GET", "/insights/scorecard", params=_params(project=project, since=since, until=until)
        )
        return doc

    def prices(self) -> list[Price]:
        return [_price(p) for p in self.http._json("GET", "/insights/prices")]

    def set_price(self, kind: str, per_hour: float, currency: str = "USD") -> Price:
        body = {"kind": kind, "per_hour": per_hour, "currency": currency}
        return _price(self.http._json("PUT", "/insights/prices", body))

    def delete_price(self, kind: str) -> None:
        self.http._json("DELETE", "/insights/prices", params={"kind": kind})

    def budgets(self, project: str | None = None) -> list[dict[str, Any]]:
        doc: list[dict[str, Any]] = self.http._json(
            "GET", "/insights/budgets", params=_params(project=project)
        )
        return doc

    def set_budget(
        self,
        project: str,
        amount: float,
        *,
        alert_share: float = 0.8,
        currency: str | None = None,
        notify: Sequence[str] = (),
    ) -> Budget:
        body = _params(amount=amount, alert_share=alert_share, currency=currency, notify=list(notify))
        d = self.http._json("PUT", f"/insights/budgets/{urllib.parse.quote(project, safe='')}", body)
        return Budget(
            project=d["project"],
            amount=float(d["amount"]),
            currency=d["currency"],
            alert_share=float(d["alert_share"]),
            alerted_period=None,
            updated_at=float(d["updated_at"]),
            updated_by=d["updated_by"],
            channels=tuple(d.get("channels") or ()),
        )

    def delete_budget(self, project: str) -> None:
        self.http._json("DELETE", f"/insights/budgets/{urllib.parse.quote(project, safe='')}")
