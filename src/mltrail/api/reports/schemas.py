"""Request and response bodies of ``/api/v1/projects/{project}/reports``.

A report is sent as its markdown ``source`` (panels as ``mltrail-panel`` fences, docs/REPORTS.md) or as its
``blocks``; the service checks either and names the field of a mistake (``source``, ``blocks[2].limit``).
Every request body takes an optional ``user``: without authentication it names who acts; with it the
authenticated user acts and ``user`` is ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mltrail.api.tracking.schemas import _In, _Out
from mltrail.entities import Report, ReportBlock

__all__ = ["BlockIn", "ReportCreate", "ReportPagePublic", "ReportPublic", "ReportUpdate"]

_USER = Field(None, max_length=200, description="who acts, on a server without authentication")


class BlockIn(_In):
    type: str = Field(max_length=32, description="markdown, runs, metrics, compare, samples, model, monitor")
    text: str = Field("", max_length=200_000, description="a markdown block's text")
    options: dict[str, str] = Field(default_factory=dict, description="a panel's settings")

    def block(self) -> ReportBlock:
        return ReportBlock(self.type, text=self.text, options=dict(self.options))


class ReportCreate(_In):
    name: str = Field(max_length=128, description="unique in the project: letters, digits, '.', '_', '-'")
    title: str | None = Field(None, max_length=500, description="default: the first heading, else the name")
    source: str | None = Field(None, max_length=200_000, description="markdown with mltrail-panel blocks")
    blocks: list[BlockIn] | None = Field(None, max_length=200, description="instead of source")
    user: str | None = _USER


class ReportUpdate(_In):
    title: str | None = Field(None, max_length=500)
    source: str | None = Field(None, max_length=200_000)
    blocks: list[BlockIn] | None = Field(None, max_length=200)
    expected_version: int | None = Field(
        None, ge=1, description="refuse the save (409) if the report is no longer at this version"
    )
    user: str | None = _USER


class ReportPublic(_Out):
    """A report's definition; ``source`` is its markdown, ``blocks`` the same as JSON."""

    project: str
    name: str
    title: str
    version: int
    created_at: float
    created_by: str | None
    updated_at: float
    updated_by: str | None
    blocks: list[dict[str, Any]]
    source: str

    @classmethod
    def of(cls, report: Report) -> ReportPublic:
        from mltrail.services.reports.service import report_dict

        return cls(**report_dict(report))


class ReportPagePublic(_Out):
    reports: list[ReportPublic]
    total: int
