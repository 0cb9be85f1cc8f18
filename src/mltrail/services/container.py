"""The one composition root: ``Services`` opens the store and builds every service from ``Settings``.

The API server, the CLI and the embedded SDK all get their services here; nothing else wires them. Each
service is built on first use, so a command that lists runs does not pay for the registry or the alert
machinery. What talks to the outside world (alert notifications, webhook posts, git for reproduction) is
injected by the caller, so no service knows about HTTP or SMTP.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from mltrail.settings import Settings

if TYPE_CHECKING:
    from mltrail.services.accounts.audit import AuditService
    from mltrail.services.accounts.service import AccountService
    from mltrail.services.accounts.sessions import SessionService
    from mltrail.services.deployments.evidence import EvidenceService
    from mltrail.services.deployments.service import DeploymentService
    from mltrail.services.insights.service import InsightsService
    from mltrail.services.mlflow.logged_models import MlflowLoggedModels
    from mltrail.services.mlflow.models import MlflowModels
    from mltrail.services.mlflow.tracking import MlflowTracking
    from mltrail.services.monitoring.alerts import AlertService, Notifier
    from mltrail.services.monitoring.service import MonitoringService
    from mltrail.services.registry.service import RegistryService
    from mltrail.services.registry.webhooks import Poster, WebhookDispatcher, WebhookService
    from mltrail.services.reports.service import ReportService
    from mltrail.services.tracking.artifacts import ArtifactService
    from mltrail.services.tracking.datasets import DatasetService
    from mltrail.services.tracking.media import MediaService
    from mltrail.services.tracking.reproduce import PatchApplier, ReproduceService
    from mltrail.services.tracking.samples import SampleService
    from mltrail.services.tracking.service import TrackingService
    from mltrail.services.tracking.tables import TableService
    from mltrail.store.base import Store
    from mltrail.store.blobs import BlobStore

__all__ = ["Destinations", "Services"]


class Destinations(Protocol):
    """The destination policy of a team server (``notify.destinations.DestinationPolicy``)."""

    def check_url(self, url: str) -> None: ...

    def check_channel(self, spec: str) -> None: ...


class Services:
    """Every service over one store.

    - ``store``: an open store to use (the caller closes it); default: ``open_store(settings.db_url)``,
      closed by ``close()``. ``migrate`` and ``statement_timeout`` are passed to ``open_store`` (the team
      server sets the timeout from ``Settings.statement_timeout``).
    - ``notifier``: sends alert and budget notifications (``mltrail.notify.alert_notifier`` in the API and
      the SDK); without one, alerts are recorded but not sent.
    - ``webhook_poster``: posts registry webhooks; with one, ``dispatcher`` delivers them on a thread that
      the registry wakes after each change. Without one, deliveries wait in the store for a server.
    - ``apply_patch``: applies a run's uncommitted diff when reproducing it (git, in the SDK's capture).
    - ``audit_coalesce``: which high-frequency audit actions are recorded at most once per how many seconds.
    - ``destinations``: where a team server with accounts may post (``check_url`` for registry webhooks,
      ``check_channel`` for alert and budget channels): a new webhook or rule aimed elsewhere is refused.
    - ``monitoring_cache``: a process that alone writes the store may cache monitors (not a server replica).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        migrate: bool = True,
        statement_timeout: float | None = None,
        notifier: Notifier | None = None,
        webhook_poster: Poster | None = None,
        apply_patch: PatchApplier | None = None,
        audit_coalesce: Mapping[str, float] | None = None,
        monitoring_cache: bool = True,
        base_url: str | None = None,
        destinations: Destinations | None = None,
    ) -> None:
        self.settings = settings
        self._destinations = destinations
        self._given_store = store
        self._migrate = migrate
        self._statement_timeout = statement_timeout
        self._notifier = notifier
        self._webhook_poster = webhook_poster
        self._apply_patch = apply_patch
        self._audit_coalesce = audit_coalesce
        self._monitoring_cache = monitoring_cache
        self._base_url = base_url
        self._lock = threading.RLock()
        self._closed = False

    # -- storage -----------------------------------------------------------------------------------------
    @cached_property
    def store(self) -> Store:
        if self._given_store is not None:
            return self._given_store
        from mltrail.store.factory import open_store

        return open_store(
            self.settings.db_url, migrate=self._migrate, statement_timeout=self._statement_timeout
        )

    @cached_property
    def blobs(self) -> BlobStore:
        from mltrail.store.blobs import BlobStore

        return BlobStore.from_settings(self.settings)

    # -- tracking ----------------------------------------------------------------------------------------
    @cached_property
    def tracking(self) -> TrackingService:
        from mltrail.services.tracking.service import TrackingService

        # A finished run's cost is final: its project's budget is evaluated (and may alert) then.
        return TrackingService(
            self.store,
            heartbeat_timeout=self.settings.heartbeat_timeout,
            on_run_finished=[self._run_finished],
        )

    def _run_finished(self, run_id: str) -> None:
        # Most stores have no budget: then a finish neither builds the insights service nor imports it
        # (numpy, pyarrow and the monitoring figures: ~0.3 s at the end of a training script).
        if self.store.list_budgets():
            self.insights.run_finished(run_id)

    @cached_property
    def artifacts(self) -> ArtifactService:
        from mltrail.services.tracking.artifacts import ArtifactService

        return ArtifactService(self.store, self.blobs)

    @cached_property
    def tables(self) -> TableService:
        from mltrail.services.tracking.tables import TableService

        return TableService(self.store, self.blobs, self.store)

    @cached_property
    def media(self) -> MediaService:
        from mltrail.services.tracking.media import MediaService

        return MediaService(self.store, self.blobs, self.store)

    @cached_property
    def samples(self) -> SampleService:
        from mltrail.services.tracking.samples import SampleService

        return SampleService(self.tables)

    @cached_property
    def datasets(self) -> DatasetService:
        from mltrail.services.tracking.datasets import DatasetService

        return DatasetService(self.store)

    @cached_property
    def reproduce(self) -> ReproduceService:
        from mltrail.services.tracking.reproduce import ReproduceService

        if self._apply_patch is None:
            from mltrail.errors import InvalidInputError

            raise InvalidInputError("reproducing a run needs a patch applier (git)", field="apply_patch")
        return ReproduceService(self.tracking, self.artifacts, self.datasets, apply_patch=self._apply_patch)

    # -- insights ----------------------------------------------------------------------------------------
    @cached_property
    def insights(self) -> InsightsService:
        from mltrail.services.insights.service import InsightsService

        check = None if self._destinations is None else self._destinations.check_channel
        # Budget alerts go out through the same notifier, policy and address as alert rules' notifications.
        return InsightsService(
            self.store,
            runs=self.store,
            monitors=self.store,
            audit=self.store,
            notifier=self._notifier,
            base_url=self._base_url,
            check_destination=check,
        )

    # -- accounts ----------------------------------------------------------------------------------------
    @cached_property
    def accounts(self) -> AccountService:
        from mltrail.services.accounts.service import AccountService

        return AccountService(self.store, runs=self.store)

    @cached_property
    def sessions(self) -> SessionService:
        from mltrail.services.accounts.sessions import SessionService

        return SessionService(self.store, self.accounts, ttl=self.settings.session_ttl)

    @cached_property
    def audit(self) -> AuditService:
        from mltrail.services.accounts.audit import COALESCED_ACTIONS, AuditService

        coalesce = COALESCED_ACTIONS if self._audit_coalesce is None else self._audit_coalesce
        return AuditService(self.store, coalesce=coalesce)

    # -- registry ----------------------------------------------------------------------------------------
    @cached_property
    def dispatcher(self) -> WebhookDispatcher | None:
        """The registry's webhook sender, started on first use; ``None`` without a poster."""
        if self._webhook_poster is None:
            return None
        from mltrail.services.registry.webhooks import WebhookDispatcher

        dispatcher = WebhookDispatcher(self.store, self._webhook_poster)
        dispatcher.start()
        return dispatcher

    @cached_property
    def registry(self) -> RegistryService:
        from mltrail.services.registry.service import RegistryService

        dispatcher = self.dispatcher
        on_event: Callable[[], None] | None = None if dispatcher is None else dispatcher.wake
        return RegistryService(
            self.store,
            self.blobs,
            self.accounts,
            runs=self.store,
            on_event=on_event,
            evidence=lambda: self.deployment_evidence,
        )

    @cached_property
    def mlflow_tracking(self) -> MlflowTracking:
        from mltrail.services.mlflow.tracking import MlflowTracking

        return MlflowTracking(self.store, self.tracking, self.datasets)

    @cached_property
    def mlflow_logged_models(self) -> MlflowLoggedModels:
        from mltrail.services.mlflow.logged_models import MlflowLoggedModels

        return MlflowLoggedModels(self.tracking)

    @cached_property
    def mlflow_models(self) -> MlflowModels:
        from mltrail.services.mlflow.models import MlflowModels

        return MlflowModels(self.registry, self.artifacts)

    @cached_property
    def webhooks(self) -> WebhookService:
        from mltrail.services.registry.webhooks import WebhookService

        check = None if self._destinations is None else self._destinations.check_url
        return WebhookService(self.store, check_destination=check)

    # -- monitoring --------------------------------------------------------------------------------------
    @cached_property
    def alerts(self) -> AlertService:
        from mltrail.services.deployments.auto_rollback import DeploymentRollbacks
        from mltrail.services.monitoring.alerts import AlertService

        check = None if self._destinations is None else self._destinations.check_channel
        # The deployments service is reached when a rule acts, not now: it needs monitoring, which needs
        # these alerts.
        return AlertService(
            self.store,
            notifier=self._notifier,
            base_url=self._base_url,
            check_destination=check,
            actions=DeploymentRollbacks(lambda: self.deployments),
        )

    @cached_property
    def monitoring(self) -> MonitoringService:
        from mltrail.services.monitoring.service import MonitoringService

        return MonitoringService(
            self.store,
            self.blobs,
            runs=self.store,
            registry=self.store,
            after_ingest=self.alerts.evaluate,
            cache=self._monitoring_cache,
        )

    # -- deployments -------------------------------------------------------------------------------------
    @cached_property
    def deployments(self) -> DeploymentService:
        from mltrail.services.deployments.service import DeploymentService

        return DeploymentService(self.store, self.registry, self.monitoring)

    @cached_property
    def deployment_evidence(self) -> EvidenceService:
        from mltrail.services.deployments.evidence import EvidenceService

        return EvidenceService(self.store, self.store.get_deployment, self.monitoring)

    # -- reports -----------------------------------------------------------------------------------------
    @cached_property
    def reports(self) -> ReportService:
        from mltrail.services.reports.panels import PanelSources
        from mltrail.services.reports.service import ReportService

        # Panels read other areas on first use only: a report of runs never builds monitoring.
        sources = PanelSources(
            tracking=lambda: self.tracking,
            samples=lambda: self.samples,
            registry=lambda: self.registry,
            monitoring=lambda: self.monitoring,
        )
        return ReportService(self.store, sources)

    # -- lifetime ----------------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the webhook dispatcher, let queued alert and budget notifications go out, then close the
        store (when this object opened it). Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        built = self.__dict__
        dispatcher = built.get("dispatcher")
        if dispatcher is not None:
            dispatcher.stop()
        alerts = built.get("alerts")
        if alerts is not None:
            alerts.close()
        insights = built.get("insights")
        if insights is not None:
            insights.close()
        store = built.get("store")
        if store is not None and self._given_store is None:
            store.close()
