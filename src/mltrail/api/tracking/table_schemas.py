"""Schemas of ``/api/v1/runs/{run}/tables`` and ``/api/v1/samples``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from mltrail.entities import RunTable, TablePage
from mltrail.json_floats import encode_floats

__all__ = ["ColumnPublic", "TablePagePublic", "TablePublic", "TableSummaryPublic"]


class _Out(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="strings")


class ColumnPublic(_Out):
    name: str
    type: str


class TableSummaryPublic(_Out):
    """A table in a listing: no columns or figures (a table may have 10,000 columns)."""

    run_id: str
    name: str
    step: int
    kind: str
    digest: str
    size: int
    rows: int
    created_at: float

    @classmethod
    def of(cls, t: RunTable) -> TableSummaryPublic:
        return cls(
            run_id=t.run_id,
            name=t.name,
            step=t.step,
            kind=t.kind,
            digest=t.digest,
            size=t.size,
            rows=t.rows,
            created_at=t.created_at,
        )


class TablePublic(TableSummaryPublic):
    """One table: its columns, and for predictions the figures computed when it was logged (``summary``:
    task, roles, classes, confusion, per_class, roc, pr, log_loss; or mae, rmse, bias, r2, quantiles,
    histogram)."""

    columns: list[ColumnPublic]
    summary: dict[str, Any]

    @classmethod
    def full(cls, t: RunTable) -> TablePublic:
        return cls(
            **TableSummaryPublic.of(t).model_dump(),
            columns=[ColumnPublic(name=c.name, type=c.type) for c in t.columns],
            summary=encode_floats(t.summary),
        )


class TablePagePublic(_Out):
    """Rows ``offset`` … ``offset + limit`` of ``total`` matching rows, each a list in ``columns`` order.
    Floats JSON cannot hold come as ``"NaN"``, ``"Infinity"``, ``"-Infinity"``; bytes as text with
    ``\\xNN`` escapes where they are not UTF-8."""

    columns: list[ColumnPublic]
    rows: list[list[Any]]
    total: int
    offset: int
    limit: int

    @classmethod
    def of(cls, page: TablePage) -> TablePagePublic:
        return cls(
            columns=[ColumnPublic(name=c.name, type=c.type) for c in page.columns],
            rows=encode_floats(page.rows),
            total=page.total,
            offset=page.offset,
            limit=page.limit,
        )
