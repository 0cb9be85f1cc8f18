"""The audit log: append-only events, queried newest first by user, project, action and time."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import AuditEvent
from mltrail.errors import InvalidInputError
from mltrail.store.sql import schema as t
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["AuditMixin"]

_FIELDS = ("time", "user", "action", "method", "path", "project", "run_id", "status", "client", "user_agent")


def _event(row: Any) -> AuditEvent:
    m = row._mapping
    return AuditEvent(id=int(m["id"]), **{name: m[name] for name in _FIELDS})


class AuditMixin(SqlBase):
    """Appending and querying audit events. There is no update or delete."""

    @writes
    def append_audit_event(self, conn: Connection, event: AuditEvent) -> int:
        values = {name: getattr(event, name) for name in _FIELDS}
        result = conn.execute(t.audit_events.insert().values(**values).returning(t.audit_events.c.id))
        return int(result.scalar_one())

    @reads
    def query_audit_events(
        self,
        conn: Connection,
        *,
        user: str | None = None,
        project: str | None = None,
        action: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuditEvent]:
        if limit < 0 or offset < 0:
            raise InvalidInputError("limit and offset must be ≥ 0", field="limit" if limit < 0 else "offset")
        a = t.audit_events.c
        query = sa.select(a.id, *(a[name] for name in _FIELDS))
        if user is not None:
            query = query.where(a.user == user)
        if project is not None:
            query = query.where(a.project == project)
        if action is not None:
            query = query.where(a.action == action)
        if since is not None:
            query = query.where(a.time >= since)
        if until is not None:
            query = query.where(a.time < until)
        query = query.order_by(a.time.desc(), a.id.desc()).limit(limit).offset(offset)
        return [_event(row) for row in conn.execute(query)]
