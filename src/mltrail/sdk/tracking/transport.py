"""``Transport``: everything a run sends, to the embedded store (``tracking/embedded.py``), a server
(``tracking/http.py``) or a journal in front of one (``tracking/journal_transport.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mltrail.entities import Artifact, DatasetLink, MetricsBatch, Run, RunMedia, RunStatus, RunTable

if TYPE_CHECKING:
    from mltrail.services.tracking.fingerprint import Fingerprint

__all__ = ["Transport"]


class Transport(Protocol):
    """Everything a run sends. Implementations raise ``mltrail.errors`` types, never transport details."""

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
    ) -> Run: ...

    def log_metrics(self, run_id: str, batch: MetricsBatch) -> None: ...

    def set_params(self, run_id: str, config: Mapping[str, Any]) -> None: ...

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None: ...

    def delete_tags(self, run_id: str, keys: Sequence[str]) -> None: ...

    def set_summary(self, run_id: str, values: Mapping[str, Any]) -> None: ...

    def set_notes(self, run_id: str, notes: str) -> None: ...

    def update_context(self, run_id: str, context: Mapping[str, Any]) -> None: ...

    def heartbeat(self, run_id: str) -> None: ...

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        error: Mapping[str, str] | None,
        end_time: float | None = None,
    ) -> None:
        """``end_time`` defaults to now; a run replayed later from a journal passes the time it ended."""
        ...

    def log_artifact(self, run_id: str, local: Path, name: str | None) -> list[Artifact]: ...

    def log_artifact_bytes(self, run_id: str, path: str, data: bytes) -> Artifact: ...

    def log_dataset(self, run_id: str, fingerprint: Fingerprint, role: str) -> DatasetLink: ...

    def log_table(self, run_id: str, name: str, data: bytes, step: int | None, kind: str) -> RunTable:
        """``data`` is a Parquet file (``services/tracking/table_data.py`` writes it)."""
        ...

    def log_media(self, run_id: str, name: str, bundle: bytes, step: int | None) -> RunMedia:
        """``bundle`` is a media item (``services/tracking/media_check.py::encode_bundle``)."""
        ...

    def get_run(self, run_id: str) -> Run: ...
