"""The whole storage interface: one ``Store`` is every area's interface at once (``TrackingStore``,
``TableStore``, ``MediaStore``, ``AccountStore``, ``RegistryStore``, ``MonitorStore``, ``DeploymentStore``,
``EvidenceStore``, ``ReportStore``, ``InsightsStore``). Services depend on the areas they use; the SQLAlchemy
implementation serves SQLite and PostgreSQL. Every method is a transaction: it applies completely or not
at all.
"""

from __future__ import annotations

import abc

from mltrail.store.accounts import AccountStore
from mltrail.store.deployment_evidence import EvidenceStore
from mltrail.store.deployments import DeploymentStore
from mltrail.store.insights import InsightsStore
from mltrail.store.media import MediaStore
from mltrail.store.monitoring import MonitorStore
from mltrail.store.registry import RegistryStore
from mltrail.store.reports import ReportStore
from mltrail.store.tables import TableStore
from mltrail.store.tracking import TrackingStore

__all__ = [
    "AccountStore",
    "DeploymentStore",
    "EvidenceStore",
    "InsightsStore",
    "MediaStore",
    "MonitorStore",
    "RegistryStore",
    "ReportStore",
    "Store",
    "TableStore",
    "TrackingStore",
    "registry_of",
    "tracking_of",
]


class Store(
    TrackingStore,
    TableStore,
    MediaStore,
    AccountStore,
    RegistryStore,
    MonitorStore,
    DeploymentStore,
    EvidenceStore,
    ReportStore,
    InsightsStore,
    abc.ABC,
):
    """Every area's storage at once, as the SQL implementation provides it."""

    # -- lifecycle --------------------------------------------------------------------------------------
    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""


def _area(store: object, area: type) -> None:
    if not isinstance(store, area):
        raise TypeError(f"{type(store).__name__} is not a {area.__name__}: pass one explicitly")


def tracking_of(store: object) -> TrackingStore:
    """``store`` as tracking's interface: a service given another area's store that also reads runs (for
    lineage) takes them from the same ``Store`` unless given a ``TrackingStore`` explicitly."""
    _area(store, TrackingStore)
    assert isinstance(store, TrackingStore)
    return store


def registry_of(store: object) -> RegistryStore:
    """``store`` as the registry's interface (monitors of an alias look versions up)."""
    _area(store, RegistryStore)
    assert isinstance(store, RegistryStore)
    return store
