"""The state every part of ``MonitoringService`` shares: the stores, the clock, the alert hook, the monitors
cached in an embedded process, and the monitor of an alias moved to the version it names now. No HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from mltrail.entities import Monitor
from mltrail.errors import NotFoundError
from mltrail.services.monitoring.alias import FOLLOW_EVERY, AliasFollower
from mltrail.services.monitoring.baseline import OutputBaseline
from mltrail.services.monitoring.kinds import output_kind
from mltrail.store.base import registry_of, tracking_of
from mltrail.store.blobs import BlobStore
from mltrail.store.monitoring import MonitorStore
from mltrail.store.registry import RegistryStore
from mltrail.store.tracking import TrackingStore

__all__ = ["MonitoringCore"]


class MonitoringCore:
    """The base of ``MonitoringService``'s parts (``definitions.py``, ``ingestion.py``, ``reads.py``)."""

    def __init__(
        self,
        store: MonitorStore,
        blobs: BlobStore,
        *,
        runs: TrackingStore | None = None,
        registry: RegistryStore | None = None,
        after_ingest: Callable[[Monitor, Sequence[float]], object] | None = None,
        clock: Callable[[], float] = time.time,
        cache: bool = True,
    ) -> None:
        self.store = store
        # Lineage: the run a version came from and its datasets; the registry for monitors of an alias.
        self.runs = runs if runs is not None else tracking_of(store)
        self.registry = registry if registry is not None else registry_of(store)
        self.blobs = blobs
        self.clock = clock
        self._after_ingest = after_ingest  # the alert evaluation, once a batch is stored
        # A server keeps nothing between requests (replicas share the database, and a monitor changed
        # by one must not be stale in another), so it passes ``cache=False``.
        self._caching = cache
        self._cache: dict[str, Monitor] = {}
        # per monitor and version: a monitor of an alias takes the reference of each version it moves to
        self._prediction_kinds: dict[tuple[int, int | None], str] = {}
        # Monitors of an alias move with it (services/monitor_alias.py): looked up at most every 30 s in
        # an embedded process, on every batch in a server.
        self._follower = AliasFollower(
            store, registry=self.registry, runs=self.runs, every=FOLLOW_EVERY if cache else None
        )
        self._baseline = OutputBaseline(store)

    def get(self, name: str) -> Monitor:
        if not self._caching:
            return self.store.get_monitor(name)
        monitor = self._cache.get(name)
        if monitor is None:
            monitor = self._cache[name] = self.store.get_monitor(name)
        return monitor

    def require(self, name: str) -> Monitor:
        try:
            return self.get(name)
        except NotFoundError:
            raise NotFoundError(f"no monitor {name!r}") from None

    def _forget(self, name: str) -> None:
        monitor = self._cache.pop(name, None)
        if monitor is not None:
            self._prediction_kinds.pop((monitor.id, monitor.version), None)
            self._follower.forget(monitor.id)
            self._baseline.forget(monitor.id)

    def _following(self, name: str) -> Monitor:
        """The monitor, moved to the version its alias names now if the alias moved (never failing)."""
        monitor = self.get(name)
        current = self._follower.follow(monitor, now=self.clock())
        if current is not monitor:
            self._cache.pop(name, None)
            self._prediction_kinds.pop((monitor.id, monitor.version), None)  # the old version's
            if self._caching:
                self._cache[name] = current
        return current

    def _prediction_kind(self, monitor: Monitor) -> str:
        """The kind the prediction column is profiled as: the reference's when it has one, else the
        task's (class labels are categories, regression outputs numbers), so every window agrees."""
        key = (monitor.id, monitor.version)
        kind = self._prediction_kinds.get(key)
        if kind is None:
            kind = self._prediction_kinds[key] = output_kind(monitor)
        return kind
