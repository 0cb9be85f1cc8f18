"""``ReportService``: reports saved per project (create, read, list, versioned update, delete) and read with
their panels evaluated live for the reader (``panels.py``)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from mltrail.entities import Report, ReportBlock
from mltrail.errors import InvalidInputError
from mltrail.services.reports.panels import PanelSources, ReportReader, evaluate_block
from mltrail.services.reports.source import format_source, parse_source, validate_blocks
from mltrail.store.reports import ReportStore

__all__ = ["EVERYONE", "ReportService", "report_dict", "validate_report_name"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
EVERYONE = ReportReader()


def validate_report_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            "a report name has 1 to 128 letters, digits, '.', '_' or '-' and starts with a letter or digit,"
            f" got {name!r}",
            field="name",
        )
    return name


def _title(title: str | None, blocks: Sequence[ReportBlock], name: str) -> str:
    if title is not None:
        if len(title) > 500:
            raise InvalidInputError("a title has at most 500 characters", field="title")
        return title.strip()
    for block in blocks:  # the first markdown heading, else the name
        if block.type == "markdown":
            for line in block.text.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()[:500]
    return name


def report_dict(report: Report) -> dict[str, Any]:
    """A report's definition as JSON: blocks and their markdown ``source``."""
    return {
        "project": report.project,
        "name": report.name,
        "title": report.title,
        "version": report.version,
        "created_at": report.created_at,
        "created_by": report.created_by,
        "updated_at": report.updated_at,
        "updated_by": report.updated_by,
        "blocks": [b.to_dict() for b in report.blocks],
        "source": format_source(report.blocks),
    }


class ReportService:
    def __init__(
        self, store: ReportStore, sources: PanelSources, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.sources = sources
        self.clock = clock

    @staticmethod
    def blocks_of(source: str | None, blocks: Sequence[ReportBlock] | None) -> list[ReportBlock]:
        """The blocks of a markdown ``source`` or given ``blocks`` (exactly one of them), checked."""
        if (source is None) == (blocks is None):
            raise InvalidInputError(
                "give the report's markdown source or its blocks (one of them)", field="source"
            )
        return parse_source(source) if source is not None else validate_blocks(blocks or [])

    def create(
        self,
        project: str,
        name: str,
        *,
        source: str | None = None,
        blocks: Sequence[ReportBlock] | None = None,
        title: str | None = None,
        user: str | None = None,
    ) -> Report:
        validate_report_name(name)
        checked = self.blocks_of(source, blocks)
        return self.store.create_report(
            project, name, title=_title(title, checked, name), blocks=checked, user=user, at=self.clock()
        )

    def get(self, project: str, name: str) -> Report:
        return self.store.get_report(project, name)

    def list_reports(self, project: str, *, offset: int = 0, limit: int = 100) -> tuple[list[Report], int]:
        if offset < 0 or not 1 <= limit <= 1000:
            raise InvalidInputError("offset must be ≥ 0 and limit between 1 and 1000", field="limit")
        return self.store.list_reports(project, offset=offset, limit=limit)

    def update(
        self,
        project: str,
        name: str,
        *,
        source: str | None = None,
        blocks: Sequence[ReportBlock] | None = None,
        title: str | None = None,
        user: str | None = None,
        expected_version: int | None = None,
    ) -> Report:
        """A new version of the report (title kept unless given); with ``expected_version`` a save on top of
        another version is refused (ConflictError)."""
        current = self.store.get_report(project, name)
        checked = current.blocks if source is None and blocks is None else self.blocks_of(source, blocks)
        new_title = current.title if title is None else _title(title, checked, name)
        return self.store.update_report(
            project,
            name,
            title=new_title,
            blocks=checked,
            user=user,
            at=self.clock(),
            expected_version=expected_version,
        )

    def delete(self, project: str, name: str) -> None:
        self.store.delete_report(project, name)

    def read(self, project: str, name: str, reader: ReportReader = EVERYONE) -> dict[str, Any]:
        """The report with every panel evaluated now, as ``reader`` may see it."""
        report = self.store.get_report(project, name)
        out = report_dict(report)
        out["blocks"] = [evaluate_block(b, project, reader, self.sources) for b in report.blocks]
        out["evaluated_at"] = self.clock()
        return out
