"""``EmbeddedRunReader``: reading runs through the services of the embedded store (or a database URL)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mltrail.entities import (
    Artifact,
    DatasetLink,
    MediaName,
    MetricHistory,
    Project,
    Run,
    RunMedia,
    RunPage,
    RunTable,
    TablePage,
)
from mltrail.query import parse_filter, parse_sorts
from mltrail.sdk.tracking.reader import Progress, artifact_path, download_artifacts, verified_bytes
from mltrail.services.container import Services

__all__ = ["EmbeddedRunReader"]

CHUNK = 1 << 20


class EmbeddedRunReader:
    """``RunReader`` over ``Services``; whoever opens the database may read and delete every run."""

    def __init__(self, services: Services, where: str) -> None:
        self.services = services
        self._where = where

    @property
    def where(self) -> str:
        return self._where

    def list_projects(self) -> list[Project]:
        return self.services.tracking.list_projects()

    def search(
        self,
        project: str,
        filter: str | None = None,
        sort: Sequence[str] = (),
        offset: int = 0,
        limit: int = 100,
    ) -> RunPage:
        expr = parse_filter(filter) if filter else None
        return self.services.tracking.search_runs(
            project, filter=expr, sort=parse_sorts(list(sort)), offset=offset, limit=limit
        )

    def get(self, ref: str, project: str | None = None) -> Run:
        return self.services.tracking.get_run(ref, project)

    def history(
        self,
        run_id: str,
        key: str,
        max_points: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> MetricHistory:
        tracking = self.services.tracking
        return tracking.metric_history(
            tracking.resolve_run(run_id), key, max_points, min_step=min_step, max_step=max_step
        )

    def artifacts(self, run_id: str, prefix: str | None = None) -> list[Artifact]:
        return self.services.artifacts.list(self.services.tracking.resolve_run(run_id), prefix)

    def _chunks(self, artifact: Artifact) -> Iterator[bytes]:
        with self.services.blobs.open(artifact.digest) as stream:
            while chunk := stream.read(CHUNK):
                yield chunk

    def download(self, run_id: str, path: str, dest: str | Path, *, progress: Progress | None = None) -> Path:
        run_id = self.services.tracking.resolve_run(run_id)
        artifacts = self.services.artifacts
        return download_artifacts(
            run_id, path, dest, lambda prefix: artifacts.list(run_id, prefix), self._chunks, progress
        )

    def read_artifact(self, run_id: str, path: str) -> bytes:
        run_id = self.services.tracking.resolve_run(run_id)
        artifact = self.services.artifacts.get(run_id, artifact_path(path))
        return verified_bytes(self._chunks(artifact), artifact.digest, f"{artifact.path} of run {run_id}")

    def datasets(self, run_id: str) -> list[DatasetLink]:
        return self.services.datasets.for_run(self.services.tracking.resolve_run(run_id))

    def delete(self, run_id: str) -> None:
        tracking = self.services.tracking
        tracking.delete_run(tracking.resolve_run(run_id))

    def tables(self, run_id: str) -> list[RunTable]:
        return self.services.tables.list(self.services.tracking.resolve_run(run_id))

    def table(self, run_id: str, name: str, step: int | None = None) -> RunTable:
        return self.services.tables.get(self.services.tracking.resolve_run(run_id), name, step)

    def table_rows(
        self,
        run_id: str,
        name: str,
        *,
        step: int | None = None,
        filter: str | None = None,
        sort: Sequence[str] = (),
        offset: int = 0,
        limit: int = 50,
        columns: Sequence[str] | None = None,
    ) -> TablePage:
        return self.services.tables.page(
            self.services.tracking.resolve_run(run_id),
            name,
            step=step,
            filter=filter,
            sort=sort,
            offset=offset,
            limit=limit,
            columns=columns,
        )

    def samples(self, run_a: str, run_b: str, table: str, **options: Any) -> dict[str, Any]:
        project = options.pop("project", None)
        tracking = self.services.tracking
        a, b = tracking.resolve_run(run_a, project), tracking.resolve_run(run_b, project)
        return self.services.samples.compare(a, b, table, **options)

    def media(self, run_id: str) -> list[MediaName]:
        return self.services.media.list(self.services.tracking.resolve_run(run_id))

    def media_item(self, run_id: str, name: str, step: int | None = None) -> RunMedia:
        return self.services.media.get(self.services.tracking.resolve_run(run_id), name, step)

    def media_file(
        self, run_id: str, name: str, role: str, step: int | None = None
    ) -> tuple[RunMedia, bytes]:
        resolved = self.services.tracking.resolve_run(run_id)
        item = self.services.media.get(resolved, name, step)
        _, data = self.services.media.read(resolved, name, role, item.step)
        return item, data
