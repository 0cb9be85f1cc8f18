"""The keys a project's runs use (params, metrics, tags, summary): for column choosers and completion."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.store.sql import schema as t
from mltrail.store.sql.core import SqlBase, reads

__all__ = ["ProjectKeysMixin"]

_KINDS = (("params", t.params), ("metrics", t.metric_keys), ("tags", t.tags), ("summary", t.summaries))


class ProjectKeysMixin(SqlBase):
    """Distinct keys per kind over a project's runs: one indexed join and ``DISTINCT`` per kind."""

    @reads
    def project_keys(self, conn: Connection, project: str, limit: int = 10_000) -> dict[str, list[str]]:
        project_id = self._project_id(conn, project)
        runs = sa.select(t.runs.c.id).where(t.runs.c.project_id == project_id).scalar_subquery()
        found: dict[str, list[str]] = {}
        for kind, table in _KINDS:
            query = (
                sa.select(table.c.key)
                .where(table.c.run_id.in_(runs))
                .distinct()
                .order_by(table.c.key)
                .limit(limit)
            )
            found[kind] = [str(key) for key in conn.execute(query).scalars()]
        return found
