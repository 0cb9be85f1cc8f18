"""Request and response bodies of ``/api/v1/webhooks``: subscriptions and their delivery log.

No response but the one that created a webhook holds its signing secret (``NewWebhookPublic.secret``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mltrail.api.tracking.schemas import _In, _Out
from mltrail.entities import WEBHOOK_EVENTS, DeliveryAttempt, Webhook, WebhookDelivery

__all__ = [
    "DeliveryAttemptPublic",
    "DeliveryPublic",
    "NewWebhookPublic",
    "WebhookCreate",
    "WebhookPublic",
]


class WebhookCreate(_In):
    url: str = Field(description="http:// or https:// URL that receives signed POSTs")
    events: list[str] = Field(
        default_factory=list, description=f"a subset of {', '.join(WEBHOOK_EVENTS)}; none: all of them"
    )
    model: str | None = Field(None, description="only this model's events; none: every model (admin)")


class WebhookPublic(_Out):
    id: int
    url: str
    events: list[str]
    model: str | None
    created_by: str | None
    created_at: float
    active: bool

    @classmethod
    def of(cls, w: Webhook) -> WebhookPublic:
        return cls(
            id=w.id,
            url=w.url,
            events=list(w.events),
            model=w.model,
            created_by=w.created_by,
            created_at=w.created_at,
            active=w.active,
        )


class NewWebhookPublic(_Out):
    """A webhook just created. ``secret`` signs its deliveries (``X-Mltrail-Signature``): shown this once."""

    webhook: WebhookPublic
    secret: str


class DeliveryAttemptPublic(_Out):
    attempt: int
    time: float
    status_code: int | None
    error: str | None
    duration_ms: float

    @classmethod
    def of(cls, a: DeliveryAttempt) -> DeliveryAttemptPublic:
        return cls(
            attempt=a.attempt,
            time=a.time,
            status_code=a.status_code,
            error=a.error,
            duration_ms=a.duration_ms,
        )


class DeliveryPublic(_Out):
    id: int
    webhook_id: int
    event_id: int
    action: str
    status: str
    attempts: int
    next_attempt_at: float | None
    created_at: float
    payload: dict[str, Any]
    log: list[DeliveryAttemptPublic]

    @classmethod
    def of(cls, d: WebhookDelivery) -> DeliveryPublic:
        return cls(
            id=d.id,
            webhook_id=d.webhook_id,
            event_id=d.event_id,
            action=d.action,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            created_at=d.created_at,
            payload=d.payload,
            log=[DeliveryAttemptPublic.of(a) for a in d.log],
        )
