"""Dataset versions (one per content digest, numbered per name) and the runs that used them."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import DatasetLink, DatasetVersion
from mltrail.errors import ConflictError, NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["DatasetsMixin"]

_COLUMNS = (
    t.dataset_versions.c.id,
    t.projects.c.name.label("project"),
    t.dataset_versions.c.name,
    t.dataset_versions.c.version,
    t.dataset_versions.c.digest,
    t.dataset_versions.c.kind,
    t.dataset_versions.c.source,
    t.dataset_versions.c.num_rows,
    t.dataset_versions.c.num_bytes,
    t.dataset_versions.c.schema,
    t.dataset_versions.c.summary,
    t.dataset_versions.c.created_at,
)
_JOIN = t.dataset_versions.join(t.projects, t.projects.c.id == t.dataset_versions.c.project_id)


def _version(row: Any) -> DatasetVersion:
    return DatasetVersion(
        id=row.id,
        project=row.project,
        name=row.name,
        version=row.version,
        digest=row.digest,
        source=row.source,
        kind=row.kind,
        num_rows=row.num_rows,
        num_bytes=row.num_bytes,
        schema=load_json(row.schema) or [],
        summary=load_json(row.summary) or {},
        created_at=row.created_at,
    )


class DatasetsMixin(SqlBase):
    """Dataset versions and run ↔ dataset links."""

    def record_dataset_version(
        self,
        *,
        project: str,
        name: str,
        digest: str,
        kind: str,
        source: str | None,
        num_rows: int | None,
        num_bytes: int | None,
        schema: list[dict[str, Any]],
        summary: dict[str, Any],
    ) -> DatasetVersion:
        fields = {
            "kind": kind,
            "source": source,
            "num_rows": num_rows,
            "num_bytes": num_bytes,
            "schema": dump_json(schema),
            "summary": dump_json(summary),
        }
        # Two writers may pick the same next version number (PostgreSQL); the loser retries and then finds
        # either the other's row (same digest) or the following number.
        for attempt in range(5):
            try:
                return self._record_version(project, name, digest, fields)
            except ConflictError:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @writes
    def _record_version(
        self, conn: Connection, project: str, name: str, digest: str, fields: dict[str, Any]
    ) -> DatasetVersion:
        project_id = self._ensure_project(conn, project)
        dv = t.dataset_versions.c
        found = conn.execute(
            sa.select(*_COLUMNS)
            .select_from(_JOIN)
            .where(dv.project_id == project_id, dv.name == name, dv.digest == digest)
        ).one_or_none()
        if found is not None:
            return _version(found)
        latest = conn.execute(
            sa.select(sa.func.max(dv.version)).where(dv.project_id == project_id, dv.name == name)
        ).scalar_one()
        inserted = conn.execute(
            t.dataset_versions.insert().values(
                project_id=project_id,
                name=name,
                version=(latest or 0) + 1,
                digest=digest,
                created_at=time.time(),
                **fields,
            )
        )
        key = inserted.inserted_primary_key
        assert key is not None
        new_id = key[0]
        return _version(conn.execute(sa.select(*_COLUMNS).select_from(_JOIN).where(dv.id == new_id)).one())

    @writes
    def link_dataset(self, conn: Connection, run_id: str, dataset_version_id: int, role: str) -> None:
        self._require_run(conn, run_id)
        dv = t.dataset_versions.c
        if conn.execute(sa.select(dv.id).where(dv.id == dataset_version_id)).first() is None:
            raise NotFoundError(f"no dataset version {dataset_version_id}")
        conn.execute(
            self._insert(t.run_datasets)
            .values(run_id=run_id, dataset_version_id=dataset_version_id, role=role)
            .on_conflict_do_nothing(index_elements=["run_id", "dataset_version_id", "role"])
        )
        conn.execute(t.run_facts.update().where(t.run_facts.c.run_id == run_id).values(has_data=True))

    @reads
    def list_run_datasets(self, conn: Connection, run_id: str) -> list[DatasetLink]:
        self._require_run(conn, run_id)
        rd = t.run_datasets.c
        query = (
            sa.select(rd.role, *_COLUMNS)
            .select_from(_JOIN.join(t.run_datasets, rd.dataset_version_id == t.dataset_versions.c.id))
            .where(rd.run_id == run_id)
            .order_by(rd.role, t.dataset_versions.c.name, t.dataset_versions.c.version)
        )
        return [
            DatasetLink(run_id=run_id, role=row.role, dataset=_version(row)) for row in conn.execute(query)
        ]

    @reads
    def list_dataset_versions(
        self, conn: Connection, project: str, name: str | None = None
    ) -> list[DatasetVersion]:
        project_id = self._project_id(conn, project)
        dv = t.dataset_versions.c
        query = sa.select(*_COLUMNS).select_from(_JOIN).where(dv.project_id == project_id)
        if name is not None:
            query = query.where(dv.name == name)
        return [_version(row) for row in conn.execute(query.order_by(dv.name, dv.version))]
