"""Stakeholder reports in SQL: one row per (project, name), saves bumping ``version`` under a row lock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import Report, ReportBlock
from mltrail.errors import ConflictError, NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["ReportsMixin"]

_R = t.reports.c
_P = t.projects.c


def _report(row: Any) -> Report:
    return Report(
        project=row.project,
        name=row.name,
        title=row.title,
        blocks=[ReportBlock.from_dict(b) for b in load_json(row.blocks) or []],
        version=int(row.version),
        created_at=float(row.created_at),
        created_by=row.created_by,
        updated_at=float(row.updated_at),
        updated_by=row.updated_by,
    )


def _blocks_json(blocks: Sequence[ReportBlock]) -> str:
    return dump_json([b.to_dict() for b in blocks])


_SELECT = sa.select(t.reports, _P.name.label("project")).join(t.projects, _P.id == _R.project_id)


class ReportsMixin(SqlBase):
    def _report_row(self, conn: Connection, project: str, name: str, *, lock: bool = False) -> Any:
        query = _SELECT.where(_P.name == project, _R.name == name)
        if lock and not self._sqlite:
            query = query.with_for_update(of=t.reports)
        row = conn.execute(query).one_or_none()
        if row is None:
            self._project_id(conn, project)  # a missing project says so
            raise NotFoundError(f"project {project!r} has no report {name!r}")
        return row

    @writes
    def create_report(
        self,
        conn: Connection,
        project: str,
        name: str,
        *,
        title: str,
        blocks: Sequence[ReportBlock],
        user: str | None,
        at: float,
    ) -> Report:
        project_id = self._project_id(conn, project)
        taken = conn.execute(sa.select(_R.id).where(_R.project_id == project_id, _R.name == name)).first()
        if taken is not None:
            raise ConflictError(f"project {project!r} has a report named {name!r} already")
        conn.execute(
            t.reports.insert().values(
                project_id=project_id,
                name=name,
                title=title,
                blocks=_blocks_json(blocks),
                version=1,
                created_at=at,
                created_by=user,
                updated_at=at,
                updated_by=user,
            )
        )
        return _report(self._report_row(conn, project, name))

    @reads
    def get_report(self, conn: Connection, project: str, name: str) -> Report:
        return _report(self._report_row(conn, project, name))

    @reads
    def list_reports(
        self, conn: Connection, project: str, *, offset: int = 0, limit: int = 100
    ) -> tuple[list[Report], int]:
        project_id = self._project_id(conn, project)
        total = conn.execute(
            sa.select(sa.func.count()).select_from(t.reports).where(_R.project_id == project_id)
        ).scalar_one()
        rows = conn.execute(
            _SELECT.where(_R.project_id == project_id).order_by(_R.name).offset(offset).limit(limit)
        ).all()
        return [_report(row) for row in rows], int(total)

    @writes
    def update_report(
        self,
        conn: Connection,
        project: str,
        name: str,
        *,
        title: str,
        blocks: Sequence[ReportBlock],
        user: str | None,
        at: float,
        expected_version: int | None = None,
    ) -> Report:
        # The row lock (PostgreSQL; SQLite writes are serialized by BEGIN IMMEDIATE) makes the version check
        # a compare-and-set: of two saves made on top of one version, the second is refused.
        row = self._report_row(conn, project, name, lock=True)
        if expected_version is not None and int(row.version) != expected_version:
            raise ConflictError(
                f"report {name!r} is at version {row.version}, not {expected_version}: someone saved it"
                " meanwhile; read it again and reapply your change"
            )
        conn.execute(
            t.reports.update()
            .where(_R.id == row.id)
            .values(
                title=title,
                blocks=_blocks_json(blocks),
                version=int(row.version) + 1,
                updated_at=at,
                updated_by=user,
            )
        )
        return _report(self._report_row(conn, project, name))

    @writes
    def delete_report(self, conn: Connection, project: str, name: str) -> None:
        row = self._report_row(conn, project, name)
        conn.execute(t.reports.delete().where(_R.id == row.id))
