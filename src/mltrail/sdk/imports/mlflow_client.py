"""An MLflow tracking server (``http://host:5000``) or database (``sqlite:///mlflow.db``) read through
MLflow's own client, for the importer. MLflow is not a dependency of mltrail: the client must be installed
where the import runs (``pip install mlflow-skinny``), and is imported only here, only then."""

from __future__ import annotations

import importlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mltrail.errors import InvalidInputError
from mltrail.services.mlflow.file_store import FileStoreModel, FileStoreVersion

__all__ = ["ClientRun", "MlflowClientSource"]

PAGE = 1000


def _pages(fetch: Any) -> Iterator[Any]:
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = page.token
        if not token:
            return


@dataclass
class ClientRun:
    run_id: str
    experiment: str
    name: str
    user: str | None
    status: str
    start_ms: int | None
    end_ms: int | None
    deleted: bool
    source: MlflowClientSource
    _run: Any

    def params(self) -> dict[str, str]:
        return dict(self._run.data.params)

    def tags(self) -> dict[str, str]:
        return dict(self._run.data.tags)

    def metrics(self) -> Iterator[tuple[str, float, int, int]]:
        for key in self._run.data.metrics:
            for point in self.source.client.get_metric_history(self.run_id, key):
                yield key, float(point.value), int(point.timestamp), int(point.step)

    def artifact_folder(self) -> tuple[Path | None, str | None]:
        target = self.source.scratch / "runs" / self.run_id
        try:
            if not self.source.client.list_artifacts(self.run_id):
                return None, "no artifacts"
            target.mkdir(parents=True)
            target = Path(self.source.client.download_artifacts(self.run_id, "", str(target)))
        except Exception as exc:  # noqa: BLE001 - MLflow raises many kinds for unreachable artifact stores
            return None, f"artifacts could not be read ({type(exc).__name__}: {exc}); imported without"
        return target, None


class MlflowClientSource:
    """Experiments, runs, metric histories, artifacts and the registry of an MLflow server or database."""

    def __init__(self, uri: str) -> None:
        try:
            mlflow = importlib.import_module("mlflow")
        except ImportError as exc:
            raise InvalidInputError(
                f"reading {uri} needs MLflow's client where the import runs: pip install mlflow-skinny"
                " (a file store, ./mlruns, is read without it)",
                field="--from",
            ) from exc
        self.mlflow = mlflow
        self.client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        self.scratch = Path(tempfile.mkdtemp(prefix="mltrail-mlflow-import-"))
        self._experiments: dict[str, str] | None = None

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def experiments(self) -> dict[str, str]:
        if self._experiments is None:
            found = _pages(lambda token: self.client.search_experiments(max_results=PAGE, page_token=token))
            self._experiments = {e.experiment_id: e.name for e in found}
        return self._experiments

    def runs(self) -> list[ClientRun]:
        view_all = self.mlflow.entities.ViewType.ALL
        out = []
        for experiment_id, name in self.experiments().items():
            found = _pages(
                lambda token, eid=experiment_id: self.client.search_runs(
                    [eid], run_view_type=view_all, max_results=PAGE, page_token=token
                )
            )
            for run in found:
                info = run.info
                out.append(
                    ClientRun(
                        run_id=info.run_id,
                        experiment=name,
                        name=info.run_name or info.run_id,
                        user=info.user_id or None,
                        status=str(info.status),
                        start_ms=info.start_time,
                        end_ms=info.end_time,
                        deleted=info.lifecycle_stage == "deleted",
                        source=self,
                        _run=run,
                    )
                )
        return out

    def models(self) -> list[FileStoreModel]:
        out = []
        found = _pages(lambda token: self.client.search_registered_models(max_results=PAGE, page_token=token))
        for model in found:
            versions = [
                FileStoreVersion(
                    version=int(v.version),
                    source=str(v.source or ""),
                    run_id=v.run_id or None,
                    stage=str(v.current_stage or "None"),
                    description=str(v.description or ""),
                    tags=dict(v.tags or {}),
                )
                for v in self.client.search_model_versions(f"name = '{model.name}'")
            ]
            versions.sort(key=lambda v: v.version)
            aliases = {alias: int(version) for alias, version in (model.aliases or {}).items()}
            out.append(FileStoreModel(model.name, str(model.description or ""), versions, aliases))
        return out

    def logged_model_folder(self, model_id: str, run_id: str) -> Path | None:
        try:
            model = self.client.get_logged_model(model_id)
        except Exception:  # noqa: BLE001 - an MLflow without logged models, or one that lost it
            return None
        if model.source_run_id not in (None, run_id):
            return None
        target = self.scratch / "models" / model_id
        target.mkdir(parents=True)
        # the folder comes down inside ``target``, under its own name: use the path MLflow gives back
        local = self.mlflow.artifacts.download_artifacts(
            artifact_uri=model.artifact_location, dst_path=str(target)
        )
        return Path(local)
