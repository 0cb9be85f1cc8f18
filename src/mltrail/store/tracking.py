"""Tracking's part of the storage interface: projects, runs, params, tags, summaries, metrics, datasets and
artifact records. Every method is a transaction: it applies completely or not at all."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail.entities import (
    ActivityCell,
    Artifact,
    DatasetLink,
    DatasetVersion,
    MetricHistory,
    MetricsBatch,
    Project,
    Run,
    RunPage,
    RunStatus,
    SortKey,
    Value,
)
from mltrail.query_ast import Expr

__all__ = ["TrackingStore"]


class TrackingStore(abc.ABC):
    """Errors: ``NotFoundError`` for a missing project/run/artifact, ``InvalidInputError`` (with
    ``field``) for malformed input, ``StoreError`` when the database cannot be reached or written.
    """

    # -- projects ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    def get_or_create_project(self, name: str) -> Project: ...

    @abc.abstractmethod
    def get_project(self, name: str) -> Project: ...

    @abc.abstractmethod
    def list_projects(self) -> list[Project]:
        """All projects ordered by name, with run counts and the start time of their latest run."""

    @abc.abstractmethod
    def project_keys(self, project: str, limit: int = 10_000) -> dict[str, list[str]]:
        """The distinct keys the project's runs use, per kind (``params``, ``metrics``, ``tags``,
        ``summary``), sorted, at most ``limit`` of each; NotFoundError for a project that does not exist."""

    @abc.abstractmethod
    def project_activity(self, project: str, since: float | None = None) -> list[ActivityCell]:
        """The project's runs (started at ``since`` or later) per ISO week (Monday 00:00 UTC) and user,
        newest week first, users sorted; NotFoundError for a project that does not exist."""

    # -- runs -------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        *,
        run_id: str,
        project: str,
        name: str,
        user: str | None,
        start_time: float,
        params: Mapping[str, Value] | None = None,
        tags: Mapping[str, str] | None = None,
        notes: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Run:
        """Create a running run, creating the project if needed. A duplicate ``run_id``: ConflictError."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The whole run: params, tags, summary, metric summaries and context."""

    @abc.abstractmethod
    def get_run_status(self, run_id: str) -> RunStatus:
        """Only the run's stored status: a cheap existence check (NotFoundError when there is no run)."""

    @abc.abstractmethod
    def find_run_ids(self, ref: str, project: str | None = None, limit: int = 10) -> list[str]:
        """Ids of runs whose id equals or starts with ``ref``, or whose name equals ``ref``."""

    @abc.abstractmethod
    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: float | None = None,
        heartbeat_at: float | None = None,
        error: Mapping[str, str] | None = None,
        notes: str | None = None,
        name: str | None = None,
    ) -> None:
        """Change the given attributes; ``None`` leaves an attribute as it is."""

    @abc.abstractmethod
    def reopen_run(self, run_id: str, *, at: float) -> None:
        """A run continued after it ended (``init(id=…, resume=True)``): running again, no end time and no
        error, alive at ``at``."""

    @abc.abstractmethod
    def set_params(self, run_id: str, params: Mapping[str, Value]) -> None:
        """Add or overwrite params; keys are already flattened (``model.depth``)."""

    @abc.abstractmethod
    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None: ...

    @abc.abstractmethod
    def delete_tags(self, run_id: str, keys: Sequence[str]) -> None: ...

    @abc.abstractmethod
    def set_summary(self, run_id: str, values: Mapping[str, Value]) -> None: ...

    @abc.abstractmethod
    def update_context(self, run_id: str, context: Mapping[str, Any]) -> None:
        """Merge top-level keys into the run's captured context."""

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Delete the run with its params, tags, metrics, dataset links and artifact records.

        Blobs are content-addressed and may be shared; they are not deleted here.
        """

    @abc.abstractmethod
    def mark_stale_runs_crashed(self, heartbeat_before: float) -> int:
        """Runs still ``running`` with a heartbeat older than ``heartbeat_before`` become ``crashed``."""

    @abc.abstractmethod
    def search_runs(
        self,
        project: str,
        filter: Expr | None = None,
        sort: Sequence[SortKey] = (),
        offset: int = 0,
        limit: int = 100,
    ) -> RunPage:
        """Runs of a project matching ``filter``, ordered by ``sort`` (then newest first), one page.

        Comparisons with a missing param/metric/tag are false; runs missing a sort key sort last.
        """

    # -- metrics ----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def log_metrics(self, run_id: str, batch: MetricsBatch) -> bool:
        """Write a batch of points and update the metric summaries.

        The same (key, step) written again keeps the last value. A batch whose (client_id, seq) was already
        applied to this run is skipped and ``False`` returned; an empty ``client_id`` disables that check.
        NaN and ±inf are stored and read back as such.
        """

    @abc.abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        key: str,
        min_step: int | None = None,
        max_step: int | None = None,
        max_points: int | None = None,
    ) -> MetricHistory:
        """The points of one metric ordered by step, optionally within [min_step, max_step].

        With ``max_points``, a longer history is downsampled: per step bucket its min and max point are kept
        (``stats.minmax_downsample``), so spikes survive; ``downsampled`` is then True.
        """

    @abc.abstractmethod
    def get_metric_histories(
        self,
        run_ids: Sequence[str],
        keys: Sequence[str],
        min_step: int | None = None,
        max_step: int | None = None,
        max_points: int | None = None,
    ) -> list[MetricHistory]:
        """``get_metric_history`` of each run and key in one snapshot: run by run, keys in the order
        given; a run that never logged a key has no entry for it (an unknown run is NotFoundError)."""

    # -- datasets ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    def record_dataset_version(
        self,
        *,
        project: str,
        name: str,
        digest: str,
        kind: str,
        source: str | None,
        num_rows: int | None,
        num_bytes: int | None,
        schema: list[dict[str, Any]],
        summary: dict[str, Any],
    ) -> DatasetVersion:
        """The version of dataset ``name`` with this digest, created (next version number) if new."""

    @abc.abstractmethod
    def link_dataset(self, run_id: str, dataset_version_id: int, role: str) -> None:
        """Record that the run used this dataset version in this role (idempotent)."""

    @abc.abstractmethod
    def list_run_datasets(self, run_id: str) -> list[DatasetLink]: ...

    @abc.abstractmethod
    def list_dataset_versions(self, project: str, name: str | None = None) -> list[DatasetVersion]: ...

    # A dataset version's drift profile: a monitor of a model trained on it takes it as its reference.
    @abc.abstractmethod
    def set_dataset_profile(self, dataset_version_id: int, profile: bytes) -> None:
        """Keep the drift profile of a dataset version (the same content always has the same profile)."""

    @abc.abstractmethod
    def get_dataset_profile(self, dataset_version_id: int) -> bytes | None: ...

    # -- artifacts --------------------------------------------------------------------------------------
    @abc.abstractmethod
    def add_artifact(self, run_id: str, path: str, digest: str, size: int) -> Artifact:
        """Record (or replace) the artifact at ``path`` of a run. ``path`` is already validated."""

    @abc.abstractmethod
    def list_artifacts(self, run_id: str, prefix: str | None = None) -> list[Artifact]: ...

    @abc.abstractmethod
    def get_artifact(self, run_id: str, path: str) -> Artifact: ...
