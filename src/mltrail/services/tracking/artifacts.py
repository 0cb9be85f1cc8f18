"""Artifacts: files and folders of a run, stored content-addressed and streamed in and out."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from mltrail.entities import Artifact
from mltrail.errors import NotFoundError
from mltrail.services.tracking.validation import artifact_files, normalize_artifact_path
from mltrail.store.tracking import TrackingStore

if TYPE_CHECKING:
    from mltrail.store.blobs import BlobStore, SignedUpload, SignedUrl

__all__ = ["ArtifactService"]


class ArtifactService:
    """Logs files, folders and streams as run artifacts; lists and downloads them, verifying digests."""

    def __init__(self, store: TrackingStore, blobs: BlobStore) -> None:
        self.store = store
        self.blobs = blobs

    def log_stream(self, run_id: str, path: str, stream: BinaryIO) -> Artifact:
        artifact_path = normalize_artifact_path(path)
        self.store.get_run_status(run_id)  # no blob is written for a run that does not exist
        return self._store(run_id, artifact_path, stream)

    def _store(self, run_id: str, artifact_path: str, stream: BinaryIO) -> Artifact:
        digest, size = self.blobs.put_stream(stream)
        return self.store.add_artifact(run_id, artifact_path, digest, size)

    def begin_upload(self, run_id: str, path: str, digest: str, size: int) -> Artifact | SignedUpload | None:
        """A client's file of ``size`` bytes hashing to ``digest``, to become the artifact ``path`` without
        its bytes passing through here: the artifact, recorded at once, when the blob store holds that blob
        intact (stored already, or the client's upload arrived); else a presigned URL to write it with; None
        when the store signs no URLs (the client sends the bytes as usual). The caller checks access."""
        artifact_path = normalize_artifact_path(path)
        self.store.get_run_status(run_id)
        upload = self.blobs.presigned_upload(digest, size)
        if upload is None:
            return None
        if self.blobs.holds(digest, size):
            return self.store.add_artifact(run_id, artifact_path, digest, size)
        return upload

    def log_path(self, run_id: str, local: str | os.PathLike[str], name: str | None = None) -> list[Artifact]:
        """Log a file (as ``name`` or its file name) or a folder (its files under ``name``/folder name)."""
        source = Path(local)
        files = artifact_files(source)
        base = normalize_artifact_path(name if name is not None else source.name)
        self.store.get_run_status(run_id)  # once, not per file
        if files == [source]:
            digest, size = self.blobs.put_file(source)
            return [self.store.add_artifact(run_id, base, digest, size)]
        paths = [normalize_artifact_path(f"{base}/{file.relative_to(source).as_posix()}") for file in files]
        stored = self.blobs.put_files(files)  # several at a time to an object store
        return [
            self.store.add_artifact(run_id, path, digest, size)
            for path, (digest, size) in zip(paths, stored, strict=True)
        ]

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

    def get(self, run_id: str, path: str) -> Artifact:
        """The artifact record (path, digest, size) at ``path``; NotFoundError when there is none."""
        return self.store.get_artifact(run_id, normalize_artifact_path(path))

    def presigned_url(self, artifact: Artifact) -> SignedUrl | None:
        """A URL reading the artifact's blob straight from the object store for a while (the blob store's
        ``presign`` seconds), or None when the store signs none. The caller checks access first."""
        return self.blobs.presigned_url(artifact.digest)

    def open(self, run_id: str, path: str) -> tuple[Artifact, BinaryIO]:
        artifact = self.store.get_artifact(run_id, normalize_artifact_path(path))
        return artifact, self.blobs.open(artifact.digest)
