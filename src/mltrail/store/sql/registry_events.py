"""The registry's audit trail: appending events (with their webhook deliveries) and querying them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import RegistryEvent
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["RegistryEventsMixin", "event_payload"]


def event_payload(event: RegistryEvent, event_id: int, project: str) -> dict[str, Any]:
    """The JSON a webhook receives for an event (docs/WEBHOOKS.md)."""
    return {
        "id": event_id,
        "action": event.action,
        "time": event.time,
        "model": event.model,
        "version": event.version,
        "project": project,
        "user": event.user,
        "details": event.details,
    }


def _event(row: Any) -> RegistryEvent:
    m = row._mapping
    return RegistryEvent(
        id=int(m["id"]),
        time=float(m["time"]),
        model=m["model"],
        project=m["project"],
        version=m["version"],
        action=m["action"],
        user=m["user"],
        details=load_json(m["details"]) or {},
        client=m["client"],
        user_agent=m["user_agent"],
    )


class RegistryEventsMixin(SqlBase):
    """Events are only ever inserted; there is no update or delete."""

    @staticmethod
    def _model_project(conn: Connection, model: str) -> str:
        found = conn.execute(
            sa.select(t.projects.c.name)
            .select_from(t.registered_models.join(t.projects))
            .where(t.registered_models.c.name == model)
        ).scalar_one_or_none()
        if found is None:
            raise NotFoundError(f"no registered model {model!r}")
        return str(found)

    def _append_events(self, conn: Connection, events: Sequence[RegistryEvent]) -> list[int]:
        """Insert events, and a pending delivery for each active webhook subscribed to one."""
        ids: list[int] = []
        if not events:
            return ids
        hooks = conn.execute(
            sa.select(t.webhooks.c.id, t.webhooks.c.model, t.webhooks.c.events).where(t.webhooks.c.active)
        ).all()
        projects: dict[str, str] = {}
        for event in events:
            project = event.project or projects.get(event.model) or self._model_project(conn, event.model)
            projects[event.model] = project
            event_id = int(
                conn.execute(
                    t.registry_events.insert()
                    .values(
                        time=event.time,
                        model=event.model,
                        project=project,
                        version=event.version,
                        action=event.action,
                        user=event.user,
                        details=dump_json(event.details),
                        client=event.client,
                        user_agent=event.user_agent,
                    )
                    .returning(t.registry_events.c.id)
                ).scalar_one()
            )
            ids.append(event_id)
            targets = [
                hook.id
                for hook in hooks
                if (hook.model is None or hook.model == event.model)
                and event.action in (load_json(hook.events) or [])
            ]
            if targets:
                payload = dump_json(event_payload(event, event_id, project))
                conn.execute(
                    t.webhook_deliveries.insert(),
                    [
                        {
                            "webhook_id": hook_id,
                            "event_id": event_id,
                            "action": event.action,
                            "payload": payload,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": event.time,
                            "created_at": event.time,
                        }
                        for hook_id in targets
                    ],
                )
        return ids

    @writes
    def append_registry_event(self, conn: Connection, event: RegistryEvent) -> int:
        return self._append_events(conn, [event])[0]

    @reads
    def query_registry_events(
        self,
        conn: Connection,
        *,
        model: str | None = None,
        user: str | None = None,
        action: str | None = None,
        since: float | None = None,
        until: float | None = None,
        projects: Sequence[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[RegistryEvent]:
        if limit < 0 or offset < 0:
            raise InvalidInputError("limit and offset must be ≥ 0", field="limit" if limit < 0 else "offset")
        e = t.registry_events.c
        query = sa.select(t.registry_events)
        if model is not None:
            query = query.where(e.model == model)
        if user is not None:
            query = query.where(e.user == user)
        if action is not None:
            query = query.where(e.action == action)
        if since is not None:
            query = query.where(e.time >= since)
        if until is not None:
            query = query.where(e.time < until)
        if projects is not None:
            query = query.where(e.project.in_(list(projects)))
        query = query.order_by(e.time.desc(), e.id.desc()).limit(limit).offset(offset)
        return [_event(row) for row in conn.execute(query)]
