"""The storage interface of runs' evaluation tables, part of ``Store``: one record per (run, name, step)
naming a Parquet blob, with its schema, row count and the figures computed when it was logged."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from mltrail.entities import RunTable, TableColumn

__all__ = ["TableStore"]


class TableStore(abc.ABC):
    """``NotFoundError`` for a missing run or table."""

    @abc.abstractmethod
    def add_run_table(
        self,
        run_id: str,
        name: str,
        step: int | None,
        *,
        kind: str,
        digest: str,
        size: int,
        rows: int,
        columns: Sequence[TableColumn],
        summary: dict[str, Any],
    ) -> RunTable:
        """Record the table; ``step`` None means one past the table's last step (0 for the first). The same
        step again replaces the record."""

    @abc.abstractmethod
    def list_run_tables(self, run_id: str) -> list[RunTable]:
        """The run's tables by name and step (their ``columns`` and ``summary`` left empty)."""

    @abc.abstractmethod
    def get_run_table(self, run_id: str, name: str, step: int | None = None) -> RunTable:
        """The table at ``step``, or at its last step when None."""
