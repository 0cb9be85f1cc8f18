"""The ``InsightsClient`` protocol: the same calls and errors on the embedded store (``embedded.py``, as an
admin) and on a team server (``http.py``, as the API key's user). Figures are JSON documents (dicts), the
same in both; ``since``/``until`` take epoch seconds, an ISO 8601 time or a duration back such as ``30d``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from mltrail.entities import Budget, Price

__all__ = ["InsightsClient", "TimeArg"]

TimeArg = float | str | None


class InsightsClient(Protocol):
    def cost(
        self, project: str | None = None, *, since: TimeArg = None, until: TimeArg = None, top: int = 10
    ) -> dict[str, Any]: ...

    def value(
        self, project: str | None = None, *, since: TimeArg = None, until: TimeArg = None
    ) -> dict[str, Any]: ...

    def cadence(
        self, project: str | None = None, *, model: str | None = None, margin: float = 0.05
    ) -> list[dict[str, Any]]: ...

    def scorecard(
        self, project: str | None = None, *, since: TimeArg = None, until: TimeArg = None
    ) -> dict[str, Any]: ...

    def prices(self) -> list[Price]: ...

    def set_price(self, kind: str, per_hour: float, currency: str = "USD") -> Price: ...

    def delete_price(self, kind: str) -> None: ...

    def budgets(self, project: str | None = None) -> list[dict[str, Any]]: ...

    def set_budget(
        self,
        project: str,
        amount: float,
        *,
        alert_share: float = 0.8,
        currency: str | None = None,
        notify: Sequence[str] = (),
    ) -> Budget:
        """Set (replace) the project's budget; ``notify``: the channels its alert is sent to. The budget
        returned shows its channels with their secrets hidden, as listings do."""
        ...

    def delete_budget(self, project: str) -> None: ...
