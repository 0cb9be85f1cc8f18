"""Artifacts: files and folders of a run, stored content-addressed and streamed in and out."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from mltrail.entities import Artifact
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.tracking.validation import normalize_artifact_path
from mltrail.store.base import Store

if TYPE_CHECKING:
    from mltrail.store.blobs import BlobStore

__all__ = ["ArtifactService"]


def _walk_files(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            yield Path(root) / name


class ArtifactService:
    """Logs files, folders and streams as run artifacts; lists and downloads them, verifying digests."""

    def __init__(self, store: Store, blobs: BlobStore) -> None:
        self.store = store
        self.blobs = blobs

    def log_stream(self, run_id: str, path: str, stream: BinaryIO) -> Artifact:
        artifact_path = normalize_artifact_path(path)
        self.store.get_run_status(run_id)  # no blob is written for a run that does not exist
        return self._store(run_id, artifact_path, stream)

    def _store(self, run_id: str, artifact_path: str, stream: BinaryIO) -> Artifact:
        digest, size = self.blobs.put_stream(stream)
        return self.store.add_artifact(run_id, artifact_path, digest, size)

    def log_path(self, run_id: str, local: str | os.PathLike[str], name: str | None = None) -> list[Artifact]:
        """Log a file (as ``name`` or its file name) or a folder (its files under ``name``/folder name)."""
        source = Path(local)
        if not source.exists():
            raise InvalidInputError(f"no such file or folder: {source}", field="path")
        base = normalize_artifact_path(name if name is not None else source.name)
        self.store.get_run_status(run_id)  # once, not per file
        if source.is_file():
            with source.open("rb") as fh:
                return [self._store(run_id, base, fh)]
        logged: list[Artifact] = []
        for file in _walk_files(source):
            rel = normalize_artifact_path(f"{base}/{file.relative_to(source).as_posix()}")
            with file.open("rb") as fh:
                logged.append(self._store(run_id, rel, fh))
        return logged

    def list(self, run_id: str, prefix: str | None = None) -> list[Artifact]:
        clean = None if not prefix else normalize_artifact_path(prefix)
        return self.store.list_artifacts(run_id, prefix=clean)

    def download(self, run_id: str, path: str, dest: str | os.PathLike[str]) -> builtins.list[Path]:
        """Download one artifact, or every artifact under a folder path, into ``dest``, verifying sha256."""
        clean = normalize_artifact_path(path)
        target = Path(dest)
        try:
            artifact = self.store.get_artifact(run_id, clean)
        except NotFoundError:
            under = self.store.list_artifacts(run_id, prefix=clean + "/")
            if not under:
                raise
            written = []
            for item in under:
                out = target / Path(item.path).relative_to(clean)
                out.parent.mkdir(parents=True, exist_ok=True)
                self.blobs.copy_to(item.digest, out)
                written.append(out)
            return written
        out = target / Path(artifact.path).name if target.is_dir() else target
        out.parent.mkdir(parents=True, exist_ok=True)
        self.blobs.copy_to(artifact.digest, out)
        return [out]

    def open(self, run_id: str, path: str) -> tuple[Artifact, BinaryIO]:
        artifact = self.store.get_artifact(run_id, normalize_artifact_path(path))
        return artifact, self.blobs.open(artifact.digest)
