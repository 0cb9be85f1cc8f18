"""The SDK's one seam: a ``Transport`` carries every call to a store, in-process (embedded) or HTTP."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mltrail.entities import Artifact, DatasetLink, MetricsBatch, Run, RunStatus
from mltrail.sdk.tracking.protocol import Transport
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.datasets import DatasetService
from mltrail.services.tracking.fingerprint import Fingerprint
from mltrail.services.tracking.service import TrackingService
from mltrail.settings import Settings
from mltrail.store.base import Store
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store

__all__ = ["InProcessTransport", "Transport", "close_embedded_transports", "embedded_transport"]


class InProcessTransport:
    """The embedded default: services and store live in the training process; no server."""

    def __init__(self, store: Store, blobs: BlobStore, settings: Settings) -> None:
        self.store = store
        self.blobs = blobs
        self.tracking = TrackingService(store, heartbeat_timeout=settings.heartbeat_timeout)
        self.artifacts = ArtifactService(store, blobs)
        self.datasets = DatasetService(store)

    def create_run(
        self,
        *,
        run_id: str,
        project: str,
        name: str,
        user: str | None,
        config: Mapping[str, Any],
        tags: Mapping[str, str],
        notes: str | None,
        context: Mapping[str, Any],
        start_time: float,
    ) -> Run:
        return self.tracking.start_run(
            run_id=run_id,
            project=project,
            name=name,
            user=user,
            config=config,
            tags=tags,
            notes=notes,
            context=context,
            start_time=start_time,
        )

    def log_metrics(self, run_id: str, batch: MetricsBatch) -> None:
        self.tracking.log_metrics(run_id, batch)

    def set_params(self, run_id: str, config: Mapping[str, Any]) -> None:
        self.tracking.set_params(run_id, config)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        self.tracking.set_tags(run_id, tags)

    def delete_tags(self, run_id: str, keys: Sequence[str]) -> None:
        self.tracking.delete_tags(run_id, keys)

    def set_summary(self, run_id: str, values: Mapping[str, Any]) -> None:
        self.tracking.set_summary(run_id, values)

    def set_notes(self, run_id: str, notes: str) -> None:
        self.tracking.set_notes(run_id, notes)

    def update_context(self, run_id: str, context: Mapping[str, Any]) -> None:
        self.tracking.update_context(run_id, context)

    def heartbeat(self, run_id: str) -> None:
        self.tracking.heartbeat(run_id)

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        error: Mapping[str, str] | None,
        end_time: float | None = None,
    ) -> None:
        self.tracking.finish_run(run_id, status=status, error=error, end_time=end_time)

    def log_artifact(self, run_id: str, local: Path, name: str | None) -> list[Artifact]:
        return self.artifacts.log_path(run_id, local, name)

    def log_artifact_bytes(self, run_id: str, path: str, data: bytes) -> Artifact:
        return self.artifacts.log_stream(run_id, path, io.BytesIO(data))

    def log_dataset(self, run_id: str, fingerprint: Fingerprint, role: str) -> DatasetLink:
        return self.datasets.record(run_id, fingerprint, role)

    def get_run(self, run_id: str) -> Run:
        return self.tracking.store.get_run(run_id)

    def close(self) -> None:
        self.store.close()


_embedded: dict[tuple[str, str, int], InProcessTransport] = {}
_embedded_lock = threading.Lock()


def embedded_transport(settings: Settings) -> InProcessTransport:
    """One in-process transport per (database, blobs) in this process, so many runs share one engine.

    The cache is keyed by process id too: a forked child opens its own connections.
    """
    key = (settings.db_url, settings.blobs, os.getpid())
    with _embedded_lock:
        transport = _embedded.get(key)
        if transport is None:
            store = open_store(settings.db_url)
            transport = InProcessTransport(store, BlobStore(settings.blobs), settings)
            _embedded[key] = transport
        return transport


def close_embedded_transports() -> None:
    """Close every cached embedded transport of this process (tests; long-lived tools switching stores)."""
    with _embedded_lock:
        transports = list(_embedded.values())
        _embedded.clear()
    for transport in transports:
        transport.close()
