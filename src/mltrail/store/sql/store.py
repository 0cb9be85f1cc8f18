"""``SqlStore``: the ``Store`` interface over SQLAlchemy Core, for SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from mltrail.store.base import Store
from mltrail.store.sql.accounts import AccountsMixin
from mltrail.store.sql.alerts import AlertsMixin
from mltrail.store.sql.artifacts import ArtifactsMixin
from mltrail.store.sql.audit import AuditMixin
from mltrail.store.sql.datasets import DatasetsMixin
from mltrail.store.sql.deployment_evidence import DeploymentEvidenceMixin
from mltrail.store.sql.deployments import DeploymentsMixin
from mltrail.store.sql.history import HistoryMixin
from mltrail.store.sql.insight_aggregates import InsightAggregatesMixin
from mltrail.store.sql.insight_settings import InsightSettingsMixin
from mltrail.store.sql.media import MediaMixin
from mltrail.store.sql.metrics import MetricsMixin
from mltrail.store.sql.monitor_references import MonitorReferencesMixin
from mltrail.store.sql.monitor_versions import MonitorVersionsMixin
from mltrail.store.sql.monitors import MonitorsMixin
from mltrail.store.sql.project_activity import ProjectActivityMixin
from mltrail.store.sql.project_keys import ProjectKeysMixin
from mltrail.store.sql.registry_requests import RegistryRequestsMixin
from mltrail.store.sql.reports import ReportsMixin
from mltrail.store.sql.runs import RunsMixin
from mltrail.store.sql.search import SearchMixin
from mltrail.store.sql.sessions import SessionsMixin
from mltrail.store.sql.tables import TablesMixin
from mltrail.store.sql.webhooks import WebhooksMixin

__all__ = ["SqlStore"]


class SqlStore(
    RunsMixin,
    MetricsMixin,
    HistoryMixin,
    SearchMixin,
    ProjectKeysMixin,
    ProjectActivityMixin,
    DatasetsMixin,
    ArtifactsMixin,
    TablesMixin,
    MediaMixin,
    AccountsMixin,
    SessionsMixin,
    AuditMixin,
    RegistryRequestsMixin,
    WebhooksMixin,
    MonitorVersionsMixin,
    MonitorReferencesMixin,
    MonitorsMixin,
    AlertsMixin,
    DeploymentsMixin,
    DeploymentEvidenceMixin,
    ReportsMixin,
    InsightSettingsMixin,
    InsightAggregatesMixin,
    Store,
):
    """The SQL store. It is given an engine whose database is already migrated (see ``store.factory``);
    constructing it touches nothing."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def url(self) -> str:
        """The database URL with its password hidden."""
        return self._url

    def close(self) -> None:
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self._url!r})"
