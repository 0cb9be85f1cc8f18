"""``InProcessRegistry``: the registry services over this process's embedded store."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from mltrail.entities import (
    ApprovalPolicy,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
    Role,
    Stage,
    TransitionRequest,
    Webhook,
    WebhookDelivery,
)
from mltrail.services.accounts.audit import parse_time
from mltrail.services.accounts.service import Principal
from mltrail.services.container import Services
from mltrail.services.registry.service import Origin

__all__ = ["InProcessRegistry"]

_ORIGIN = Origin(client="local", user_agent="mltrail-sdk")


class InProcessRegistry:
    """The embedded registry: the services over the training process's own store."""

    def __init__(self, services: Services, user: str | None, origin: Origin = _ORIGIN) -> None:
        self.services = services
        self.service = services.registry
        self.user = user
        self.origin = origin
        # Whoever holds the embedded store holds the database: it acts as an admin, under its own name.
        self.principal = Principal(name=user, role=Role.ADMIN)

    def with_origin(self, client: str | None, user_agent: str) -> InProcessRegistry:
        return InProcessRegistry(self.services, self.user, Origin(client=client, user_agent=user_agent))

    # -- models -------------------------------------------------------------------------------------------
    def register(
        self, model: str, run_id: str, path: str, description: str | None, tags: Mapping[str, str] | None
    ) -> ModelVersion:
        return self.service.register_version(
            model,
            run_id=run_id,
            source=path,
            principal=self.principal,
            description=description,
            tags=tags,
            origin=self.origin,
        )

    def run_id(self, ref: str, project: str | None = None) -> str:
        return self.services.tracking.resolve_run(ref, project)

    def resolve(self, ref: str) -> ModelVersion:
        return self.service.resolve(ref)

    def get_model(self, name: str) -> RegisteredModel:
        return self.service.get_model(name)

    def list_models(self, project: str | None) -> list[RegisteredModel]:
        return self.models_page(project, 1000)[0]

    def models_page(self, project: str | None, limit: int) -> tuple[list[RegisteredModel], int]:
        return self.service.list_models(projects=None if project is None else [project], limit=limit)

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
        card: Mapping[str, Any] | None = None,
    ) -> RegisteredModel:
        return self.service.update_model(
            name,
            principal=self.principal,
            description=description,
            owner=owner,
            tags=tags,
            card=card,
            origin=self.origin,
        )

    def set_policy(self, name: str, policy: ApprovalPolicy) -> RegisteredModel:
        return self.service.update_model(name, principal=self.principal, policy=policy, origin=self.origin)

    # -- versions -----------------------------------------------------------------------------------------
    def get_version(self, model: str, version: int) -> ModelVersion:
        return self.service.get_version(model, version)

    def versions_page(
        self, model: str, *, stage: Stage | None = None, limit: int = 100
    ) -> tuple[list[ModelVersion], int]:
        return self.service.list_versions(model, stage=stage, limit=limit)

    def update_version(
        self,
        model: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        return self.service.update_version(
            model, version, principal=self.principal, description=description, tags=tags, origin=self.origin
        )

    def model_card(self, version: ModelVersion) -> dict[str, Any]:
        return self.service.model_card(version)

    # -- transitions, aliases, requests ---------------------------------------------------------------------
    def transition(
        self, model: str, version: int, *, stage: str | None, alias: str | None, comment: str | None
    ) -> tuple[ModelVersion, TransitionRequest | None]:
        done = self.service.transition(
            model,
            version,
            principal=self.principal,
            stage=stage,
            alias=alias,
            comment=comment,
            origin=self.origin,
        )
        return done.version, done.request

    def set_alias(
        self, model: str, alias: str, version: int | str, comment: str | None
    ) -> tuple[ModelVersion, TransitionRequest | None]:
        done = self.service.set_alias(
            model, alias, version, principal=self.principal, comment=comment, origin=self.origin
        )
        return done.version, done.request

    def delete_alias(self, model: str, alias: str) -> None:
        self.service.delete_alias(model, alias, principal=self.principal, origin=self.origin)

    def decide(self, request_id: int, *, approve: bool, comment: str | None) -> TransitionRequest:
        return self.service.decide(
            request_id, approve=approve, principal=self.principal, comment=comment, origin=self.origin
        )

    def cancel(self, request_id: int) -> TransitionRequest:
        return self.service.cancel(request_id, principal=self.principal, origin=self.origin)

    def get_request(self, request_id: int) -> TransitionRequest:
        return self.service.get_request(request_id)

    def list_requests(self, model: str | None, status: str) -> list[TransitionRequest]:
        return self.requests_page(model, status, 1000)[0]

    def requests_page(
        self, model: str | None, status: str, limit: int
    ) -> tuple[list[TransitionRequest], int]:
        return self.service.list_requests(
            model=model, status=None if status == "all" else status, limit=limit
        )

    # -- the trail ------------------------------------------------------------------------------------------
    def events(
        self,
        *,
        model: str | None = None,
        user: str | None = None,
        action: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 100,
    ) -> list[RegistryEvent]:
        now = self.service.clock()
        return self.service.events(
            model=model,
            user=user,
            action=action,
            since=parse_time(since, now, "since"),
            until=parse_time(until, now, "until"),
            limit=limit,
        )

    # -- webhooks -------------------------------------------------------------------------------------------
    def create_webhook(self, url: str, events: Sequence[str], model: str | None) -> tuple[Webhook, str]:
        return self.services.webhooks.create(url, list(events), model=model, created_by=self.user)

    def list_webhooks(self, model: str | None) -> list[Webhook]:
        return self.services.webhooks.list(model=model)

    def get_webhook(self, webhook_id: int) -> Webhook:
        return self.services.webhooks.get(webhook_id)

    def delete_webhook(self, webhook_id: int) -> None:
        self.services.webhooks.delete(webhook_id)

    def deliveries(self, webhook_id: int, limit: int) -> list[WebhookDelivery]:
        self.services.webhooks.get(webhook_id)  # an unknown webhook is a NotFoundError, not an empty log
        return self.services.webhooks.deliveries(webhook_id, limit=limit)

    # -- downloads ------------------------------------------------------------------------------------------
    def download_files(self, version: ModelVersion, dest: Path) -> Iterator[str]:
        return self.service.copy_files(version, dest)

    def record_download(self, version: ModelVersion) -> None:
        self.service.record_download(version, principal=self.principal, origin=self.origin)

    def download(self, version: ModelVersion, dest: Path) -> None:
        for _ in self.download_files(version, dest):
            pass
        self.record_download(version)
