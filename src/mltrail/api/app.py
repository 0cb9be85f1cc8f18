"""``create_app(settings)``: the team server's FastAPI application, with no module-level state."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI

from mltrail.api.accounts import audit, keys, me, users
from mltrail.api.accounts import session as web_session
from mltrail.api.audit_log import AuditMiddleware
from mltrail.api.deployments import routes as deployment_routes
from mltrail.api.deps import current_user
from mltrail.api.docs import install_docs
from mltrail.api.errors import UnhandledErrorMiddleware, install_error_handlers
from mltrail.api.insights import routes as insight_routes
from mltrail.api.limits import BodyLimitMiddleware
from mltrail.api.mlflow.errors import MLFLOW_PREFIXES
from mltrail.api.mlflow.routes import mlflow_routers
from mltrail.api.monitoring import alerts as monitor_alerts
from mltrail.api.monitoring import ingest as monitor_ingest
from mltrail.api.monitoring import monitors
from mltrail.api.registry import audit as registry_audit
from mltrail.api.registry import models, run_versions
from mltrail.api.registry import requests as model_requests
from mltrail.api.registry import versions as model_versions
from mltrail.api.registry import webhooks as webhooks_router
from mltrail.api.reports import routes as report_routes
from mltrail.api.tracking import artifact_uploads, artifacts, datasets, histories, metrics, projects, runs
from mltrail.api.tracking import media as run_media
from mltrail.api.tracking import tables as run_tables
from mltrail.api.ui import mount_ui
from mltrail.entities import Role
from mltrail.notify import HttpPoster, alert_notifier
from mltrail.notify.destinations import DestinationPolicy
from mltrail.services.accounts.audit import COALESCED_ACTIONS
from mltrail.services.container import Services
from mltrail.services.monitoring.alerts import Notifier
from mltrail.settings import Settings
from mltrail.store.base import Store

__all__ = ["create_app"]

_log = logging.getLogger("mltrail.api")


def _version() -> str:
    try:
        return version("mltrail")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "0"


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    max_upload_bytes: int | None = None,
    auth: bool = False,
    audit_coalesce: Mapping[str, float] = COALESCED_ACTIONS,
    webhooks: bool = True,
    notifier: Notifier | None = None,
    ui_dir: Path | None = None,
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
    The web UI's built files are served from ``ui_dir`` (default: the package's ``api/ui_assets``).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # With accounts, members may not aim webhooks or alerts at the server's own network (SSRF).
        policy = DestinationPolicy.from_settings(settings) if auth else None
        made_notifier = None
        sender = notifier
        if sender is None:  # first: a bad MLTRAIL_SMTP_URL fails here, before anything is opened
            sender = made_notifier = alert_notifier(settings, HttpPoster(policy=policy))
        poster = HttpPoster(policy=policy) if webhooks else None
        services = Services(
            settings,
            store=store,
            notifier=sender,
            webhook_poster=poster,
            audit_coalesce=audit_coalesce,
            monitoring_cache=False,
            statement_timeout=settings.statement_timeout or None,
            destinations=policy,  # replicas share the database: no monitor is cached between requests
        )
        if not getattr(app.state, "ui_mounted", False):
            # At start-up, so that its catch-all comes after every route, those added to the app later too.
            mount_ui(app, ui_dir)
            app.state.ui_mounted = True
        try:
            opened = services.store
            names: tuple[str, ...] = ("tracking", "artifacts", "datasets", "tables", "samples", "accounts")
            names = (*names, "media", "sessions", "audit", "registry")
            for name in (*names, "webhooks"):
                setattr(app.state, name, getattr(services, name))
            app.state.deployments = services.deployments
            app.state.reports = services.reports
            app.state.deployment_evidence = services.deployment_evidence
            app.state.alerts = services.alerts
            app.state.insights = services.insights
            app.state.monitoring = services.monitoring
            app.state.mlflow_tracking = services.mlflow_tracking
            app.state.mlflow_models = services.mlflow_models
            app.state.mlflow_logged_models = services.mlflow_logged_models
            if auth and not any(u.role == Role.ADMIN and not u.disabled for u in opened.list_users()):
                _log.warning(
                    "authentication is on but there is no admin yet: create one with"
                    " `mltrail --db URL users create NAME --role admin` (it prints the API key once)"
                )
            yield
        finally:
            # The dispatcher stops and queued alert notifications go out (and are logged) before the
            # store closes; then the HTTP clients that sent them.
            services.close()
            if poster is not None:
                poster.close()
            if made_notifier is not None:
                made_notifier.close()

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
    app.state.cookie_secure = settings.cookie_secure
    install_error_handlers(app)
    install_docs(app)
    app.add_middleware(UnhandledErrorMiddleware)  # innermost: the audit sees the 500 and skips it
    app.add_middleware(AuditMiddleware, prefix=("/api/v1/", *MLFLOW_PREFIXES))
    app.add_middleware(BodyLimitMiddleware)  # outermost: no byte of a refused body is read
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(current_user)])
    routers = (
        run_tables,
        projects,
        runs,
        metrics,
        histories,
        artifacts,
        artifact_uploads,
        datasets,
        me,
        users,
        keys,
        audit,
    )
    registry = (models, model_versions, run_versions, model_requests, registry_audit, webhooks_router)
    monitoring = (monitors, monitor_ingest, monitor_alerts)
    for module in (
        run_media,
        *routers,
        *registry,
        *monitoring,
        deployment_routes,
        report_routes,
        insight_routes,
    ):
        api.include_router(module.router)
    api.include_router(run_tables.samples_router)
    app.include_router(api)
    for mlflow_router in mlflow_routers():  # MLflow's REST API and artifact proxy (docs/MLFLOW.md)
        app.include_router(mlflow_router, dependencies=[Depends(current_user)])
    # Sign-in is how a browser gets authenticated, so it is not behind ``current_user``.
    app.include_router(web_session.router, prefix="/api/v1")

    @app.get("/api/v1/health", tags=["server"])
    def health() -> dict[str, str]:
        """Readiness: the app has started and opened its store."""
        return {"status": "ok", "version": app.version}

    return app
