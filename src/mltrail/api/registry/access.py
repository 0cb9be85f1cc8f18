"""What the registry routes share: the caller's role on a model's project, who acts, and where from.

A model, request or webhook whose project the caller has the role ``none`` on raises the very
``NotFoundError`` a missing one raises; a visible one with too low a role is 403. Without authentication
everything is allowed and the acting user is the ``user`` of the body (an admin principal of that name,
so the service can still refuse a self-approval).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Query, Request

from mltrail.api.access import Access, AccessDep
from mltrail.api.audit_log import request_origin
from mltrail.api.deps import RegistryDep, TrackingDep, WebhooksDep
from mltrail.api.tracking.schemas import INT64_MAX
from mltrail.entities import ModelVersion, RegisteredModel, Role, TransitionRequest, Webhook
from mltrail.errors import NotFoundError, PermissionDeniedError
from mltrail.services.accounts.service import Principal
from mltrail.services.registry.service import Origin, RegistryService
from mltrail.services.registry.webhooks import WebhookService
from mltrail.services.tracking.service import TrackingService

__all__ = ["ActingUser", "Limit", "Offset", "RegistryAccess", "RegistryAccessDep"]

_NUMBER = re.compile(r"^[0-9]{1,30}$")

Offset = Annotated[int, Query(ge=0, le=2**31)]
Limit = Annotated[int, Query(ge=1, le=1000)]
ActingUser = Annotated[
    str | None, Query(max_length=200, description="who acts, without authentication (ignored with it)")
]


class RegistryAccess:
    """The current principal's permissions on registry objects, for one request."""

    def __init__(
        self,
        access: Access,
        registry: RegistryService,
        tracking: TrackingService,
        webhooks: WebhookService,
        request: Request,
    ) -> None:
        self.access = access
        self.registry = registry
        self._tracking = tracking
        self._webhooks = webhooks
        self._request = request

    @property
    def principal(self) -> Principal:
        return self.access.principal

    def model(self, name: str, minimum: Role) -> RegisteredModel:
        """The model, after checking the principal's role on its project."""
        model = self.registry.get_model(name)
        self.access.project(model.project, minimum, NotFoundError(f"no registered model {name!r}"))
        return model

    def model_if_exists(self, name: str, minimum: Role) -> RegisteredModel | None:
        """The model after the check, or None if there is none (a hidden one is a 404 all the same)."""
        try:
            model = self.registry.get_model(name)
        except NotFoundError:
            return None
        self.access.project(model.project, minimum, NotFoundError(f"no registered model {name!r}"))
        return model

    def project(self, project: str, minimum: Role) -> None:
        self.access.project(project, minimum)

    def run(self, run_id: str, minimum: Role) -> str:
        return self.access.run(run_id, minimum)

    def request(self, request_id: int, minimum: Role) -> TransitionRequest:
        """The transition request, after checking the principal's role on its model's project."""
        request = self.registry.get_request(request_id)
        model = self.registry.get_model(request.model)
        self.access.project(model.project, minimum, NotFoundError(f"no transition request {request_id}"))
        return request

    def webhook(self, webhook_id: int) -> Webhook:
        """A webhook its caller may manage: a maintainer of its model's project, or an admin for one that
        covers every model."""
        webhook = self._webhooks.get(webhook_id)
        self.may_manage_webhooks(webhook.model, NotFoundError(f"no webhook {webhook_id}"))
        return webhook

    def may_manage_webhooks(self, model: str | None, missing: NotFoundError | None = None) -> None:
        if model is None:
            self.access.require_admin("a webhook for every model")
            return
        try:
            project = self.registry.get_model(model).project
        except NotFoundError:
            if missing is not None:
                raise missing from None
            raise
        self.access.project(
            project, Role.MAINTAINER, missing or NotFoundError(f"no registered model {model!r}")
        )

    def can_manage_webhooks(self, model: str | None) -> bool:
        try:
            self.may_manage_webhooks(model)
        except (NotFoundError, PermissionDeniedError):
            return False
        return True

    def visible_projects(self) -> list[str] | None:
        """The projects the principal may view (None: every project)."""
        return self.access.visible_names(self._tracking)

    def version(self, model: str, selector: str) -> ModelVersion:
        """A version by number, alias or stage name (the newest version in that stage)."""
        text = selector.strip()
        if _NUMBER.match(text):
            number = int(text)
            if not 1 <= number <= INT64_MAX:
                raise NotFoundError(f"model {model!r} has no version {text}")
            return self.registry.get_version(model, number)
        return self.registry.resolve(f"{model}@{text}")

    def actor(self, user: str | None) -> Principal:
        """Who acts: the authenticated user; without authentication the body's ``user`` if given."""
        if self.principal.anonymous and user:
            if self.access.note is not None:
                self.access.note.user = user
            return Principal(name=user, role=Role.ADMIN)
        return self.principal

    @property
    def origin(self) -> Origin:
        return request_origin(self._request)


async def _registry_access(
    access: AccessDep,
    registry: RegistryDep,
    tracking: TrackingDep,
    webhooks: WebhooksDep,
    request: Request,
) -> RegistryAccess:
    # async: no I/O here, so no worker-thread hop
    return RegistryAccess(access, registry, tracking, webhooks, request)


RegistryAccessDep = Annotated[RegistryAccess, Depends(_registry_access)]
