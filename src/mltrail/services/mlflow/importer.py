"""``mltrail import mlflow``: an MLflow file store brought into mltrail — experiments as projects, runs with
their ids, params, tags, full metric histories, times, users and artifacts, and registered models with
versions, stages and aliases. Runs already imported (same id) are skipped, so it can be run again."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mltrail.entities import MetricsBatch, Role, RunStatus, Stage
from mltrail.errors import ConflictError, InvalidInputError, MltrailError, NotFoundError
from mltrail.services.accounts.service import Principal
from mltrail.services.mlflow.file_store import FileStoreModel, MlflowFileStore
from mltrail.services.mlflow.filters import DELETED_TAG, MLFLOW_STATUS
from mltrail.services.mlflow.models import MlflowModels
from mltrail.services.mlflow.tracking import KILLED, RUN_NAME_TAG
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.service import TrackingService
from mltrail.services.tracking.validation import normalize_artifact_path
from mltrail.store.tracking import TrackingStore

__all__ = ["ImportReport", "MlflowImporter"]

BATCH_POINTS = 50_000


class SourceRun(Protocol):
    """A run of an MLflow source, as the importer reads it (``FileStoreRun``, ``ClientRun``)."""

    run_id: str
    experiment: str
    name: str
    user: str | None
    status: str
    start_ms: int | None
    end_ms: int | None
    deleted: bool

    def params(self) -> dict[str, str]: ...
    def tags(self) -> dict[str, str]: ...
    def metrics(self) -> Iterator[tuple[str, float, int, int]]: ...
    def artifact_folder(self) -> tuple[Path | None, str | None]: ...


class Source(Protocol):
    """An MLflow history: a file store, or a tracking server or database read through MLflow's client."""

    def experiments(self) -> dict[str, str]: ...
    def runs(self) -> Sequence[SourceRun]: ...
    def models(self) -> list[FileStoreModel]: ...
    def logged_model_folder(self, model_id: str, run_id: str) -> Path | None: ...
    def close(self) -> None: ...


# progress(what, done, total): what is "runs" or "models".
Progress = Callable[[str, int, int], None]


@dataclass
class ImportReport:
    experiments: int = 0
    runs_imported: int = 0
    runs_skipped: int = 0
    metric_points: int = 0
    artifacts: int = 0
    models: int = 0
    versions_imported: int = 0
    versions_skipped: int = 0
    aliases: int = 0
    problems: list[str] = field(default_factory=list)


