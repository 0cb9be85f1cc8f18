"""MLflow's tracking calls (experiments, runs, logging, search, history, dataset inputs) over mltrail's
tracking services: experiments are projects, runs are runs. Plain Python: no HTTP, no SQL."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mltrail.entities import MetricHistory, MetricsBatch, Project, Run, RunStatus, SortKey
from mltrail.errors import ConflictError, InvalidInputError, NotFoundError
from mltrail.query_ast import And, Comparison, Exists, Expr, FieldRef, Not
from mltrail.services.mlflow.filters import (
    DELETED_TAG,
    MLFLOW_STATUS,
    parse_mlflow_filter,
    parse_mlflow_order,
)
from mltrail.services.tracking.datasets import DatasetService
from mltrail.services.tracking.fingerprint import Fingerprint
from mltrail.services.tracking.service import TrackingService
from mltrail.services.tracking.validation import validate_key
from mltrail.store.tracking import TrackingStore

__all__ = [
    "DEFAULT_EXPERIMENT",
    "KILLED",
    "RUN_NAME_TAG",
    "MlflowTracking",
    "RunSearchPage",
    "experiment_id_of",
    "mlflow_status",
    "name_matches",
]

# MLflow's client logs to experiment "0", named "Default", when none is set.
DEFAULT_EXPERIMENT = "Default"
KILLED = "KILLED"  # the error type under which a run MLflow killed is kept (mltrail has no such status)
RUN_NAME_TAG = "mlflow.runName"
MAX_RESULTS = 1000
HEARTBEAT_EVERY = 10.0  # seconds between the heartbeats MLflow's writes stand for (the timeout is 60 s)
MLFLOW_MAX_RESULTS = 50_000


def experiment_id_of(project: Project) -> str:
    return "0" if project.name == DEFAULT_EXPERIMENT else str(project.id)


def mlflow_status(run: Run) -> str:
    """A run's status as MLflow names it (a run mltrail marked crashed reads as KILLED)."""
    if run.status == RunStatus.FAILED and (run.error or {}).get("type") == KILLED:
        return KILLED
    return {
        RunStatus.RUNNING: "RUNNING",
        RunStatus.FINISHED: "FINISHED",
        RunStatus.FAILED: "FAILED",
        RunStatus.CRASHED: KILLED,
    }[run.status]


@dataclass(frozen=True, slots=True)
class RunSearchPage:
    runs: list[Run]
    next_offset: int | None


def _seconds(ms: Any, field: str) -> float | None:
    if ms is None:
        return None
    try:
        value = float(ms) / 1000.0
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{field} must be milliseconds since the epoch", field=field) from exc
    if not math.isfinite(value):
        raise InvalidInputError(f"{field} must be a finite number", field=field)
    return value


