"""Named files in the blob store, beside the content-addressed blobs: the lake of raw prediction batches
(``lake/monitor=…/day=…/<digest>.parquet``), which Spark, DuckDB or pandas read without mltrail."""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING, BinaryIO, cast

from mltrail.errors import InvalidInputError, NotFoundError, StoreError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["NamedFiles"]


class NamedFiles:
    """``BlobStore``'s named files: paths under its root, each written once (its name says its content)."""

    @property
    def _fs(self) -> AbstractFileSystem:  # BlobStore's filesystem
        raise NotImplementedError

    @property
    def _root(self) -> str:  # BlobStore's root path on it
        raise NotImplementedError

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
