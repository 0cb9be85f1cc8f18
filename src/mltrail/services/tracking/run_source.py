"""``RunSource``: what rebuilding and comparing runs read — a run, its artifacts' bytes, its artifact list
and its datasets. The embedded services satisfy it through ``ServiceRunSource``; the SDK's run readers
(embedded or a team server) satisfy it as they are, so ``mltrail runs reproduce`` and ``runs diff`` work the
same over a server."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mltrail.entities import Artifact, DatasetLink, Run

if TYPE_CHECKING:  # only for annotations: importing this module loads no store
    from mltrail.services.tracking.artifacts import ArtifactService
    from mltrail.services.tracking.datasets import DatasetService
    from mltrail.services.tracking.service import TrackingService

__all__ = ["RunSource", "ServiceRunSource"]


class RunSource(Protocol):
    def get(self, ref: str, project: str | None = None) -> Run:
        """A run by id, unique id prefix or unique name."""
        ...

    def read_artifact(self, run_id: str, path: str) -> bytes:
        """The artifact's bytes, verified against its sha256 (``IntegrityError``); ``NotFoundError`` when the
        run has no such artifact."""
        ...

    def artifacts(self, run_id: str, prefix: str | None = None) -> list[Artifact]: ...

    def datasets(self, run_id: str) -> list[DatasetLink]: ...


class ServiceRunSource:
    """``RunSource`` over the tracking, artifact and dataset services."""

    def __init__(
        self, tracking: TrackingService, artifacts: ArtifactService, datasets: DatasetService
    ) -> None:
        self.tracking = tracking
        self.artifact_service = artifacts
        self.dataset_service = datasets

    def get(self, ref: str, project: str | None = None) -> Run:
        return self.tracking.get_run(ref, project)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        # Copied out through the blob store, which checks the sha256 on the way.
        with tempfile.TemporaryDirectory(prefix="mltrail-artifact-") as tmp:
            out = Path(tmp) / "artifact"
            self.artifact_service.download(run_id, path, out)
            return out.read_bytes()

    def artifacts(self, run_id: str, prefix: str | None = None) -> list[Artifact]:
        return self.artifact_service.list(run_id, prefix)

    def datasets(self, run_id: str) -> list[DatasetLink]:
        return self.dataset_service.for_run(run_id)