class MlflowTracking:
    """What MLflow's tracking API asks of mltrail, answered with mltrail's services and entities."""

    def __init__(self, store: TrackingStore, tracking: TrackingService, datasets: DatasetService) -> None:
        self.store = store
        self.tracking = tracking
        self.datasets = datasets
        # When this process last recorded a heartbeat per run (see _alive); bounded, and only a saving:
        # another replica or a restart just records one sooner.
        self._beats: dict[str, float] = {}

    # -- experiments ------------------------------------------------------------------------------------
    def project_of(self, experiment_id: str) -> Project:
        """The project an MLflow experiment id names (``"0"`` is the project ``Default``)."""
        text = str(experiment_id).strip()
        if text == "0":
            return self.store.get_or_create_project(DEFAULT_EXPERIMENT)
        for project in self.store.list_projects():
            if str(project.id) == text:
                return project
        raise NotFoundError(f"no experiment with id {text!r}")

    def projects(self) -> list[Project]:
        return self.store.list_projects()

    def experiment_id(self, project: str) -> str:
        return experiment_id_of(self.store.get_project(project))

    def experiment_id_of_run(self, run_id: str | None) -> str | None:
        """The experiment id of the run's project; None for no run or a deleted one."""
        if run_id is None:
            return None
        try:
            return self.experiment_id(self.store.get_run(run_id).project)
        except NotFoundError:
            return None

    def create_experiment(self, name: str) -> Project:
        validate_key(name, "name")
        try:
            self.store.get_project(name)
        except NotFoundError:
            return self.store.get_or_create_project(name)
        raise ConflictError(f"experiment {name!r} already exists")

    def get_experiment_by_name(self, name: str) -> Project:
        if name == DEFAULT_EXPERIMENT:
            return self.store.get_or_create_project(name)
        return self.store.get_project(name)

    def search_experiments(self, projects: list[Project], filter: str | None) -> list[Project]:
        """``projects`` (those the caller may see) narrowed by a filter on ``name`` (=, !=, LIKE '%x%')."""
        expr = parse_mlflow_filter(filter)
        conditions = [] if expr is None else list(expr.items) if isinstance(expr, And) else [expr]
        found = []
        for project in sorted(projects, key=lambda p: p.id):
            if all(name_matches(project.name, c) for c in conditions):
                found.append(project)
        return found

    # -- runs -------------------------------------------------------------------------------------------
    def create_run(
        self,
        *,
        project: str,
        user: str | None,
        run_name: str | None,
        start_time_ms: Any,
        tags: Mapping[str, str],
    ) -> Run:
        clean = {k: v for k, v in tags.items() if k != RUN_NAME_TAG}
        name = run_name or tags.get(RUN_NAME_TAG) or f"mlflow-{uuid.uuid4().hex[:8]}"
        return self.tracking.start_run(
            run_id=uuid.uuid4().hex,
            project=project,
            name=name,
            user=user,
            tags=clean,
            start_time=_seconds(start_time_ms, "start_time"),
        )

    def get_run(self, run_id: str) -> Run:
        return self.tracking.get_run(run_id)

    def update_run(self, run_id: str, *, status: str | None, end_time_ms: Any, run_name: str | None) -> Run:
        if run_name:
            self.store.update_run(run_id, name=validate_key(run_name, "run_name"))
        if status:
            wanted = MLFLOW_STATUS.get(status.upper())
            if wanted is None:
                raise InvalidInputError(
                    f"status {status!r} is not one of {', '.join(MLFLOW_STATUS)}", "status"
                )
            end = _seconds(end_time_ms, "end_time")
            current = self.store.get_run_status(run_id)
            if wanted == "running":
                if current in (RunStatus.RUNNING, RunStatus.CRASHED):
                    self.tracking.heartbeat(run_id)
            elif current not in (RunStatus.FINISHED, RunStatus.FAILED):
                error = (
                    {"type": KILLED, "message": "killed (MLflow status KILLED)"}
                    if status.upper() == KILLED
                    else None
                )
                self.tracking.finish_run(run_id, status=RunStatus(wanted), error=error, end_time=end)
        return self.store.get_run(run_id)

    def delete_run(self, run_id: str) -> None:
        """MLflow deletes softly (a run can be restored): the run is kept, tagged as deleted."""
        self.store.get_run_status(run_id)
        self.store.set_tags(run_id, {DELETED_TAG: str(int(time.time() * 1000))})

    def restore_run(self, run_id: str) -> None:
        self.store.get_run_status(run_id)
        self.store.delete_tags(run_id, [DELETED_TAG])

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[tuple[str, float, int, int]] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Metrics as (key, value, timestamp in ms, step), params and tags, in that order."""
        self._alive(run_id)
        if metrics:
            batch = MetricsBatch(
                keys=[m[0] for m in metrics],
                steps=[int(m[3]) for m in metrics],
                values=[float(m[1]) for m in metrics],
                wall_times=[float(m[2]) / 1000.0 for m in metrics],
            )
            self.tracking.log_metrics(run_id, batch)
        if params:
            self.tracking.set_params(run_id, dict(params))
        if tags:
            clean = dict(tags)
            name = clean.pop(RUN_NAME_TAG, None)
            if name:
                self.store.update_run(run_id, name=validate_key(name, "run_name"))
            if clean:
                self.tracking.set_tags(run_id, clean)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.tracking.delete_tags(run_id, [key])

    def _alive(self, run_id: str) -> None:
        """MLflow's client sends no heartbeats: a write counts as one (at most one per run every
        ``HEARTBEAT_EVERY`` seconds), so a run that logs stays running (one marked crashed while silent is
        running again)."""
        now = time.monotonic()
        if now - self._beats.get(run_id, -math.inf) < HEARTBEAT_EVERY:
            return
        if len(self._beats) > 10_000:
            self._beats.clear()
        if self.store.get_run_status(run_id) in (RunStatus.RUNNING, RunStatus.CRASHED):
            self.tracking.heartbeat(run_id)
        self._beats[run_id] = now

    def metric_history(
        self, run_id: str, key: str, offset: int, limit: int | None
    ) -> tuple[MetricHistory, int | None]:
        """The metric's points from ``offset`` (at most ``limit``), and the next offset if more remain."""
        history = self.tracking.metric_history(run_id, key)
        end = len(history.steps) if limit is None else min(len(history.steps), offset + limit)
        page = MetricHistory(
            run_id=history.run_id,
            key=history.key,
            steps=history.steps[offset:end],
            values=history.values[offset:end],
            wall_times=history.wall_times[offset:end],
            total_points=history.total_points,
        )
        return page, (end if end < len(history.steps) else None)

    def log_inputs(self, run_id: str, datasets: Sequence[Mapping[str, Any]]) -> None:
        """MLflow dataset inputs as dataset versions of the run's project (name, digest, source, schema)."""
        for item in datasets:
            dataset = item.get("dataset") or {}
            tags = {t.get("key"): t.get("value") for t in item.get("tags") or []}
            name, digest = dataset.get("name"), dataset.get("digest")
            if not name or not digest:
                raise InvalidInputError("a dataset input needs a name and a digest", field="datasets")
            context = str(tags.get("mlflow.data.context") or "train").lower()
            role = {
                "training": "train",
                "train": "train",
                "eval": "validation",
                "validation": "validation",
                "test": "test",
            }.get(context, "other")
            schema = _json_field(dataset.get("schema"))
            profile = _json_field(dataset.get("profile"))
            rows = profile.get("num_rows") if isinstance(profile, dict) else None
            fingerprint = Fingerprint(
                name=str(name),
                digest=str(digest),
                kind="table",
                source=None if dataset.get("source") is None else str(dataset.get("source"))[:2000],
                num_rows=rows if isinstance(rows, int) else None,
                num_bytes=None,
                schema=_schema_columns(schema),
                summary={"mlflow": {"source_type": dataset.get("source_type"), "profile": profile}},
            )
            self.datasets.record(run_id, fingerprint, role)

    # -- search -----------------------------------------------------------------------------------------
    def search_runs(
        self,
        projects: Sequence[str],
        *,
        filter: str | None,
        view: str,
        order_by: Sequence[str],
        offset: int,
        max_results: int,
    ) -> RunSearchPage:
        if not 1 <= max_results <= MLFLOW_MAX_RESULTS:
            raise InvalidInputError(
                f"max_results must be between 1 and {MLFLOW_MAX_RESULTS}", field="max_results"
            )
        # MLflow's server answers up to 50,000 runs a page; mltrail pages by 1,000 with a next_page_token.
        max_results = min(max_results, MAX_RESULTS)
        expr = _with_view(parse_mlflow_filter(filter), view)
        sort = parse_mlflow_order(list(order_by)) or [SortKey("start_time", descending=True)]
        if len(projects) == 1:
            page = self.tracking.search_runs(
                projects[0], filter=expr, sort=sort, offset=offset, limit=max_results
            )
            more = offset + len(page.runs) < page.total
            return RunSearchPage(page.runs, offset + len(page.runs) if more else None)
        # Several experiments: each is searched for the first offset + max_results runs, then merged.
        runs: list[Run] = []
        total = 0
        for project in projects:
            try:
                page = self.tracking.search_runs(
                    project, filter=expr, sort=sort, offset=0, limit=min(MAX_RESULTS, offset + max_results)
                )
            except NotFoundError:
                continue
            runs.extend(page.runs)
            total += page.total
        runs.sort(key=lambda r: r.id)
        for key in reversed(sort):
            present = [r for r in runs if _sort_value(r, key) is not None]
            missing = [r for r in runs if _sort_value(r, key) is None]
            present.sort(key=lambda r, k=key: _sort_value(r, k), reverse=key.descending)  # type: ignore[misc]
            runs = present + missing
        chosen = runs[offset : offset + max_results]
        more = offset + len(chosen) < total
        return RunSearchPage(chosen, offset + len(chosen) if more else None)


