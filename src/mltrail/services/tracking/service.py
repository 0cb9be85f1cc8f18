"""Runs: creating, logging to, finishing, finding and reading them. Plain Python over a ``Store``."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mltrail.entities import (
    ActivityCell,
    MetricHistory,
    MetricsBatch,
    Project,
    Run,
    RunPage,
    RunStatus,
    Value,
)
from mltrail.errors import ConflictError, InvalidInputError, NotFoundError, RunFinishedError
from mltrail.query_ast import Expr
from mltrail.services.tracking.validation import (
    check_text,
    clean_tags,
    flatten_config,
    to_value,
    validate_key,
)
from mltrail.store.tracking import TrackingStore

__all__ = ["RunFinished", "TrackingService"]

log = logging.getLogger(__name__)

# Called with a run's id once its finish is stored (its duration, hence its cost, is final).
RunFinished = Callable[[str], None]

MAX_PAGE = 1000
MIN_PREFIX = 4
# Steps and offsets are 64-bit integers in the database: beyond that is a bad request, not a driver error.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class TrackingService:
    """The tracking rules: run lifecycle, validation, crash detection, search and history downsampling.

    ``on_run_finished``: callables told each run's id once its finish is stored (the composition root
    wires the insights budget check here; tracking knows nothing of budgets). One that raises is logged,
    never failing the finish."""

    def __init__(
        self,
        store: TrackingStore,
        heartbeat_timeout: float = 60.0,
        *,
        on_run_finished: Sequence[RunFinished] = (),
    ) -> None:
        self.store = store
        self.heartbeat_timeout = heartbeat_timeout
        self.on_run_finished = list(on_run_finished)

    # -- lifecycle --------------------------------------------------------------------------------------
    def start_run(
        self,
        *,
        run_id: str,
        project: str,
        name: str,
        user: str | None,
        config: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        notes: str | None = None,
        context: Mapping[str, Any] | None = None,
        start_time: float | None = None,
        resume: bool = False,
    ) -> Run:
        """A new run; with ``resume``, the run ``run_id`` continued if it exists (running again, the
        config and tags merged in; its name, user and start stay), else a new one with that id."""
        validate_key(project, "project")
        validate_key(name, "name")
        params = flatten_config(config)
        tag_values = clean_tags(tags or {})
        if notes is not None:
            check_text(notes, "notes")
        if start_time is not None and not math.isfinite(start_time):
            raise InvalidInputError("start_time must be a finite number", field="start_time")
        now = time.time() if start_time is None else start_time
        if resume:
            resumed = self._resume(run_id, project, params, tag_values, now)
            if resumed is not None:
                return resumed
        return self.store.create_run(
            run_id=run_id,
            project=project,
            name=name,
            user=user,
            start_time=now,
            params=params,
            tags=tag_values,
            notes=notes,
            context=dict(context or {}),
        )

    def _resume(
        self, run_id: str, project: str, params: Mapping[str, Value], tags: Mapping[str, str], now: float
    ) -> Run | None:
        try:
            existing = self.store.get_run(run_id)
        except NotFoundError:
            return None
        if existing.project != project:
            raise InvalidInputError(
                f"run {run_id} belongs to project {existing.project!r}, not {project!r}", field="project"
            )
        self.store.reopen_run(run_id, at=now)
        if params:
            self.store.set_params(run_id, params)
        if tags:
            self.store.set_tags(run_id, tags)
        return self.store.get_run(run_id)

    def heartbeat(self, run_id: str, at: float | None = None) -> None:
        """The run is alive. A run that was marked crashed while it was silent becomes running again."""
        current = self.store.get_run_status(run_id)
        if current in (RunStatus.FINISHED, RunStatus.FAILED):
            raise RunFinishedError(f"run {run_id} has already {current.value}")
        status = RunStatus.RUNNING if current == RunStatus.CRASHED else None
        self.store.update_run(run_id, heartbeat_at=time.time() if at is None else at, status=status)

    def finish_run(
        self,
        run_id: str,
        status: RunStatus = RunStatus.FINISHED,
        error: Mapping[str, str] | None = None,
        end_time: float | None = None,
    ) -> None:
        if status == RunStatus.RUNNING:
            raise InvalidInputError("a run cannot finish with status 'running'", field="status")
        if end_time is not None and not math.isfinite(end_time):
            raise InvalidInputError("end_time must be a finite number", field="end_time")
        end = time.time() if end_time is None else end_time
        current = self.store.get_run_status(run_id)  # one indexed read: a finish happens once per run
        if current in (RunStatus.FINISHED, RunStatus.FAILED):
            if end_time is not None and current == status and self.store.get_run(run_id).end_time == end_time:
                return  # the same finish again (a retry whose answer was lost): already done
            raise RunFinishedError(
                f"run {run_id} has already {current.value}; its status and times no longer change"
                " (init(id=..., resume=True) continues it)"
            )
        self.store.update_run(run_id, status=status, end_time=end, heartbeat_at=end, error=error)
        for hook in self.on_run_finished:
            try:
                hook(run_id)
            except Exception:  # the run is finished whatever a listener does; it is logged
                log.exception("after run %s finished: %r failed", run_id, hook)

    def delete_run(self, run_id: str) -> None:
        self.store.get_run_status(run_id)
        self.store.delete_run(run_id)

    # -- logging ----------------------------------------------------------------------------------------
    def log_metrics(self, run_id: str, batch: MetricsBatch) -> bool:
        n = len(batch.keys)
        if not (len(batch.steps) == len(batch.values) == len(batch.wall_times) == n):
            raise InvalidInputError("metric batch columns differ in length", field="metrics")
        for key in set(batch.keys):
            validate_key(key, "metrics")
        return self.store.log_metrics(run_id, batch)

    def set_params(self, run_id: str, config: Mapping[str, Any]) -> None:
        self.store.set_params(run_id, flatten_config(config))

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        self.store.set_tags(run_id, clean_tags(tags))

    def delete_tags(self, run_id: str, keys: Sequence[str]) -> None:
        self.store.delete_tags(run_id, list(keys))

    def set_summary(self, run_id: str, values: Mapping[str, Any]) -> None:
        clean: dict[str, Value] = {validate_key(k, "summary"): to_value(v) for k, v in values.items()}
        self.store.set_summary(run_id, clean)

    def set_notes(self, run_id: str, notes: str) -> None:
        self.store.update_run(run_id, notes=check_text(notes, "notes"))

    def update_context(self, run_id: str, context: Mapping[str, Any]) -> None:
        self.store.update_context(run_id, context)

    # -- reading ----------------------------------------------------------------------------------------
    def reap_stale_runs(self) -> int:
        """Mark runs whose heartbeat is older than the timeout as crashed; returns how many."""
        return self.store.mark_stale_runs_crashed(time.time() - self.heartbeat_timeout)

    def resolve_run(self, ref: str, project: str | None = None) -> str:
        """A run id from a full id, a unique id prefix (4+ characters) or a unique run name."""
        ref = ref.strip()
        if not ref:
            raise InvalidInputError("run reference is empty", field="run")
        ids = self.store.find_run_ids(ref, project=project)
        if len(ref) < MIN_PREFIX:
            # Too short to be a prefix: only an exact id or name counts.
            ids = [i for i in ids if i == ref or self.store.get_run(i).name == ref]
        if not ids:
            where = f" in project {project!r}" if project else ""
            raise NotFoundError(f"no run {ref!r}{where}")
        if ref in ids:
            return ref
        if len(ids) > 1:
            raise ConflictError(f"{ref!r} matches {len(ids)} runs ({', '.join(i[:12] for i in ids[:5])}…)")
        return ids[0]

    def get_run(self, ref: str, project: str | None = None) -> Run:
        self.reap_stale_runs()
        return self.store.get_run(self.resolve_run(ref, project))

    def list_projects(self) -> list[Project]:
        return self.store.list_projects()

    def project_keys(self, project: str, limit: int = 10_000) -> dict[str, list[str]]:
        """The params, metric, tag and summary keys the project's runs use, sorted (``limit`` of each)."""
        return self.store.project_keys(project, limit=limit)

    def project_activity(self, project: str, since: float | None = None) -> list[ActivityCell]:
        """The project's runs per ISO week and user (runs, seconds, failures), newest week first."""
        return self.store.project_activity(project, since=since)

    def search_runs(
        self,
        project: str,
        filter: Expr | None = None,
        sort: Sequence[Any] = (),
        offset: int = 0,
        limit: int = 100,
    ) -> RunPage:
        if offset < 0:
            raise InvalidInputError("offset must be ≥ 0", field="offset")
        if offset > INT64_MAX:
            raise InvalidInputError(f"offset must be ≤ {INT64_MAX}", field="offset")
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"limit must be between 1 and {MAX_PAGE}", field="limit")
        self.reap_stale_runs()
        # The store raises NotFoundError for an unknown project (get_project would also count its runs).
        return self.store.search_runs(project, filter=filter, sort=list(sort), offset=offset, limit=limit)

    def metric_history(
        self,
        run_id: str,
        key: str,
        max_points: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> MetricHistory:
        """A metric's points; with ``max_points`` the history is downsampled keeping each bucket's min and
        max, so spikes survive."""
        if max_points is not None and max_points < 2:
            raise InvalidInputError("max_points must be at least 2", field="max_points")
        for name, step in (("min_step", min_step), ("max_step", max_step)):
            if step is not None and not INT64_MIN <= step <= INT64_MAX:
                raise InvalidInputError(f"{name} must be a 64-bit integer", field=name)
        return self.store.get_metric_history(
            run_id, key, min_step=min_step, max_step=max_step, max_points=max_points
        )

    def metric_histories(
        self,
        run_ids: Sequence[str],
        keys: Sequence[str],
        max_points: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> list[MetricHistory]:
        """Each run's history of each key (run by run, keys in the order given) in one read, as
        ``metric_history`` reads one; a run that never logged a key has no entry for it."""
        if max_points is not None and max_points < 2:
            raise InvalidInputError("max_points must be at least 2", field="max_points")
        for name, step in (("min_step", min_step), ("max_step", max_step)):
            if step is not None and not INT64_MIN <= step <= INT64_MAX:
                raise InvalidInputError(f"{name} must be a 64-bit integer", field=name)
        return self.store.get_metric_histories(
            run_ids, keys, min_step=min_step, max_step=max_step, max_points=max_points
        )
