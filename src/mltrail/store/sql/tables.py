"""Evaluation table records of runs in SQL (the Parquet bytes live in the blob store)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import RunTable, TableColumn
from mltrail.errors import NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["TablesMixin"]

_t = t.run_tables.c
_LISTED = (_t.run_id, _t.name, _t.step, _t.kind, _t.digest, _t.size, _t.num_rows, _t.created_at)


def _table(row: Any, full: bool) -> RunTable:
    return RunTable(
        run_id=row.run_id,
        name=row.name,
        step=int(row.step),
        kind=row.kind,
        digest=row.digest,
        size=int(row.size),
        rows=int(row.num_rows),
        columns=[TableColumn(n, ty) for n, ty in load_json(row.columns)] if full else [],
        summary=(load_json(row.summary) or {}) if full else {},
        created_at=float(row.created_at),
    )


class TablesMixin(SqlBase):
    @writes
    def add_run_table(
        self,
        conn: Connection,
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
        self._require_run(conn, run_id, lock=True)  # two writers of the same name take turns
        if step is None:
            last = conn.execute(
                sa.select(sa.func.max(_t.step)).where(_t.run_id == run_id, _t.name == name)
            ).scalar_one_or_none()
            step = 0 if last is None else int(last) + 1
        values = {
            "kind": kind,
            "digest": digest,
            "size": size,
            "num_rows": rows,
            "columns": dump_json([[c.name, c.type] for c in columns]),
            "summary": dump_json(summary),
            "created_at": time.time(),
        }
        stmt = self._insert(t.run_tables).values(run_id=run_id, name=name, step=step, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["run_id", "name", "step"], set_=values))
        return RunTable(
            run_id=run_id,
            name=name,
            step=step,
            kind=kind,
            digest=digest,
            size=size,
            rows=rows,
            columns=list(columns),
            summary=summary,
            created_at=float(values["created_at"]),  # type: ignore[arg-type]
        )

    @reads
    def list_run_tables(self, conn: Connection, run_id: str) -> list[RunTable]:
        self._require_run(conn, run_id)
        query = sa.select(*_LISTED).where(_t.run_id == run_id).order_by(_t.name, _t.step)
        return [_table(row, full=False) for row in conn.execute(query)]

    @reads
    def get_run_table(self, conn: Connection, run_id: str, name: str, step: int | None = None) -> RunTable:
        query = sa.select(t.run_tables).where(_t.run_id == run_id, _t.name == name)
        query = query.order_by(_t.step.desc()).limit(1) if step is None else query.where(_t.step == step)
        row = conn.execute(query).one_or_none()
        if row is None:
            self._require_run(conn, run_id)
            at = "" if step is None else f" at step {step}"
            raise NotFoundError(f"run {run_id!r} has no table {name!r}{at}")
        return _table(row, full=True)
