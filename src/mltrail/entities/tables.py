"""Evaluation tables of a run (issue 17): plain tables and prediction tables, stored as Parquet blobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["TABLE_KINDS", "RunTable", "TableColumn", "TablePage"]

# "table": any columns; "predictions": id, y_true, y_pred, proba columns and features, with summaries.
TABLE_KINDS = ("table", "predictions")


@dataclass(frozen=True, slots=True)
class TableColumn:
    """A column: its name and its Arrow type as text (``int64``, ``string``, ``double``…)."""

    name: str
    type: str


@dataclass(frozen=True, slots=True)
class RunTable:
    """A table a run logged at ``step``: the Parquet blob's sha256 and size, its schema and row count.

    ``summary`` holds what was computed at log time: for predictions the task, classes, confusion matrix,
    per-class metrics and curves (classification) or residuals (regression), and the roles of the columns.
    """

    run_id: str
    name: str
    step: int
    kind: str
    digest: str
    size: int
    rows: int
    columns: list[TableColumn]
    summary: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class TablePage:
    """One page of a table's rows after filtering and sorting: ``total`` rows matched in all."""

    columns: list[TableColumn]
    rows: list[list[Any]]
    total: int
    offset: int
    limit: int
