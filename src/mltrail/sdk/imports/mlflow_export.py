"""``mltrail export mlflow``: the importer's reverse. Projects become experiments; runs are written with their
names, users, start and end times, status, params, tags, notes, full metric histories (steps and timestamps)
and artifacts; registered models with their versions (source: the exported run's artifact folder of the
model), stages and aliases. Written through MLflow's own client (``MlflowClient(tracking_uri=…)``), which must
be installed (``pip install mlflow-skinny``) and is imported only here. mltrail is read through its services.

It can be run again: every exported run carries the tag ``mltrail.run_id`` and, once complete,
``mltrail.export = complete``; a complete run is skipped, a run an interrupted export left half-written is
deleted in MLflow and written again. A version carries the tag ``mltrail.version`` and is skipped likewise."""

from __future__ import annotations

import importlib
import json
import math
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mltrail.entities import RegisteredModel, Run, RunStatus
from mltrail.errors import InvalidInputError
from mltrail.services.mlflow.filters import DELETED_TAG
from mltrail.services.mlflow.tracking import KILLED, RUN_NAME_TAG
from mltrail.services.registry.service import RegistryService
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.service import MAX_PAGE, TrackingService

__all__ = ["RUN_ID_TAG", "ExportReport", "MlflowExporter", "mlflow_uri"]

RUN_ID_TAG = "mltrail.run_id"
VERSION_TAG = "mltrail.version"
DONE_TAG = "mltrail.export"
NOTE_TAG = "mlflow.note.content"
# MLflow's log_batch limits per request (and its param value limit).
METRICS_PER_BATCH = 1000
PARAMS_PER_BATCH = 100
TAGS_PER_BATCH = 100
MAX_PARAM_VALUE = 6000
SEARCH_PAGE = 1000

# progress(what, done, total): what is "runs" or "models".
Progress = Callable[[str, int, int], None]


@dataclass
class ExportReport:
    experiments: int = 0
    runs_exported: int = 0
    runs_skipped: int = 0
    metric_points: int = 0
    artifacts: int = 0
    models: int = 0
    versions_exported: int = 0
    versions_skipped: int = 0
    aliases: int = 0
    problems: list[str] = field(default_factory=list)


def mlflow_uri(target: str) -> str:
    """The tracking URI MLflow's client takes for ``--to``: a URI as given, a folder as a ``file:`` URI."""
    if "://" in target or target.startswith("sqlite:"):
        return target
    return Path(target).expanduser().resolve().as_uri()


