"""FastAPI dependencies as ``Annotated`` aliases: the services on ``app.state`` and the authenticated user."""

from __future__ import annotations

from typing import Annotated

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
]


def _tracking(request: Request) -> TrackingService:
    service: TrackingService = request.app.state.tracking
    return service


def _artifacts(request: Request) -> ArtifactService:
    service: ArtifactService = request.app.state.artifacts
    return service


def _datasets(request: Request) -> DatasetService:
    service: DatasetService = request.app.state.datasets
    return service


def _accounts(request: Request) -> AccountService:
    service: AccountService = request.app.state.accounts
    return service


def _sessions(request: Request) -> SessionService:
    service: SessionService = request.app.state.sessions
    return service


def _audit(request: Request) -> AuditService:
    service: AuditService = request.app.state.audit
    return service


def _registry(request: Request) -> RegistryService:
    service: RegistryService = request.app.state.registry
    return service


def _webhooks(request: Request) -> WebhookService:
    service: WebhookService = request.app.state.webhooks
    return service


def _monitoring(request: Request) -> MonitoringService:
    service: MonitoringService = request.app.state.monitoring
    return service


def _alerts(request: Request) -> AlertService:
    service: AlertService = request.app.state.alerts
    return service


def _max_upload(request: Request) -> int | None:
    limit: int | None = request.app.state.max_upload_bytes
    return limit


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


TrackingDep = Annotated[TrackingService, Depends(_tracking)]
ArtifactsDep = Annotated[ArtifactService, Depends(_artifacts)]
DatasetsDep = Annotated[DatasetService, Depends(_datasets)]
AccountsDep = Annotated[AccountService, Depends(_accounts)]
SessionsDep = Annotated[SessionService, Depends(_sessions)]
AuditDep = Annotated[AuditService, Depends(_audit)]
RegistryDep = Annotated[RegistryService, Depends(_registry)]
WebhooksDep = Annotated[WebhookService, Depends(_webhooks)]
MonitoringDep = Annotated[MonitoringService, Depends(_monitoring)]
AlertsDep = Annotated[AlertService, Depends(_alerts)]
MaxUploadDep = Annotated[int | None, Depends(_max_upload)]
CurrentUser = Annotated[Principal, Depends(current_user)]
