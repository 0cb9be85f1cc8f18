"""``NullTransport``: ``MLTRAIL_MODE=disabled``, where every call of a run is accepted and nothing is kept."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mltrail.entities import (
    Artifact,
    DatasetLink,
    DatasetVersion,
    MetricsBatch,
    Run,
    RunMedia,
    RunStatus,
    RunTable,
)

if TYPE_CHECKING:
    from mltrail.services.tracking.fingerprint import Fingerprint

__all__ = ["NullTransport"]


class NullTransport:
    """Answers like a store that forgets: a script written for mltrail runs unchanged, writing nothing
    (W&B's ``mode="disabled"``)."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}

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
        run = Run(
            id=run_id,
            project=project,
            name=name,
            user=user,
            status=RunStatus.RUNNING,
            start_time=start_time,
            end_time=None,
            params=dict(config),
            tags=dict(tags),
            notes=notes,
        )
        self._runs[run_id] = run
        return run

    def log_metrics(self, run_id: str, batch: MetricsBatch) -> None:
        return None

    def set_params(self, run_id: str, config: Mapping[str, Any]) -> None:
        return None

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        return None

    def delete_tags(self, run_id: str, keys: Sequence[str]) -> None:
        return None

    def set_summary(self, run_id: str, values: Mapping[str, Any]) -> None:
        return None

    def set_notes(self, run_id: str, notes: str) -> None:
        return None

    def update_context(self, run_id: str, context: Mapping[str, Any]) -> None:
        return None

    def heartbeat(self, run_id: str) -> None:
        return None

    def finish_run(
        self, run_id: str, status: RunStatus, error: Mapping[str, str] | None, end_time: float | None = None
    ) -> None:
        run = self._runs.pop(run_id, None)
        if run is not None:
            run.status, run.end_time = status, end_time or time.time()

    def log_artifact(self, run_id: str, local: Path, name: str | None) -> list[Artifact]:
        return []

    def log_artifact_bytes(self, run_id: str, path: str, data: bytes) -> Artifact:
        return Artifact(run_id=run_id, path=path, digest="", size=len(data), created_at=time.time())

    def log_table(self, run_id: str, name: str, data: bytes, step: int | None, kind: str) -> RunTable:
        digest = hashlib.sha256(data).hexdigest()
        return RunTable(run_id, name, -1 if step is None else step, kind, digest, len(data), 0, [])

    def log_media(self, run_id: str, name: str, bundle: bytes, step: int | None) -> RunMedia:
        return RunMedia(run_id, name, -1 if step is None else step, "", [])

    def log_dataset(self, run_id: str, fingerprint: Fingerprint, role: str) -> DatasetLink:
        version = DatasetVersion(
            id=0,
            project="",
            name=fingerprint.name,
            version=0,
            digest=fingerprint.digest,
            kind=fingerprint.kind,
            source=fingerprint.source,
            num_rows=fingerprint.num_rows,
            num_bytes=fingerprint.num_bytes,
            schema=fingerprint.schema,
            summary=fingerprint.summary,
            created_at=time.time(),
        )
        return DatasetLink(run_id=run_id, dataset=version, role=role)

    def get_run(self, run_id: str) -> Run:
        from mltrail.errors import NotFoundError

        found = self._runs.get(run_id)
        if found is None:
            raise NotFoundError(f"run {run_id!r} was not kept: MLTRAIL_MODE=disabled")
        return found
