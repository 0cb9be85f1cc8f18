"""Content-addressed blobs (sha256) in a folder or any fsspec filesystem, streamed in and out in chunks."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from mltrail.errors import IntegrityError, InvalidInputError, NotFoundError, StoreError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["CHUNK_SIZE", "BlobStore"]

CHUNK_SIZE = 1 << 20  # 1 MiB
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class BlobStore:
    """Blobs under ``<root>/sha256/ab/cd/<digest>``; identical content is stored once.

    ``root`` is a local folder or an fsspec URL (``s3://bucket/prefix``). Nothing is created until the first
    blob is written. ``max_size`` (bytes) rejects bigger blobs with InvalidInputError. fsspec (~60 ms of
    imports) loads with the first use, so a run that stores no artifact never imports it.
    """

    def __init__(
        self, root: str | os.PathLike[str], *, max_size: int | None = None, **storage_options: Any
    ) -> None:
        self._url = str(root)
        self._storage_options = storage_options
        self.max_size = max_size

    @cached_property
    def _filesystem(self) -> tuple[AbstractFileSystem, str]:
        import fsspec

        fs, path = fsspec.core.url_to_fs(self._url, **self._storage_options)
        return fs, str(path).rstrip("/")

    @property
    def _fs(self) -> AbstractFileSystem:
        return self._filesystem[0]

    @property
    def _root(self) -> str:
        return self._filesystem[1]

    @property
    def root(self) -> str:
        return self._root

    def path(self, digest: str) -> str:
        """Where the blob with this digest lives (whether or not it exists)."""
        if not _DIGEST.match(digest):
            raise InvalidInputError(f"not a sha256 hex digest: {digest!r}", field="digest")
        return f"{self._root}/sha256/{digest[:2]}/{digest[2:4]}/{digest}"

    def local_path(self, digest: str) -> str | None:
        """The blob's path on this machine's file system when the store is a local folder (for readers that
        memory-map it, such as Parquet tables); None for a remote store."""
        protocol = self._fs.protocol
        local = "file" in (protocol if isinstance(protocol, tuple | list) else (protocol,))
        return self.path(digest) if local else None

    def exists(self, digest: str) -> bool:
        return bool(self._fs.exists(self.path(digest)))

    def put_stream(self, fileobj: BinaryIO) -> tuple[str, int]:
        """Store the stream's bytes; returns ``(sha256 hex digest, size)``."""
        tmp_dir = f"{self._root}/incoming"
        tmp = f"{tmp_dir}/{uuid.uuid4().hex}.part"
        hasher = hashlib.sha256()
        size = 0
        try:
            self._fs.makedirs(tmp_dir, exist_ok=True)
            with self._fs.open(tmp, "wb") as out:
                while chunk := fileobj.read(CHUNK_SIZE):
                    size += len(chunk)
                    if self.max_size is not None and size > self.max_size:
                        raise InvalidInputError(
                            f"the blob is larger than {self.max_size} bytes", field="size"
                        )
                    hasher.update(chunk)
                    out.write(chunk)
            digest = hasher.hexdigest()
            final = self.path(digest)
            if self._fs.exists(final):
                self._fs.rm(tmp)
            else:
                self._fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
                # A rename within one filesystem is atomic: readers never see a half-written blob.
                self._fs.mv(tmp, final)
        except OSError as exc:
            self._discard(tmp)
            raise StoreError(f"cannot write a blob under {self._root}: {exc}") from exc
        except BaseException:
            self._discard(tmp)
            raise
        return digest, size

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        with Path(path).open("rb") as fh:
            return self.put_stream(fh)

    def open(self, digest: str) -> BinaryIO:
        """A binary stream of the blob; the caller closes it."""
        path = self.path(digest)
        try:
            return cast(BinaryIO, self._fs.open(path, "rb"))
        except FileNotFoundError as exc:
            raise NotFoundError(f"no blob {digest}") from exc
        except OSError as exc:
            raise StoreError(f"cannot read blob {digest} under {self._root}: {exc}") from exc

    def copy_to(self, digest: str, dest: str | os.PathLike[str]) -> int:
        """Write the blob to the local file ``dest``, checking its sha256 on the way; returns its size.

        On a mismatch nothing is left at ``dest`` and IntegrityError is raised.
        """
        target = Path(dest)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        hasher = hashlib.sha256()
        size = 0
        try:
            with self.open(digest) as src, partial.open("wb") as out:
                while chunk := src.read(CHUNK_SIZE):
                    hasher.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            if hasher.hexdigest() != digest:
                raise IntegrityError(
                    f"blob {digest} is corrupt: its content hashes to {hasher.hexdigest()}; "
                    f"{target} not written"
                )
            partial.replace(target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise StoreError(f"cannot copy blob {digest} to {target}: {exc}") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return size

    def _discard(self, path: str) -> None:
        with contextlib.suppress(OSError):
            self._fs.rm(path)

    # -- named files: the lake of raw prediction batches (``lake/monitor=…/day=…/<digest>.parquet``) --
    def named_path(self, relative: str) -> str:
        """Where the file ``relative`` (slash-separated, under the root) lives; refuses ``..`` and such."""
        parts = relative.split("/")
        if not relative or "\\" in relative or any(p in ("", ".", "..") for p in parts):
            raise InvalidInputError(f"not a relative path under the blob store: {relative!r}", field="path")
        return f"{self._root}/{relative}"

    def url(self, relative: str = "") -> str:
        """The URL a reader outside mltrail (pyarrow, DuckDB, Spark) opens ``relative`` by."""
        path = self.named_path(relative) if relative else self._root
        protocol = self._fs.protocol
        scheme = protocol[0] if isinstance(protocol, tuple | list) else protocol
        return path if scheme in ("file", "local") else f"{scheme}://{path}"

    def put_named(self, relative: str, data: bytes) -> str:
        """Write ``data`` as the file ``relative`` unless it exists (names are content-addressed, so an
        existing one holds the same bytes); one PUT on an object store, a rename into place on a local disk
        (readers never see half a file). Returns its path."""
        path = self.named_path(relative)
        try:
            if self._fs.exists(path):
                return path
            folder = path.rsplit("/", 1)[0]
            self._fs.makedirs(folder, exist_ok=True)
            protocol = self._fs.protocol
            if "file" not in (protocol if isinstance(protocol, tuple | list) else (protocol,)):
                self._fs.pipe_file(path, data)
            else:
                partial = f"{folder}/.{uuid.uuid4().hex}.part"
                with self._fs.open(partial, "wb") as out:
                    out.write(data)
                self._fs.mv(partial, path)
        except OSError as exc:
            raise StoreError(f"cannot write {relative} under {self._root}: {exc}") from exc
        return path

    def open_named(self, relative: str) -> BinaryIO:
        """A binary stream of the file ``relative``; NotFoundError when there is none."""
        path = self.named_path(relative)
        try:
            return cast(BinaryIO, self._fs.open(path, "rb"))
        except FileNotFoundError as exc:
            raise NotFoundError(f"no file {relative}") from exc
        except OSError as exc:
            raise StoreError(f"cannot read {relative} under {self._root}: {exc}") from exc

    def remove_named(self, relative: str) -> None:
        """Remove the file or folder ``relative`` (nothing when it does not exist)."""
        path = self.named_path(relative)
        with contextlib.suppress(FileNotFoundError):
            if self._fs.exists(path):
                self._fs.rm(path, recursive=True)
