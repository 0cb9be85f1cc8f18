"""MLflow model versions over mltrail's registry: an MLflow model folder (``MLmodel`` and its files, logged
as a run's artifacts) is pinned by a ``mltrail-model.json`` written beside it, then registered as usual."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from mltrail.entities import Artifact, ModelVersion
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.model_meta import META_FILE, META_VERSION
from mltrail.services.accounts.service import Principal
from mltrail.services.registry.core import Origin
from mltrail.services.registry.service import RegistryService
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.validation import normalize_artifact_path

__all__ = ["MLMODEL_FILE", "MlflowModels", "RunFolder", "mlmodel_flavors", "parse_model_source"]

MLMODEL_FILE = "MLmodel"
# Where MLflow's artifact proxy keeps a run's files: mlflow-artifacts:/<experiment>/<run>/artifacts/<path>.
_PROXY = re.compile(
    r"^(?:mlflow-artifacts:)?/*(?P<exp>[^/]+)/(?P<run>[0-9a-zA-Z_-]+)/artifacts(?:/(?P<path>.*))?$"
)
_RUNS = re.compile(r"^runs:/(?P<run>[^/]+)(?:/(?P<path>.*))?$")


@dataclass(frozen=True, slots=True)
class RunFolder:
    run_id: str
    path: str


def parse_model_source(source: str, run_id: str | None = None) -> RunFolder:
    """The run and folder an MLflow model version's ``source`` names (``runs:/RUN/model``,
    ``mlflow-artifacts:/EXP/RUN/artifacts/model`` or an ``http(s)://…/mlflow-artifacts/artifacts/…`` URL)."""
    text = source.strip()
    if "/api/2.0/mlflow-artifacts/artifacts/" in text:
        text = text.split("/api/2.0/mlflow-artifacts/artifacts/", 1)[1]
    match = _RUNS.match(text) or _PROXY.match(text)
    if match is None:
        raise InvalidInputError(
            f"source {source!r}: mltrail registers models logged to one of its runs (runs:/RUN/PATH or"
            " mlflow-artifacts:/EXPERIMENT/RUN/artifacts/PATH)",
            field="source",
        )
    found = match.group("run")
    if run_id and found != run_id:
        raise InvalidInputError(f"source {source!r} is not under run {run_id}", field="source")
    path = (match.group("path") or "").strip("/")
    if not path:
        raise InvalidInputError(f"source {source!r} names no folder of the run", field="source")
    return RunFolder(found, normalize_artifact_path(path))


def mlmodel_flavors(text: str) -> list[str]:
    """The flavor names of an ``MLmodel`` file (YAML: the keys indented under ``flavors:``), without a
    YAML parser: only that block's first level is read."""
    flavors: list[str] = []
    inside = False
    indent: int | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        depth = len(line) - len(line.lstrip(" "))
        if depth == 0:
            inside = line.rstrip() == "flavors:"
            indent = None
            continue
        if inside:
            if indent is None:
                indent = depth
            if depth == indent and line.strip().endswith(":"):
                flavors.append(line.strip()[:-1])
    return flavors


class MlflowModels:
    """Registers MLflow model folders as mltrail model versions."""

    def __init__(self, registry: RegistryService, artifacts: ArtifactService) -> None:
        self.registry = registry
        self.artifacts = artifacts

    def pin_folder(self, folder: RunFolder) -> None:
        """Write ``mltrail-model.json`` into the run's MLflow model folder unless it has one: every file's
        sha256 and size as logged, so the version registered from it is pinned like any other."""
        files = self.artifacts.list(folder.run_id, folder.path + "/")
        if any(a.path == f"{folder.path}/{META_FILE}" for a in files):
            return
        mlmodel = next((a for a in files if a.path == f"{folder.path}/{MLMODEL_FILE}"), None)
        if mlmodel is None:
            raise InvalidInputError(
                f"run {folder.run_id[:12]} has no model at {folder.path!r} (no {MLMODEL_FILE} file)",
                field="source",
            )
        _, stream = self.artifacts.open(folder.run_id, mlmodel.path)
        with stream:
            raw = stream.read()
        if hashlib.sha256(raw).hexdigest() != mlmodel.digest:
            raise InvalidInputError(f"{mlmodel.path} does not match its recorded sha256", field="source")
        flavors = mlmodel_flavors(raw.decode("utf-8", "replace"))
        self.artifacts.log_stream(
            folder.run_id, f"{folder.path}/{META_FILE}", io.BytesIO(_meta(folder, files, flavors))
        )

    def create_version(
        self,
        model: str,
        *,
        source: str,
        run_id: str | None,
        principal: Principal,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        origin: Origin | None = None,
        check_run: Callable[[str], object] | None = None,
    ) -> ModelVersion:
        """Register the MLflow model folder ``source`` names; ``check_run`` is called with its run first (the
        API checks the caller's role there, since the folder gets its ``mltrail-model.json``)."""
        folder = parse_model_source(source, run_id)
        if check_run is not None:
            check_run(folder.run_id)
        self.pin_folder(folder)
        return self.registry.register_version(
            model,
            run_id=folder.run_id,
            source=folder.path,
            principal=principal,
            description=description,
            tags=tags,
            origin=origin,
        )

    def download_uri(self, version: ModelVersion, experiment_id: str) -> str:
        if version.run_id is None:
            raise NotFoundError(f"{version.ref} has no run to download from")
        return f"mlflow-artifacts:/{experiment_id}/{version.run_id}/artifacts/{version.source}"


def _meta(folder: RunFolder, files: list[Artifact], flavors: list[str]) -> bytes:
    entries = [
        {"path": a.path[len(folder.path) + 1 :], "sha256": a.digest, "size": a.size}
        for a in sorted(files, key=lambda a: a.path)
    ]
    doc = {
        "mltrail_model_version": META_VERSION,
        "flavor": "mlflow",
        "format": "mlflow:" + ",".join(flavors) if flavors else "mlflow",
        # MLflow's flavors pickle (scikit-learn, python_function): treat every MLflow model as running code.
        "executes_code": True,
        "model_class": "mlflow.models.Model",
        "files": entries,
        "info": {"mlflow_flavors": flavors},
    }
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