def _with_view(expr: Expr | None, view: str) -> Expr | None:
    deleted: Expr = Exists(FieldRef("tags", DELETED_TAG))
    view = (view or "ACTIVE_ONLY").upper()
    if view == "ALL":
        return expr
    if view not in ("ACTIVE_ONLY", "DELETED_ONLY"):
        raise InvalidInputError(
            "run_view_type must be ACTIVE_ONLY, DELETED_ONLY or ALL", field="run_view_type"
        )
    wanted = Not(deleted) if view == "ACTIVE_ONLY" else deleted
    return wanted if expr is None else And((expr, wanted))


def _sort_value(run: Run, key: SortKey) -> Any:
    namespace, _, name = key.field.partition(".")
    if namespace == "metrics":
        summary = run.metrics.get(name)
        return None if summary is None else summary.last
    if namespace == "params":
        value = run.params.get(name)
        return None if value is None else str(value)
    if namespace == "tags":
        return run.tags.get(name)
    return getattr(run, key.field, None)


def name_matches(name: str, condition: Expr) -> bool:
    """Whether a name meets one condition of an MLflow filter on ``name``."""
    if not isinstance(condition, Comparison) or condition.field != FieldRef("attr", "name"):
        raise InvalidInputError(
            "experiments can be filtered by name only (name = 'x', name LIKE '%x%')", field="filter"
        )
    value = condition.value
    if condition.op == "=":
        return name == value
    if condition.op == "!=":
        return name != value
    if condition.op == "contains":
        return isinstance(value, str) and value in name
    if condition.op in ("in", "not_in") and isinstance(value, tuple):
        return (name in value) == (condition.op == "in")
    raise InvalidInputError(f"operator {condition.op!r} is not supported on experiment names", field="filter")


def _json_field(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    import orjson

    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


def _schema_columns(schema: Any) -> list[dict[str, Any]]:
    """MLflow's dataset schema (``{"mlflow_colspec": [{"name", "type"}]}``) as mltrail's column list."""
    if isinstance(schema, dict):
        spec = schema.get("mlflow_colspec") or schema.get("columns")
        if isinstance(spec, list):
            return [
                {
                    "name": str(c.get("name")),
                    "type": str(c.get("type")),
                    "nullable": not c.get("required", False),
                }
                for c in spec
                if isinstance(c, dict)
            ]
    return []
