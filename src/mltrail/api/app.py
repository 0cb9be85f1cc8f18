"""``create_app(settings)``: the team server's FastAPI application, with no module-level state."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

from mltrail.api.accounts import audit, keys, me, users
from mltrail.api.audit_log import AuditMiddleware
from mltrail.api.deps import current_user
from mltrail.api.docs import install_docs
from mltrail.api.errors import install_error_handlers
from mltrail.api.monitoring import alerts as monitor_alerts
from mltrail.api.monitoring import ingest as monitor_ingest
from mltrail.api.monitoring import monitors
from mltrail.api.registry import audit as registry_audit
from mltrail.api.registry import models
from mltrail.api.registry import requests as model_requests
from mltrail.api.registry import versions as model_versions
from mltrail.api.registry import webhooks as webhooks_router
from mltrail.api.tracking import artifacts, datasets, metrics, projects, runs
from mltrail.entities import Role
from mltrail.notify import EmailSettings, HttpPoster, parse_channel, send_alert
from mltrail.services.accounts.audit import COALESCED_ACTIONS, AuditService
from mltrail.services.accounts.service import AccountService
from mltrail.services.monitoring.alerts import AlertService, Notifier
from mltrail.services.monitoring.service import MonitoringService
from mltrail.services.registry.service import RegistryService
from mltrail.services.registry.webhooks import WebhookDispatcher, WebhookService
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.datasets import DatasetService
from mltrail.services.tracking.service import TrackingService
from mltrail.settings import Settings
from mltrail.store.base import Store
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store

__all__ = ["create_app"]

_log = logging.getLogger("mltrail.api")


def _version() -> str:
    try:
        return version("mltrail")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "0"


def _alert_notifier(poster: HttpPoster, environ: Mapping[str, str]) -> Notifier:
    """Alerts sent through ``mltrail.notify``: e-mail through ``MLTRAIL_SMTP_URL`` (a malformed URL stops
    the server at startup rather than every alert later), webhooks signed with
    ``MLTRAIL_ALERT_WEBHOOK_SECRET``."""
    smtp_url = environ.get("MLTRAIL_SMTP_URL", "").strip()
    email = EmailSettings.from_url(smtp_url) if smtp_url else None
    secret = environ.get("MLTRAIL_ALERT_WEBHOOK_SECRET") or None

    def notify(spec: str, alert: Mapping[str, Any]) -> tuple[bool, int | None, str | None]:
        report = send_alert(parse_channel(spec), alert, poster=poster, email_settings=email, secret=secret)
        return report.ok, report.status_code, report.error

    return notify


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    max_upload_bytes: int | None = None,
    auth: bool = False,
    audit_coalesce: Mapping[str, float] = COALESCED_ACTIONS,
    webhooks: bool = True,
    notifier: Notifier | None = None,
) -> FastAPI:
    """The API on ``settings.db_url`` and ``settings.blobs`` (or on ``store``, which the caller closes).

    ``max_upload_bytes`` limits one artifact upload (413 above it); None means no limit. With ``auth`` every
    ``/api/v1`` request needs an API key (``Authorization: Bearer …``) and project roles apply; without it
    every request is anonymous with full access. Successful writes are audited either way;
    ``audit_coalesce`` says which high-frequency actions are recorded at most once per how many seconds
    (per user, run and process). Services live on ``app.state`` for the lifetime of the app; requests
    share nothing else (but that coalescing memory), so replicas can run side by side. With ``webhooks``
    a ``WebhookDispatcher`` thread delivers registry events to webhooks while the app runs; without it
    deliveries are queued in the store but not sent (for tests). Monitoring alerts go out through
    ``notifier`` (default: ``mltrail.notify`` configured from the environment as it is at startup).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        alert_poster: HttpPoster | None = None
        sender = notifier
        if sender is None:  # first: a bad MLTRAIL_SMTP_URL fails here, before anything is opened
            alert_poster = HttpPoster()
            try:
                sender = _alert_notifier(alert_poster, os.environ)
            except BaseException:
                alert_poster.close()
                raise
        opened = store if store is not None else open_store(settings.db_url)
        blobs = BlobStore(settings.blobs)
        app.state.tracking = TrackingService(opened, heartbeat_timeout=settings.heartbeat_timeout)
        app.state.artifacts = ArtifactService(opened, blobs)
        app.state.datasets = DatasetService(opened)
        app.state.accounts = AccountService(opened)
        app.state.audit = AuditService(opened, coalesce=audit_coalesce)
        poster = HttpPoster() if webhooks else None
        dispatcher = None if poster is None else WebhookDispatcher(opened, poster)
        app.state.registry = RegistryService(
            opened, blobs, app.state.accounts, on_event=None if dispatcher is None else dispatcher.wake
        )
        app.state.webhooks = WebhookService(opened)
        app.state.alerts = alerts = AlertService(opened, notifier=sender)
        app.state.monitoring = MonitoringService(opened, blobs, after_ingest=alerts.evaluate, cache=False)
        if auth and not any(u.role == Role.ADMIN and not u.disabled for u in opened.list_users()):
            _log.warning(
                "authentication is on but there is no admin yet: create one with"
                " `mltrail --db URL users create NAME --role admin` (it prints the API key once)"
            )
        if dispatcher is not None:
            dispatcher.start()
        try:
            yield
        finally:
            if dispatcher is not None:
                dispatcher.stop()
            if poster is not None:
                poster.close()
            alerts.close()  # the queued notifications go out (and are logged) before the store closes
            if alert_poster is not None:
                alert_poster.close()
            if store is None:
                opened.close()

    app = FastAPI(
        title="mltrail",
        version=_version(),
        summary="Experiment tracking and a model registry: projects, runs, metrics, artifacts, models.",
        lifespan=lifespan,
        docs_url=None,  # install_docs serves /api/docs from the package's files, not a CDN
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.max_upload_bytes = max_upload_bytes
    app.state.auth = auth
    install_error_handlers(app)
    install_docs(app)
    app.add_middleware(AuditMiddleware)
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(current_user)])
    routers = (projects, runs, metrics, artifacts, datasets, me, users, keys, audit)
    registry = (models, model_versions, model_requests, registry_audit, webhooks_router)
    monitoring = (monitors, monitor_ingest, monitor_alerts)
    for module in (*routers, *registry, *monitoring):
        api.include_router(module.router)
    app.include_router(api)

    @app.get("/api/v1/health", tags=["server"])
    def health() -> dict[str, str]:
        """Readiness: the app has started and opened its store."""
        return {"status": "ok", "version": app.version}

    return app