class MlflowImporter:
    def __init__(
        self,
        store: TrackingStore,
        tracking: TrackingService,
        artifacts: ArtifactService,
        models: MlflowModels,
        principal: Principal | None = None,
    ) -> None:
        self.store = store
        self.tracking = tracking
        self.artifacts = artifacts
        self.models = models
        self.principal = principal or Principal(name="mlflow-import", role=Role.ADMIN)

    def import_file_store(self, root: Path, progress: Progress | None = None) -> ImportReport:
        return self.import_from(MlflowFileStore(root), progress)

    def import_from(self, source: Source, progress: Progress | None = None) -> ImportReport:
        """Import what ``source`` holds: an ``MlflowFileStore`` or an ``MlflowClientSource``."""
        try:
            return self._import(source, progress)
        finally:
            source.close()

    def _import(self, source: Source, progress: Progress | None) -> ImportReport:
        report = ImportReport(experiments=len(source.experiments()))
        runs = source.runs()
        for i, run in enumerate(runs):
            self._run(run, report)
            if progress is not None:
                progress("runs", i + 1, len(runs))
        models = source.models()
        for i, model in enumerate(models):
            self._model(source, model, report)
            if progress is not None:
                progress("models", i + 1, len(models))
        return report

    # -- runs -------------------------------------------------------------------------------------------
    def _run(self, run: SourceRun, report: ImportReport) -> None:
        try:
            self.store.get_run_status(run.run_id)
            report.runs_skipped += 1
            return
        except NotFoundError:
            pass
        tags = run.tags()
        user = run.user or tags.get("mlflow.user")
        clean = {k: v for k, v in tags.items() if k not in (RUN_NAME_TAG, "mlflow.user")}
        if run.deleted:
            clean[DELETED_TAG] = "imported"
        self.tracking.start_run(
            run_id=run.run_id,
            project=run.experiment,
            name=tags.get(RUN_NAME_TAG) or run.name,
            user=user,
            config=run.params(),
            tags=clean,
            start_time=None if run.start_ms is None else run.start_ms / 1000.0,
        )
        self._metrics(run, report)
        self._artifacts(run, report)
        status = MLFLOW_STATUS.get(run.status, "finished")
        if status != "running":
            error = (
                {"type": KILLED, "message": "killed (MLflow status KILLED)"} if run.status == KILLED else None
            )
            end = run.end_ms / 1000.0 if run.end_ms is not None else None
            self.tracking.finish_run(run.run_id, status=RunStatus(status), error=error, end_time=end)
        report.runs_imported += 1

    def _metrics(self, run: SourceRun, report: ImportReport) -> None:
        batch = MetricsBatch([], [], [], [])
        for key, value, timestamp, step in run.metrics():
            batch.keys.append(key)
            batch.values.append(value)
            batch.wall_times.append(timestamp / 1000.0 if math.isfinite(timestamp) else 0.0)
            batch.steps.append(step)
            if len(batch) >= BATCH_POINTS:
                self.tracking.log_metrics(run.run_id, batch)
                report.metric_points += len(batch)
                batch = MetricsBatch([], [], [], [])
        if len(batch):
            self.tracking.log_metrics(run.run_id, batch)
            report.metric_points += len(batch)

    def _artifacts(self, run: SourceRun, report: ImportReport) -> None:
        folder, problem = run.artifact_folder()
        if folder is None:
            report.problems.append(f"run {run.run_id}: {problem}")
            return
        for child in sorted(folder.iterdir()):
            report.artifacts += len(self.artifacts.log_path(run.run_id, child, name=child.name))

    # -- models -----------------------------------------------------------------------------------------
    def _model(self, source: Source, model: FileStoreModel, report: ImportReport) -> None:
        report.models += 1
        for version in model.versions:
            if version.run_id is None:
                report.problems.append(f"model {model.name} v{version.version}: no run, not imported")
                continue
            try:
                path = self._model_folder(source, version.source, version.run_id)
            except InvalidInputError as exc:
                report.problems.append(f"model {model.name} v{version.version}: {exc.message}")
                continue
            existing = [
                v
                for v in self.models.registry.versions_of_run(version.run_id, limit=1000)[0]
                if v.model == model.name and v.source == path
            ]
            if existing:
                report.versions_skipped += 1
                registered = existing[0]
            else:
                try:
                    registered = self.models.create_version(
                        model.name,
                        source=f"runs:/{version.run_id}/{path}",
                        run_id=version.run_id,
                        principal=self.principal,
                        description=version.description,
                        tags={**version.tags, "mlflow.version": str(version.version)},
                    )
                except MltrailError as exc:
                    report.problems.append(f"model {model.name} v{version.version}: {exc.message}")
                    continue
                report.versions_imported += 1
                stage = version.stage.lower()
                if stage in (Stage.STAGING.value, Stage.PRODUCTION.value, Stage.ARCHIVED.value):
                    moved = self.models.registry.transition(
                        model.name, registered.version, principal=self.principal, stage=stage
                    )
                    if moved.request is not None:
                        report.problems.append(
                            f"model {model.name} v{registered.version}: stage {stage} is protected; request"
                            f" {moved.request.id} waits for approval"
                        )
            for alias, number in model.aliases.items():
                if number != version.version or alias in registered.aliases:
                    continue
                try:
                    moved = self.models.registry.set_alias(
                        model.name, alias, registered.version, principal=self.principal
                    )
                except (ConflictError, InvalidInputError) as exc:
                    report.problems.append(f"model {model.name} alias {alias}: {exc.message}")
                    continue
                if moved.request is not None:
                    report.problems.append(
                        f"model {model.name} alias {alias} is protected; request {moved.request.id} waits for"
                        " approval"
                    )
                else:
                    report.aliases += 1

    def _model_folder(self, source: Source, uri: str, run_id: str) -> str:
        """The version's folder inside its run: ``…/<run>/artifacts/<path>``, or for MLflow 3's logged
        models (``models:/m-…``) the model's own artifacts, logged into the run under ``models/<id>``."""
        marker = f"/{run_id}/artifacts/"
        if marker in uri:
            return normalize_artifact_path(uri.split(marker, 1)[1].strip("/"))
        if uri.startswith("runs:/"):
            return normalize_artifact_path(uri[len("runs:/") :].partition("/")[2].strip("/"))
        if uri.startswith("models:/m-"):
            model_id = uri[len("models:/") :].strip("/")
            path = f"models/{model_id}"
            if self.artifacts.list(run_id, path + "/"):
                return path  # imported before
            artifacts = source.logged_model_folder(model_id, run_id)
            if artifacts is not None:
                self.artifacts.log_path(run_id, artifacts, name=path)
                return path
        raise InvalidInputError(
            f"source {uri!r} is not a folder of run {run_id} in this store", field="source"
        )
