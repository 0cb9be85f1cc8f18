"""Webhook subscriptions and their delivery outbox: leasing due deliveries, logging attempts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import DeliveryAttempt, Webhook, WebhookDelivery
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.store.registry import ClaimedDelivery
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import SqlBase, chunks, reads, writes

__all__ = ["WebhooksMixin"]

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def _webhook(row: Any) -> Webhook:
    m = row._mapping
    return Webhook(
        id=int(m["id"]),
        url=m["url"],
        events=tuple(load_json(m["events"])),
        model=m["model"],
        created_by=m["created_by"],
        created_at=float(m["created_at"]),
        active=bool(m["active"]),
    )


_WEBHOOK_COLUMNS = (
    t.webhooks.c.id,
    t.webhooks.c.url,
    t.webhooks.c.events,
    t.webhooks.c.model,
    t.webhooks.c.created_by,
    t.webhooks.c.created_at,
    t.webhooks.c.active,
)


class WebhooksMixin(SqlBase):
    """Subscriptions (deactivated, never deleted, so their delivery log stays) and the outbox the registry's
    event append fills: a dispatcher claims due rows under a lease and records each attempt."""

    @writes
    def create_webhook(
        self,
        conn: Connection,
        *,
        url: str,
        secret: str,
        events: Sequence[str],
        model: str | None,
        created_by: str | None,
        created_at: float,
    ) -> Webhook:
        values = {
            "url": url,
            "secret": secret,
            "events": dump_json(list(events)),
            "model": model,
            "active": True,
            "created_by": created_by,
            "created_at": created_at,
        }
        new_id = conn.execute(t.webhooks.insert().values(**values).returning(t.webhooks.c.id)).scalar_one()
        return Webhook(
            id=int(new_id),
            url=url,
            events=tuple(events),
            model=model,
            created_by=created_by,
            created_at=created_at,
        )

    @reads
    def list_webhooks(self, conn: Connection, *, model: str | None = None) -> list[Webhook]:
        w = t.webhooks.c
        # Deactivated webhooks are what "deleted" means to users; get_webhook still finds them.
        query = sa.select(*_WEBHOOK_COLUMNS).where(w.active.is_(True))
        if model is not None:
            query = query.where(sa.or_(w.model.is_(None), w.model == model))
        return [_webhook(row) for row in conn.execute(query.order_by(w.id))]

    @reads
    def get_webhook(self, conn: Connection, webhook_id: int) -> Webhook:
        row = conn.execute(sa.select(*_WEBHOOK_COLUMNS).where(t.webhooks.c.id == webhook_id)).first()
        if row is None:
            raise NotFoundError(f"no webhook {webhook_id}")
        return _webhook(row)

    @writes
    def delete_webhook(self, conn: Connection, webhook_id: int) -> None:
        result = conn.execute(t.webhooks.update().where(t.webhooks.c.id == webhook_id).values(active=False))
        if result.rowcount == 0:
            raise NotFoundError(f"no webhook {webhook_id}")
        # What is still queued would otherwise stay pending forever (claims skip inactive webhooks); the
        # deliveries stay in the log as failed, without attempts.
        d = t.webhook_deliveries.c
        conn.execute(
            t.webhook_deliveries.update()
            .where(d.webhook_id == webhook_id, d.status == PENDING)
            .values(status=FAILED, next_attempt_at=None)
        )

    @writes
    def claim_deliveries(
        self, conn: Connection, *, now: float, lease_seconds: float, limit: int
    ) -> list[ClaimedDelivery]:
        if limit < 1 or lease_seconds <= 0:
            raise InvalidInputError(
                "limit and lease_seconds must be positive", field="limit" if limit < 1 else "lease_seconds"
            )
        d, w = t.webhook_deliveries.c, t.webhooks.c
        query = (
            sa.select(d.id, d.webhook_id, d.action, d.payload, d.attempts, w.url, w.secret)
            .join(t.webhooks, w.id == d.webhook_id)
            .where(d.status == PENDING, d.next_attempt_at <= now, w.active.is_(True))
            .order_by(d.id)
            .limit(limit)
        )
        if not self._sqlite:
            # Two dispatchers each lock a different set of rows instead of waiting for each other. SQLite
            # needs nothing: the write transaction (BEGIN IMMEDIATE) already excludes every other writer.
            query = query.with_for_update(of=t.webhook_deliveries, skip_locked=True)
        rows = conn.execute(query).all()
        if not rows:
            return []
        # The lease: until it runs out no claim sees these rows again; if this dispatcher dies mid-send the
        # delivery simply becomes due again (at least once, never lost).
        ids = [int(row.id) for row in rows]
        for part in chunks(ids):
            conn.execute(
                t.webhook_deliveries.update()
                .where(d.id.in_(part))
                .values(next_attempt_at=now + lease_seconds)
            )
        return [
            ClaimedDelivery(
                delivery_id=int(row.id),
                webhook_id=int(row.webhook_id),
                url=row.url,
                secret=row.secret,
                payload=load_json(row.payload),
                attempt=int(row.attempts) + 1,
                body=row.payload.encode(),
                action=row.action,
            )
            for row in rows
        ]

    @writes
    def record_delivery_attempt(
        self,
        conn: Connection,
        delivery_id: int,
        *,
        attempt: int,
        time: float,
        status_code: int | None,
        error: str | None,
        duration_ms: float,
        next_attempt_at: float | None,
        delivered: bool,
    ) -> None:
        d = t.webhook_deliveries.c
        if delivered:
            status, next_at = DELIVERED, None
        elif next_attempt_at is None:
            status, next_at = FAILED, None
        else:
            status, next_at = PENDING, next_attempt_at
        # Only the attempt that follows the recorded ones counts: a dispatcher whose lease ran out while it
        # waited on a slow receiver may report after another one took over and recorded the same attempt.
        # A delivery that stopped being pending meanwhile (its webhook was deleted) keeps its status.
        result = conn.execute(
            t.webhook_deliveries.update()
            .where(d.id == delivery_id, d.attempts == attempt - 1)
            .values(
                attempts=attempt,
                status=sa.case((d.status == PENDING, sa.literal(status, sa.String())), else_=d.status),
                next_attempt_at=None
                if next_at is None
                else sa.case((d.status == PENDING, sa.cast(next_at, sa.Double())), else_=sa.null()),
            )
        )
        if result.rowcount == 0:
            exists = conn.execute(sa.select(d.id).where(d.id == delivery_id)).scalar_one_or_none()
            if exists is None:
                raise NotFoundError(f"no webhook delivery {delivery_id}")
            return
        conn.execute(
            t.webhook_attempts.insert().values(
                delivery_id=delivery_id,
                attempt=attempt,
                time=time,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
            )
        )

    @reads
    def list_deliveries(
        self, conn: Connection, webhook_id: int, *, limit: int = 100
    ) -> list[WebhookDelivery]:
        if limit < 0:
            raise InvalidInputError("limit must be ≥ 0", field="limit")
        found = conn.execute(sa.select(t.webhooks.c.id).where(t.webhooks.c.id == webhook_id)).first()
        if found is None:
            raise NotFoundError(f"no webhook {webhook_id}")
        d = t.webhook_deliveries.c
        rows = conn.execute(
            sa.select(t.webhook_deliveries)
            .where(d.webhook_id == webhook_id)
            .order_by(d.created_at.desc(), d.id.desc())
            .limit(limit)
        ).all()
        logs: dict[int, list[DeliveryAttempt]] = {int(row.id): [] for row in rows}
        a = t.webhook_attempts.c
        for part in chunks(list(logs)):
            for att in conn.execute(
                sa.select(t.webhook_attempts)
                .where(a.delivery_id.in_(part))
                .order_by(a.delivery_id, a.attempt)
            ):
                logs[int(att.delivery_id)].append(
                    DeliveryAttempt(
                        attempt=int(att.attempt),
                        time=float(att.time),
                        status_code=None if att.status_code is None else int(att.status_code),
                        error=att.error,
                        duration_ms=float(att.duration_ms),
                    )
                )
        return [
            WebhookDelivery(
                id=int(row.id),
                webhook_id=int(row.webhook_id),
                event_id=int(row.event_id),
                action=row.action,
                status=row.status,
                attempts=int(row.attempts),
                next_attempt_at=None if row.next_attempt_at is None else float(row.next_attempt_at),
                created_at=float(row.created_at),
                payload=load_json(row.payload),
                log=tuple(logs[int(row.id)]),
            )
            for row in rows
        ]
