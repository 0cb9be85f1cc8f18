"""The ``ReportsClient`` protocol: the same calls and errors on the embedded store (``embedded.py``) and on a
team server (``http.py``). A report is given as its markdown ``source`` (docs/REPORTS.md); ``read`` returns
it with every panel evaluated now, as the caller may see it (JSON-shaped, floats such as NaN as strings)."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["ReportsClient"]


class ReportsClient(Protocol):
    user: str | None

    def create(self, project: str, name: str, source: str, *, title: str | None = None) -> dict[str, Any]:
        """A new report; returns its definition (``version`` 1, ``blocks``, ``source``)."""
        ...

    def get(self, project: str, name: str) -> dict[str, Any]:
        """The definition only (no panel evaluated)."""
        ...

    def read(self, project: str, name: str) -> dict[str, Any]:
        """The report with its panels evaluated now (``status`` ok, hidden or error, and ``data``)."""
        ...

    def list_reports(self, project: str, *, limit: int = 100) -> tuple[list[dict[str, Any]], int]: ...

    def update(
        self,
        project: str,
        name: str,
        source: str | None = None,
        *,
        title: str | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """A new version (ConflictError if ``expected_version`` is given and no longer current)."""
        ...

    def delete(self, project: str, name: str) -> None: ...