def param_text(value: Any) -> str:
    """A param as MLflow keeps it: text (numbers as Python writes them, anything else as JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def mlflow_status(run: Run) -> str:
    if run.status is RunStatus.RUNNING:
        return "RUNNING"
    if run.status is RunStatus.FINISHED:
        return "FINISHED"
    if run.status is RunStatus.CRASHED or (run.error or {}).get("type") == KILLED:
        return "KILLED"
    return "FAILED"


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None or not math.isfinite(seconds) else round(seconds * 1000)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class MlflowExporter:
    """Writes mltrail's projects, runs and registry into an MLflow file store, database or server."""

    def __init__(
        self, tracking: TrackingService, artifacts: ArtifactService, registry: RegistryService, uri: str
    ) -> None:
        try:
            mlflow = importlib.import_module("mlflow")
        except ImportError as exc:
            raise InvalidInputError(
                f"writing to {uri} needs MLflow's client where the export runs: pip install mlflow-skinny",
                field="--to",
            ) from exc
        self.mlflow = mlflow
        self.entities = importlib.import_module("mlflow.entities")
        self.client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        self.tracking = tracking
        self.artifacts = artifacts
        self.registry = registry
        self.run_map: dict[str, Any] = {}  # mltrail run id -> the MLflow run written for it

    def export(self, projects: Sequence[str] = (), progress: Progress | None = None) -> ExportReport:
        known = [p.name for p in self.tracking.list_projects()]
        unknown = [p for p in projects if p not in known]
        if unknown:
            raise InvalidInputError(
                f"--project {', '.join(unknown)}: no such project here"
                f" (projects: {', '.join(known) or 'none'})",
                field="--project",
            )
        chosen = list(projects) or known
        report = ExportReport(experiments=len(chosen))
        runs = []
        for name in chosen:
            experiment_id = self._experiment(name)
            exported = self._exported(experiment_id)
            runs += [(experiment_id, exported.get(run.id), run) for run in self._runs(name)]
        for i, (experiment_id, done, run) in enumerate(runs):
            self._run(experiment_id, done, run, report)
            if progress is not None:
                progress("runs", i + 1, len(runs))
        models = self._models(chosen)
        for i, model in enumerate(models):
            self._model(model, report)
            if progress is not None:
                progress("models", i + 1, len(models))
        return report

    # -- reading mltrail --------------------------------------------------------------------------------
    def _runs(self, project: str) -> list[Run]:
        out: list[Run] = []
        while True:
            page = self.tracking.search_runs(project, offset=len(out), limit=MAX_PAGE)
            out += page.runs
            if not page.runs or len(out) >= page.total:
                return out[::-1]  # oldest first, as they were logged

    def _models(self, projects: list[str]) -> list[RegisteredModel]:
        out: list[RegisteredModel] = []
        while True:
            page, total = self.registry.list_models(projects=projects, offset=len(out), limit=MAX_PAGE)
            out += page
            if not page or len(out) >= total:
                return out

    # -- runs -------------------------------------------------------------------------------------------
    def _experiment(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is None:
            return str(self.client.create_experiment(name))
        if found.lifecycle_stage == "deleted":
            self.client.restore_experiment(found.experiment_id)
        return str(found.experiment_id)

    def _exported(self, experiment_id: str) -> dict[str, Any]:
        """The complete MLflow runs written before into the experiment, by mltrail run id (one paged search);
        a run an interrupted export left half-written is deleted, to be written again."""
        out: dict[str, Any] = {}
        token = None
        while True:
            page = self.client.search_runs(
                [experiment_id],
                run_view_type=self.entities.ViewType.ALL,
                max_results=SEARCH_PAGE,
                page_token=token,
            )
            for found in page:
                run_id = found.data.tags.get(RUN_ID_TAG)
                if run_id is None:
                    continue
                if found.data.tags.get(DONE_TAG) == "complete":
                    out[run_id] = found
                elif found.info.lifecycle_stage != "deleted":
                    self.client.delete_run(found.info.run_id)
            token = page.token
            if not token:
                return out

    def _run(self, experiment_id: str, done: Any | None, run: Run, report: ExportReport) -> None:
        if done is not None:
            self.run_map[run.id] = done
            report.runs_skipped += 1
            return
        tags = {k: v for k, v in run.tags.items() if k not in (DELETED_TAG, RUN_NAME_TAG)}
        tags[RUN_ID_TAG] = run.id
        if run.user:
            tags["mlflow.user"] = run.user
        if run.notes:
            tags[NOTE_TAG] = run.notes
        created = self.client.create_run(
            experiment_id, start_time=_ms(run.start_time), tags={RUN_ID_TAG: run.id}, run_name=run.name
        )
        mlflow_id = created.info.run_id
        e = self.entities
        params = []
        for key, value in sorted(run.params.items()):
            text = param_text(value)
            if len(text) > MAX_PARAM_VALUE:
                report.problems.append(
                    f"run {run.id}: param {key} is over MLflow's {MAX_PARAM_VALUE} characters; left out"
                )
                continue
            params.append(e.Param(key, text))
        for chunk in _chunks(params, PARAMS_PER_BATCH):
            self.client.log_batch(mlflow_id, params=list(chunk))
        tag_list = [e.RunTag(k, v) for k, v in sorted(tags.items())]
        for chunk in _chunks(tag_list, TAGS_PER_BATCH):
            self.client.log_batch(mlflow_id, tags=list(chunk))
        self._metrics(run, mlflow_id, report)
        self._artifacts(run, mlflow_id, report)
        status = mlflow_status(run)
        if status != "RUNNING":  # a created run is RUNNING, with no end time
            self.client.set_terminated(mlflow_id, status=status, end_time=_ms(run.end_time))
        self.client.set_tag(mlflow_id, DONE_TAG, "complete")
        if DELETED_TAG in run.tags:
            self.client.delete_run(mlflow_id)
        self.run_map[run.id] = self.client.get_run(mlflow_id)
        report.runs_exported += 1

    def _metrics(self, run: Run, mlflow_id: str, report: ExportReport) -> None:
        points = []
        for key in sorted(run.metrics):
            history = self.tracking.metric_history(run.id, key)
            for step, value, wall in zip(history.steps, history.values, history.wall_times, strict=True):
                points.append(self.entities.Metric(key, float(value), _ms(wall) or 0, int(step)))
        for chunk in _chunks(points, METRICS_PER_BATCH):
            self.client.log_batch(mlflow_id, metrics=list(chunk))
        report.metric_points += len(points)

    def _artifacts(self, run: Run, mlflow_id: str, report: ExportReport) -> None:
        listed = self.artifacts.list(run.id)
        if not listed:
            return
        with tempfile.TemporaryDirectory(prefix="mltrail-mlflow-export-") as scratch:
            for artifact in listed:
                self.artifacts.download(run.id, artifact.path, Path(scratch) / artifact.path)
            self.client.log_artifacts(mlflow_id, scratch)
        report.artifacts += len(listed)

    # -- models -----------------------------------------------------------------------------------------
    def _model(self, model: RegisteredModel, report: ExportReport) -> None:
        report.models += 1
        e = self.mlflow.exceptions
        try:
            self.client.get_registered_model(model.name)
        except e.MlflowException:
            self.client.create_registered_model(
                model.name,
                tags={**model.tags, "mltrail.project": model.project},
                description=model.description,
            )
        written = {
            v.tags.get(VERSION_TAG): v for v in self.client.search_model_versions(f"name = '{model.name}'")
        }
        versions: list[Any] = []
        while True:
            page, total = self.registry.list_versions(model.name, offset=len(versions), limit=MAX_PAGE)
            versions += page
            if not page or len(versions) >= total:
                break
        numbers: dict[int, str] = {}  # mltrail version -> MLflow version
        for version in sorted(versions, key=lambda v: v.version):
            if str(version.version) in written:
                numbers[version.version] = str(written[str(version.version)].version)
                report.versions_skipped += 1
                continue
            exported = self.run_map.get(version.run_id or "")
            if exported is None:
                report.problems.append(
                    f"model {model.name} v{version.version}: its run {version.run_id} was not exported;"
                    " left out"
                )
                continue
            created = self.client.create_model_version(
                model.name,
                source=f"{exported.info.artifact_uri.rstrip('/')}/{version.source}",
                run_id=exported.info.run_id,
                tags={**version.tags, VERSION_TAG: str(version.version), "mltrail.digest": version.digest},
                description=version.description or None,
            )
            numbers[version.version] = str(created.version)
            report.versions_exported += 1
            if version.stage.value != "none":
                with warnings.catch_warnings():  # MLflow 3 deprecates stages, yet keeps them
                    warnings.simplefilter("ignore")
                    self.client.transition_model_version_stage(
                        model.name, created.version, version.stage.value.title()
                    )
        current = self.client.get_registered_model(model.name).aliases or {}
        for alias, number in sorted(model.aliases.items()):
            target = numbers.get(number)
            if target is None:
                report.problems.append(f"model {model.name} alias {alias}: v{number} was not exported")
            elif str(current.get(alias)) != target:
                self.client.set_registered_model_alias(model.name, alias, target)
                report.aliases += 1
