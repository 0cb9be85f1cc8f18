"""The storage interface of stakeholder reports, part of ``Store``: one row per (project, name) holding the
report's ordered blocks as JSON and a version counter bumped by each save."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from mltrail.entities import Report, ReportBlock

__all__ = ["ReportStore"]


class ReportStore(abc.ABC):
    """``NotFoundError`` for a missing project or report; ``ConflictError`` for a name taken or a save made
    on top of a version that is no longer current."""

    @abc.abstractmethod
    def create_report(
        self,
        project: str,
        name: str,
        *,
        title: str,
        blocks: Sequence[ReportBlock],
        user: str | None,
        at: float,
    ) -> Report:
        """A new report at version 1 (the project must exist)."""

    @abc.abstractmethod
    def get_report(self, project: str, name: str) -> Report: ...

    @abc.abstractmethod
    def list_reports(self, project: str, *, offset: int = 0, limit: int = 100) -> tuple[list[Report], int]:
        """The project's reports by name, and how many there are in all."""

    @abc.abstractmethod
    def update_report(
        self,
        project: str,
        name: str,
        *,
        title: str,
        blocks: Sequence[ReportBlock],
        user: str | None,
        at: float,
        expected_version: int | None = None,
    ) -> Report:
        """Replace title and blocks and bump the version, under a lock on the row; with
        ``expected_version`` a report at another version is a ConflictError (someone saved first)."""

    @abc.abstractmethod
    def delete_report(self, project: str, name: str) -> None: ...
