"""Stakeholder reports (issue 17): a saved document in a project, made of ordered blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["PANEL_TYPES", "Report", "ReportBlock"]

# The live panels a report may hold, besides markdown text blocks (docs/REPORTS.md).
PANEL_TYPES = ("runs", "metrics", "compare", "samples", "model", "monitor")


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """A markdown text block (``type`` "markdown", ``text``) or a panel (``type`` one of ``PANEL_TYPES``,
    its settings in ``options``: ``filter``, ``runs``, ``keys``, ``model``, …, as text)."""

    type: str
    text: str = ""
    options: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        if self.type == "markdown":
            return {"type": "markdown", "text": self.text}
        return {"type": self.type, "options": dict(self.options)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportBlock:
        if data.get("type") == "markdown":
            return cls("markdown", text=str(data.get("text", "")))
        options = data.get("options") or {}
        return cls(str(data.get("type")), options={str(k): str(v) for k, v in options.items()})


@dataclass(frozen=True, slots=True)
class Report:
    """A report's definition; ``version`` counts its saves (1 when created). Panels hold no data: they are
    evaluated when the report is read."""

    project: str
    name: str
    title: str
    blocks: list[ReportBlock]
    version: int
    created_at: float
    created_by: str | None
    updated_at: float
    updated_by: str | None
