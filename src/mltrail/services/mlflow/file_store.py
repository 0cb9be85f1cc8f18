"""Reading an MLflow file store (``mlruns/``) as MLflow's ``FileStore`` writes it: experiments, runs with
params, tags and full metric histories, artifacts, and the model registry under ``mlruns/models``.

``meta.yaml`` files hold flat ``key: value`` scalars; they are read without a YAML library.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from mltrail.errors import InvalidInputError

__all__ = ["FileStoreModel", "FileStoreRun", "FileStoreVersion", "MlflowFileStore", "read_meta"]

# MLflow's RunStatus numbers.
RUN_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


def _scalar(text: str) -> str | int | float | None:
    text = text.strip()
    if text in ("", "null", "~"):
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        inner = text[1:-1]
        return inner.replace("''", "'") if text[0] == "'" else inner.replace('\\"', '"')
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_meta(path: Path) -> dict[str, str | int | float | None]:
    """The top-level scalars of a ``meta.yaml`` (nested blocks and lists are skipped)."""
    out: dict[str, str | int | float | None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line[0] in " \t-#":
            continue
        key, colon, rest = line.partition(":")
        if colon:
            out[key.strip()] = _scalar(rest)
    return out


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(key, file) of every file under ``folder``; keys with ``/`` are nested folders in MLflow's layout."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path.relative_to(folder).as_posix(), path


@dataclass
class FileStoreRun:
    run_id: str
    experiment: str
    name: str
    user: str | None
    status: str
    start_ms: int | None
    end_ms: int | None
    deleted: bool
    folder: Path
    artifact_dir: Path | None

    def params(self) -> dict[str, str]:
        return {k: p.read_text(encoding="utf-8") for k, p in _files(self.folder / "params")}

    def tags(self) -> dict[str, str]:
        return {k: p.read_text(encoding="utf-8") for k, p in _files(self.folder / "tags")}

    def artifact_folder(self) -> tuple[Path | None, str | None]:
        """The folder holding the run's artifacts, or None and why they cannot be imported."""
        folder = self.artifact_dir
        if folder is None:
            return None, "artifacts kept outside the file store (s3:, mlflow-artifacts:), not imported"
        if not folder.is_dir():  # MLflow makes the folder with the run: its artifacts were lost
            return None, f"artifact folder {folder} is missing; imported without"
        return folder, None

    def metrics(self) -> Iterator[tuple[str, float, int, int]]:
        """Every point: (key, value, timestamp in ms, step)."""
        for key, path in _files(self.folder / "metrics"):
            with path.open(encoding="utf-8") as fh:
                for line in fh:
                    parts = line.split()
                    if len(parts) < 2:
                        continue
                    value = float(parts[1])
                    step = int(parts[2]) if len(parts) > 2 else 0
                    yield key, value if not math.isnan(value) else math.nan, int(parts[0]), step


@dataclass
class FileStoreVersion:
    version: int
    source: str
    run_id: str | None
    stage: str
    description: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class FileStoreModel:
    name: str
    description: str
    versions: list[FileStoreVersion]
    aliases: dict[str, int]


class MlflowFileStore:
    """An MLflow ``mlruns`` folder, read-only."""

    def __init__(self, root: Path) -> None:
        self.root = root
        if not root.is_dir():
            raise InvalidInputError(
                f"{root} is not a folder (an MLflow file store, e.g. ./mlruns)", field="--from"
            )

    def experiments(self) -> dict[str, str]:
        """Experiment id → name (deleted ones in ``.trash`` are left out)."""
        out: dict[str, str] = {}
        for meta in sorted(self.root.glob("*/meta.yaml")):
            data = read_meta(meta)
            if data.get("name") is not None and "experiment_id" in data:
                out[meta.parent.name] = str(
                    data["name"]
                )  # the folder is the id (YAML may read it as a number)
        return out

    def runs(self) -> list[FileStoreRun]:
        found = []
        for experiment_id, name in self.experiments().items():
            for meta in sorted((self.root / experiment_id).glob("*/meta.yaml")):
                data = read_meta(meta)
                if not (data.get("run_id") or data.get("run_uuid")) and "start_time" not in data:
                    continue
                run_id = meta.parent.name  # the folder is the id: an all-digit id must stay text
                status = data.get("status")
                found.append(
                    FileStoreRun(
                        run_id=str(run_id),
                        experiment=name,
                        name=str(data.get("run_name") or run_id),
                        user=None if data.get("user_id") is None else str(data.get("user_id")),
                        status=RUN_STATUS.get(status, "FINISHED")
                        if isinstance(status, int)
                        else str(status or "FINISHED"),
                        start_ms=_int(data.get("start_time")),
                        end_ms=_int(data.get("end_time")),
                        deleted=data.get("lifecycle_stage") == "deleted",
                        folder=meta.parent,
                        artifact_dir=_local(data.get("artifact_uri"), meta.parent / "artifacts"),
                    )
                )
        return found

    def logged_model_folder(self, model_id: str, run_id: str) -> Path | None:
        """The files of MLflow 3's logged model ``model_id`` if the run logged it (``<exp>/models/<id>``)."""
        for meta in self.root.glob(f"*/models/{model_id}/meta.yaml"):
            artifacts = meta.parent / "artifacts"
            if read_meta(meta).get("source_run_id") in (None, run_id) and artifacts.is_dir():
                return artifacts
        return None

    def close(self) -> None:
        """Nothing to release (the client-backed source removes its downloads)."""

    def models(self) -> list[FileStoreModel]:
        out = []
        for meta in sorted((self.root / "models").glob("*/meta.yaml")):
            data = read_meta(meta)
            versions = []
            for vmeta in sorted(
                meta.parent.glob("version-*/meta.yaml"), key=lambda p: _version_of(p.parent.name)
            ):
                v = read_meta(vmeta)
                versions.append(
                    FileStoreVersion(
                        version=_version_of(vmeta.parent.name),
                        source=str(v.get("source") or ""),
                        run_id=None if not v.get("run_id") else str(v.get("run_id")),
                        stage=str(v.get("current_stage") or "None"),
                        description=str(v.get("description") or ""),
                        tags={k: p.read_text(encoding="utf-8") for k, p in _files(vmeta.parent / "tags")},
                    )
                )
            aliases = {}
            for key, path in _files(meta.parent / "aliases"):
                text = path.read_text(encoding="utf-8").strip()
                if re.fullmatch(r"[0-9]{1,18}", text):
                    aliases[key] = int(text)
            out.append(
                FileStoreModel(
                    str(data.get("name") or meta.parent.name),
                    str(data.get("description") or ""),
                    versions,
                    aliases,
                )
            )
        return out


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _version_of(name: str) -> int:
    tail = name.rpartition("-")[2]
    return int(tail) if re.fullmatch(r"[0-9]{1,18}", tail) else 0


def _local(uri: object, fallback: Path) -> Path | None:
    """The folder of a ``file:`` artifact URI (or a plain path); the run's own ``artifacts`` otherwise."""
    if isinstance(uri, str) and uri:
        parsed = urlparse(uri)
        if parsed.scheme in ("", "file"):
            return Path(unquote(parsed.path))
        return None  # artifacts kept elsewhere (s3:, mlflow-artifacts:): not reachable from the files
    return fallback
