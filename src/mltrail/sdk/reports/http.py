"""``HttpReports``: reports on a team server, through ``/api/v1/projects/{project}/reports``."""

from __future__ import annotations

import urllib.parse
from typing import Any

from mltrail.sdk.tracking.http import HttpTransport

__all__ = ["HttpReports"]


def _url(project: str, name: str | None = None) -> str:
    base = f"/projects/{urllib.parse.quote(project, safe='')}/reports"
    return base if name is None else f"{base}/{urllib.parse.quote(name, safe='')}"


class HttpReports:
    """With authentication the server acts as the API key's user; ``user`` is sent for one without."""

    def __init__(self, http: HttpTransport, user: str | None) -> None:
        self.http = http
        self.user = user

    def _body(self, **fields: Any) -> dict[str, Any]:
        return {"user": self.user, **{k: v for k, v in fields.items() if v is not None}}

    def create(self, project: str, name: str, source: str, *, title: str | None = None) -> dict[str, Any]:
        found: dict[str, Any] = self.http._json(
            "POST", _url(project), self._body(name=name, source=source, title=title)
        )
        return found

    def get(self, project: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.http._json("GET", _url(project, name), params={"evaluate": "false"})
        return found

    def read(self, project: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.http._json("GET", _url(project, name))
        return found

    def list_reports(self, project: str, *, limit: int = 100) -> tuple[list[dict[str, Any]], int]:
        page = self.http._json("GET", _url(project), params={"limit": limit})
        return list(page["reports"]), int(page["total"])

    def update(
        self,
        project: str,
        name: str,
        source: str | None = None,
        *,
        title: str | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        body = self._body(source=source, title=title, expected_version=expected_version)
        found: dict[str, Any] = self.http._json("PUT", _url(project, name), body)
        return found

    def delete(self, project: str, name: str) -> None:
        self.http._json("DELETE", _url(project, name))
