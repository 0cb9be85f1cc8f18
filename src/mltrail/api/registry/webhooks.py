"""``/api/v1/webhooks``: subscriptions to registry events, and each one's delivery log.

A maintainer of a model's project manages that model's webhooks; a server admin those for every model.
The signing secret is in the response that created the webhook and nowhere else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from mltrail.api.deps import WebhooksDep
from mltrail.api.registry.access import RegistryAccessDep
from mltrail.api.registry.webhook_schemas import (
    DeliveryPublic,
    NewWebhookPublic,
    WebhookCreate,
    WebhookPublic,
)
from mltrail.api.tracking.schemas import INT64_MAX
from mltrail.entities import Role

__all__ = ["router"]

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
NO_CONTENT = status.HTTP_204_NO_CONTENT
WebhookId = Annotated[int, Path(ge=1, le=INT64_MAX)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook(body: WebhookCreate, ra: RegistryAccessDep, webhooks: WebhooksDep) -> NewWebhookPublic:
    """Subscribe ``url`` to registry events (all of ``WEBHOOK_EVENTS`` when ``events`` is empty). The
    response holds the signing secret, shown this once."""
    ra.may_manage_webhooks(body.model)
    webhook, secret = webhooks.create(body.url, body.events, model=body.model, created_by=ra.principal.name)
    return NewWebhookPublic(webhook=WebhookPublic.of(webhook), secret=secret)


@router.get("")
def list_webhooks(
    ra: RegistryAccessDep,
    webhooks: WebhooksDep,
    model: Annotated[str | None, Query(description="this model's webhooks and those for every model")] = None,
) -> list[WebhookPublic]:
    """Active webhooks: an admin sees all; others those of models they maintain."""
    if model is not None:
        ra.model(model, Role.VIEWER)
    listed = webhooks.list(model=model)
    return [WebhookPublic.of(w) for w in listed if ra.can_manage_webhooks(w.model)]


@router.get("/{webhook_id}")
def get_webhook(webhook_id: WebhookId, ra: RegistryAccessDep) -> WebhookPublic:
    return WebhookPublic.of(ra.webhook(webhook_id))


@router.delete("/{webhook_id}", status_code=NO_CONTENT)
def delete_webhook(webhook_id: WebhookId, ra: RegistryAccessDep, webhooks: WebhooksDep) -> Response:
    """Deactivate the webhook: nothing more is sent; its delivery log is kept."""
    ra.webhook(webhook_id)
    webhooks.delete(webhook_id)
    return Response(status_code=NO_CONTENT)


@router.get("/{webhook_id}/deliveries")
def list_webhook_deliveries(
    webhook_id: WebhookId,
    ra: RegistryAccessDep,
    webhooks: WebhooksDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryPublic]:
    """The webhook's deliveries newest first, each with its attempts, status codes and errors."""
    ra.webhook(webhook_id)
    return [DeliveryPublic.of(d) for d in webhooks.deliveries(webhook_id, limit=limit)]
