"""FastAPI dependencies as ``Annotated`` aliases: the services on ``app.state`` and the authenticated user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mltrail.api.audit_log import audit_note
from mltrail.api.authn import authenticate_request
from mltrail.services.accounts.audit import AuditService
from mltrail.services.accounts.service import ANONYMOUS, AccountService, Principal
from mltrail.services.accounts.sessions import SessionService
from mltrail.services.monitoring.alerts import AlertService
from mltrail.services.monitoring.service import MonitoringService
from mltrail.services.registry.service import RegistryService
from mltrail.services.registry.webhooks import WebhookService
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.datasets import DatasetService
from mltrail.services.tracking.service import TrackingService

__all__ = [
    "AccountsDep",
    "AlertsDep",
    "ArtifactsDep",
    "AuditDep",
    "CurrentUser",
    "DatasetsDep",
    "MaxUploadDep",
    "MonitoringDep",
    "RegistryDep",
    "SessionsDep",
    "TrackingDep",
    "WebhooksDep",
    "current_user",
    "from_state",
]


def from_state(name: str) -> Any:
    """A dependency on ``request.app.state.<name>``: a service (or setting) the app's lifespan put there.
    Use it as ``Annotated[ItsType, from_state(name)]``."""

    async def get(request: Request) -> Any:  # async: no I/O, so no worker-thread hop
        return getattr(request.app.state, name)

    return Depends(get)


# Declares the scheme in the OpenAPI spec (the docs page gets an "Authorize" button); checking is ours.
_bearer = HTTPBearer(auto_error=False, description="an mltrail API key: mlt_…")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def current_user(request: Request, credentials: Credentials) -> Principal:
    """Who sends the request. Every ``/api/v1`` route depends on this (see ``app.create_app``).

    With authentication on, the ``Authorization: Bearer <key>`` header must carry a valid key of an enabled
    user, or the request the web UI's session cookie (and, for a write, its ``X-CSRF-Token``): see
    ``api/authn.py``; else ``AuthenticationError``, 401 with ``WWW-Authenticate: Bearer``, or 403 for a
    missing or wrong CSRF token. With it off, every request is the anonymous principal, which may do
    everything, as on a single-user loopback server; that costs no database read and no worker thread.
    ``credentials`` is declared for the OpenAPI document (the docs page's "Authorize" button).
    """
    principal = ANONYMOUS
    if request.app.state.auth:
        principal = await authenticate_request(request, request.method)
    note = audit_note(request.scope)
    if note is not None:
        note.user = principal.name
    return principal


TrackingDep = Annotated[TrackingService, from_state("tracking")]
ArtifactsDep = Annotated[ArtifactService, from_state("artifacts")]
DatasetsDep = Annotated[DatasetService, from_state("datasets")]
AccountsDep = Annotated[AccountService, from_state("accounts")]
SessionsDep = Annotated[SessionService, from_state("sessions")]
AuditDep = Annotated[AuditService, from_state("audit")]
RegistryDep = Annotated[RegistryService, from_state("registry")]
WebhooksDep = Annotated[WebhookService, from_state("webhooks")]
MonitoringDep = Annotated[MonitoringService, from_state("monitoring")]
AlertsDep = Annotated[AlertService, from_state("alerts")]
MaxUploadDep = Annotated[int | None, from_state("max_upload_bytes")]
CurrentUser = Annotated[Principal, Depends(current_user)]
