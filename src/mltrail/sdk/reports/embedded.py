"""``InProcessReports``: the report service over this process's embedded store. Whoever holds the store
holds the database: every panel is visible."""

from __future__ import annotations

from typing import Any

from mltrail.services.container import Services
from mltrail.services.reports.service import report_dict

__all__ = ["InProcessReports"]


class InProcessReports:
    def __init__(self, services: Services, user: str | None) -> None:
        self.service = services.reports
        self.user = user

    def create(self, project: str, name: str, source: str, *, title: str | None = None) -> dict[str, Any]:
        return report_dict(self.service.create(project, name, source=source, title=title, user=self.user))

    def get(self, project: str, name: str) -> dict[str, Any]:
        return report_dict(self.service.get(project, name))

    def read(self, project: str, name: str) -> dict[str, Any]:
        return self.service.read(project, name)

    def list_reports(self, project: str, *, limit: int = 100) -> tuple[list[dict[str, Any]], int]:
        found, total = self.service.list_reports(project, limit=limit)
        return [report_dict(r) for r in found], total

    def update(
        self,
        project: str,
        name: str,
        source: str | None = None,
        *,
        title: str | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        saved = self.service.update(
            project, name, source=source, title=title, user=self.user, expected_version=expected_version
        )
        return report_dict(saved)

    def delete(self, project: str, name: str) -> None:
        self.service.delete(project, name)
