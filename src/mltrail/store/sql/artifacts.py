"""Artifact records of a run: path → (sha256 digest, size); the bytes live in the blob store."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import Artifact
from mltrail.errors import NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["ArtifactsMixin"]

_a = t.artifacts.c


def _artifact(row: Any) -> Artifact:
    return Artifact(
        run_id=row.run_id, path=row.path, digest=row.digest, size=row.size, created_at=row.created_at
    )


class ArtifactsMixin(SqlBase):
    """Adding, listing and reading artifact records."""

    @writes
    def add_artifact(self, conn: Connection, run_id: str, path: str, digest: str, size: int) -> Artifact:
        self._require_run(conn, run_id)
        artifact = Artifact(run_id=run_id, path=path, digest=digest, size=size, created_at=time.time())
        stmt = self._insert(t.artifacts).values(
            run_id=run_id, path=path, digest=digest, size=size, created_at=artifact.created_at
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id", "path"],
            set_={
                "digest": stmt.excluded.digest,
                "size": stmt.excluded.size,
                "created_at": stmt.excluded.created_at,
            },
        )
        conn.execute(stmt)
        return artifact

    @reads
    def list_artifacts(self, conn: Connection, run_id: str, prefix: str | None = None) -> list[Artifact]:
        self._require_run(conn, run_id)
        query = sa.select(t.artifacts).where(_a.run_id == run_id)
        if prefix:
            # substr, not LIKE: '%' and '_' in paths are plain characters.
            query = query.where(sa.func.substr(_a.path, 1, len(prefix)) == prefix)
        return [_artifact(row) for row in conn.execute(query.order_by(_a.path))]

    @reads
    def get_artifact(self, conn: Connection, run_id: str, path: str) -> Artifact:
        row = conn.execute(sa.select(t.artifacts).where(_a.run_id == run_id, _a.path == path)).one_or_none()
        if row is None:
            self._require_run(conn, run_id)
            raise NotFoundError(f"run {run_id!r} has no artifact {path!r}")
        return _artifact(row)
