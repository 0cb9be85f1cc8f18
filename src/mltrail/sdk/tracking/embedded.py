"""``InProcessTransport``: a run's calls straight into the services of this process's embedded store."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mltrail.entities import Artifact, DatasetLink, MetricsBatch, Run, RunMedia, RunStatus, RunTable
from mltrail.services.container import Services

if TYPE_CHECKING:
    from mltrail.services.tracking.artifacts import ArtifactService
    from mltrail.services.tracking.datasets import DatasetService
    from mltrail.services.tracking.fingerprint import Fingerprint
    from mltrail.services.tracking.service import TrackingService
    from mltrail.store.base import Store
    from mltrail.store.blobs import BlobStore

__all__ = ["InProcessTransport"]


class InProcessTransport:
    """The embedded default: services and store live in the training process; no server."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def blobs(self) -> BlobStore:
        return self.services.blobs

    @property
    def tracking(self) -> TrackingService:
        return self.services.tracking

    @property
    def artifacts(self) -> ArtifactService:
        return self.services.artifacts

    @property
    def datasets(self) -> DatasetService:
        return self.services.datasets

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
        resume: bool = False,
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
            resume=resume,
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

    def log_table(self, run_id: str, name: str, data: bytes, step: int | None, kind: str) -> RunTable:
        return self.services.tables.log(run_id, name, data, step=step, kind=kind)

    def log_media(self, run_id: str, name: str, bundle: bytes, step: int | None) -> RunMedia:
        return self.services.media.log(run_id, name, bundle, step=step)

    def get_run(self, run_id: str) -> Run:
        return self.services.tracking.get_run(run_id)

    def close(self) -> None:
        self.services.close()
