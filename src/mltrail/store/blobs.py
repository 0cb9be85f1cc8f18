"""Content-addressed blobs (sha256) in a folder or any fsspec filesystem, streamed in and out in chunks.

A local folder gets each blob through a temporary file renamed into place (atomic). An object store (S3)
has no cheap rename, so a blob is hashed while it is spooled on this machine (a large local file: where it
lies), one HEAD asks whether its digest is already stored, and only a new one is written, in one PUT
(multipart when large) to its final key, carrying its sha256 for S3 to check: never rewritten, never copied.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from mltrail.errors import ConflictError, IntegrityError, InvalidInputError, NotFoundError, StoreError
from mltrail.store.blob_named import NamedFiles

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from mltrail.settings import Settings

__all__ = ["CHUNK_SIZE", "SPOOL_IN_MEMORY", "BlobStore", "SignedUpload", "SignedUrl"]

CHUNK_SIZE = 1 << 20  # 1 MiB
# A blob bound for an object store is held in memory up to this size, in a temporary file beyond.
SPOOL_IN_MEMORY = 8 << 20
# s3fs's rule: below twice its 50 MiB part size a blob goes in one PUT, in parts above.
SINGLE_PUT_BELOW = 100 << 20
# How many blobs of a folder are sent to an object store at once.
PARALLEL_PUTS = 8
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class SignedUrl:
    """A URL that reads one blob without credentials until ``expires_in`` seconds after it was made."""

    url: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class SignedUpload:
    """A URL that writes one blob's object with a PUT carrying ``headers``, for ``expires_in`` seconds."""

    url: str
    headers: dict[str, str]
    expires_in: int


class BlobStore(NamedFiles):
    """Blobs under ``<root>/sha256/ab/cd/<digest>``; identical content is stored once.

    ``root`` is a local folder or an fsspec URL (``s3://bucket/prefix``). Nothing is created until the first
    blob is written. ``max_size`` (bytes) rejects bigger blobs with InvalidInputError. ``presign`` (seconds)
    is how long the URLs of ``presigned_url`` last (0: none). fsspec (~60 ms of imports) loads with the
    first use, so a run that stores no artifact never imports it.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        max_size: int | None = None,
        presign: float = 0.0,
        **storage_options: Any,
    ) -> None:
        self._url = str(root)
        self._storage_options = storage_options
        self.max_size = max_size
        self.presign = presign

    @classmethod
    def from_settings(cls, settings: Settings) -> BlobStore:
        """``settings.blobs``, with the ``MLTRAIL_S3_*`` options when it is an ``s3://`` URL."""
        from mltrail.store.blob_s3 import is_s3, s3_storage_options

        if is_s3(settings.blobs):
            return cls(settings.blobs, presign=settings.s3_presign, **s3_storage_options(settings))
        return cls(settings.blobs)

    @cached_property
    def _filesystem(self) -> tuple[AbstractFileSystem, str]:
        import fsspec

        fs, path = fsspec.core.url_to_fs(self._url, **self._storage_options)
        return fs, str(path).rstrip("/")

    @property
    def _fs(self) -> AbstractFileSystem:
        return self._filesystem[0]

    @cached_property
    def _local_root(self) -> str | None:
        """The folder of a store given as a plain path or a ``file://`` URL, worked out without importing
        fsspec (a reader of local blobs never needs it); None for any other URL, which fsspec resolves."""
        url = self._url
        path = url.removeprefix("file://")
        if "://" in path or "::" in path or self._storage_options:
            return None
        return Path(path).expanduser().absolute().as_posix().rstrip("/")

    @property
    def _root(self) -> str:
        local = self._local_root
        return local if local is not None else self._filesystem[1]

    @property
    def root(self) -> str:
        return self._root

    def path(self, digest: str) -> str:
        """Where the blob with this digest lives (whether or not it exists)."""
        if not _DIGEST.match(digest):
            raise InvalidInputError(f"not a sha256 hex digest: {digest!r}", field="digest")
        return f"{self._root}/sha256/{digest[:2]}/{digest[2:4]}/{digest}"

    @cached_property
    def is_local(self) -> bool:
        """The store is a folder of this machine (renames are atomic and cheap); else an object store."""
        if self._local_root is not None:
            return True
        protocol = self._fs.protocol
        return bool({"file", "local"} & set(protocol if isinstance(protocol, tuple | list) else (protocol,)))

    def local_path(self, digest: str) -> str | None:
        """The blob's path on this machine's file system when the store is a local folder (for readers that
        memory-map it, such as Parquet tables); None for a remote store."""
        return self.path(digest) if self.is_local else None

    def exists(self, digest: str) -> bool:
        path = self.path(digest)
        if self.is_local:
            return bool(self._fs.exists(path))
        from mltrail.store.blob_s3 import head_exists

        with self._remote_errors(f"read blob {digest} from"):
            return head_exists(self._fs, path)

    def presigned_url(self, digest: str) -> SignedUrl | None:
        """A URL that reads the blob without credentials for ``presign`` seconds, when the store can sign
        one (S3); None otherwise. The caller checks access first and the reader verifies the digest."""
        if self.presign <= 0 or self.is_local:
            return None
        try:
            with self._remote_errors(f"sign a URL of blob {digest} in"):
                url = self._fs.sign(self.path(digest), expiration=int(self.presign))
                return SignedUrl(str(url), int(self.presign))
        except NotImplementedError:
            return None

    def presigned_upload(self, digest: str, size: int) -> SignedUpload | None:
        """A URL through which a client writes the blob ``digest`` of ``size`` bytes itself (one PUT, S3
        checking the sha256), when the store signs URLs; None otherwise, and above S3's 5 GiB for one PUT.
        The caller checks access first, and ``holds`` once the client says it is done."""
        if self.presign <= 0 or self.is_local or size > 5 << 30 or not hasattr(self._fs, "call_s3"):
            return None
        from mltrail.store.blob_s3 import sign_upload

        with self._remote_errors(f"sign an upload URL of blob {digest} in"):
            url, headers = sign_upload(self._fs, self.path(digest), digest, int(self.presign))
        return SignedUpload(url, headers, int(self.presign))

    def holds(self, digest: str, size: int) -> bool:
        """Whether the object store holds the blob ``digest`` of ``size`` bytes intact: the sha256 S3
        recorded and checked at upload, or (a store that records none) its bytes hashed here. An object whose
        bytes are not the digest's (a client's upload gone wrong) is removed, so that it is written again; an
        intact one of another size is InvalidInputError (the caller's size is wrong), never removed."""
        from mltrail.store.blob_s3 import recorded_checksum

        path = self.path(digest)
        with self._remote_errors(f"read blob {digest} from"):
            found = recorded_checksum(self._fs, path)
        if found is None:
            return False
        stored_size, checksum = found
        intact = checksum == base64.b64encode(bytes.fromhex(digest)).decode()
        if not intact:  # no sha256 recorded (or a composite one of parts): the bytes decide
            hasher = hashlib.sha256()
            with self.open(digest) as stream:
                while chunk := stream.read(CHUNK_SIZE):
                    hasher.update(chunk)
            intact = hasher.hexdigest() == digest
        if not intact:
            self._discard(path)
            return False
        if stored_size != size:
            raise InvalidInputError(f"blob {digest} has {stored_size} bytes, not {size}", field="size")
        return True

    def put_stream(self, fileobj: BinaryIO) -> tuple[str, int]:
        """Store the stream's bytes; returns ``(sha256 hex digest, size)``."""
        if not self.is_local:
            return self._put_remote(fileobj)
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

    def _put_remote(self, fileobj: BinaryIO) -> tuple[str, int]:
        """Hash while spooling (memory, then a temporary file), HEAD the digest's key, PUT only a new blob."""
        hasher = hashlib.sha256()
        size = 0
        buffer = bytearray()
        spool: Any = None
        try:
            while chunk := fileobj.read(CHUNK_SIZE):
                size += len(chunk)
                if self.max_size is not None and size > self.max_size:
                    raise InvalidInputError(f"the blob is larger than {self.max_size} bytes", field="size")
                hasher.update(chunk)
                if spool is None and len(buffer) + len(chunk) <= SPOOL_IN_MEMORY:
                    buffer += chunk
                    continue
                if spool is None:
                    spool = tempfile.NamedTemporaryFile(prefix="mltrail-blob-", suffix=".part")  # noqa: SIM115
                    spool.write(buffer)
                    buffer = bytearray()
                spool.write(chunk)
            digest = hasher.hexdigest()
            if self.exists(digest):
                return digest, size
            final = self.path(digest)
            with self._remote_errors(f"write blob {digest} to"):
                try:
                    if spool is None:
                        self._fs.pipe_file(final, bytes(buffer), **_checksum(hasher, size))
                    else:
                        spool.flush()
                        self._fs.put_file(spool.name, final, **_checksum(hasher, size))
                except FileNotFoundError as exc:  # NoSuchBucket
                    raise self._no_bucket(digest, exc) from exc
        finally:
            if spool is not None:
                spool.close()
        return digest, size

    def _no_bucket(self, digest: str, exc: BaseException) -> StoreError:
        return StoreError(
            f"cannot write blob {digest} under {self._url}: the bucket does not exist ({exc});"
            " create it or fix MLTRAIL_BLOBS"
        )

    def _remote_errors(self, doing: str) -> contextlib.AbstractContextManager[None]:
        """An object store's failures as StoreErrors naming the setting to fix (``blob_s3.remote_errors``)."""
        from mltrail.store.blob_s3 import remote_errors

        return contextlib.nullcontext() if self.is_local else remote_errors(self._url, doing)

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        """Store a local file; returns ``(sha256 hex digest, size)``.

        To an object store, a file bigger than the memory spool is hashed where it lies and sent from there,
        not copied first. A single PUT carries the sha256 (``x-amz-checksum-sha256``), so S3 itself refuses
        a body that is not what was hashed; and a file whose size, mtime or inode changed meanwhile has its
        object removed again and is refused with ConflictError.
        """
        source = Path(path)
        if self.is_local or source.stat().st_size <= SPOOL_IN_MEMORY:
            with source.open("rb") as fh:
                return self.put_stream(fh)
        return self._put_remote_file(source)

    def _put_remote_file(self, source: Path) -> tuple[str, int]:
        before = source.stat()
        hasher = hashlib.sha256()
        size = 0
        with source.open("rb") as fh:
            while chunk := fh.read(CHUNK_SIZE):
                size += len(chunk)
                if self.max_size is not None and size > self.max_size:
                    raise InvalidInputError(f"the blob is larger than {self.max_size} bytes", field="size")
                hasher.update(chunk)
        digest = hasher.hexdigest()
        if self.exists(digest):
            return digest, size
        final = self.path(digest)
        with self._remote_errors(f"write blob {digest} to"):
            try:
                self._fs.put_file(str(source), final, **_checksum(hasher, size))
            except FileNotFoundError as exc:  # NoSuchBucket
                raise self._no_bucket(digest, exc) from exc
        after = source.stat()
        if (before.st_size, before.st_mtime_ns, before.st_ino) != (
            after.st_size,
            after.st_mtime_ns,
            after.st_ino,
        ):
            self._discard(final)
            raise ConflictError(
                f"{source} changed while it was being stored; nothing was kept: log it once written"
            )
        return digest, size

    def put_files(self, paths: Sequence[str | os.PathLike[str]]) -> list[tuple[str, int]]:
        """``put_file`` of each path, in order; to an object store several at a time (each blob's requests
        wait on the network, not on this machine), to a folder one after the other."""
        if self.is_local or len(paths) < 2:
            return [self.put_file(path) for path in paths]
        with ThreadPoolExecutor(min(PARALLEL_PUTS, len(paths)), thread_name_prefix="mltrail-blobs") as pool:
            return list(pool.map(self.put_file, paths))

    def open(self, digest: str) -> BinaryIO:
        """A binary stream of the blob; the caller closes it."""
        path = self.path(digest)
        try:
            with self._remote_errors(f"read blob {digest} from"):
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
            if self.is_local:
                with self.open(digest) as src, partial.open("wb") as out:
                    while chunk := src.read(CHUNK_SIZE):
                        hasher.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
            else:
                size = self._get_remote(digest, partial, hasher)
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

    def _get_remote(self, digest: str, partial: Path, hasher: Any) -> int:
        """The object downloaded whole (one GET; parallel ranges when large), then hashed from local disk."""
        try:
            with self._remote_errors(f"read blob {digest} from"):
                self._fs.get_file(self.path(digest), str(partial))
        except FileNotFoundError as exc:
            raise NotFoundError(f"no blob {digest}") from exc
        size = 0
        with partial.open("rb") as fh:
            while chunk := fh.read(CHUNK_SIZE):
                hasher.update(chunk)
                size += len(chunk)
        return size

    def _discard(self, path: str) -> None:
        with contextlib.suppress(OSError):
            self._fs.rm(path)


def _checksum(hasher: Any, size: int) -> dict[str, str]:
    """The sha256 for S3 to check the body of a single PUT against (``x-amz-checksum-sha256``): s3fs sends
    what is below twice its 50 MiB part size in one PUT, larger blobs in parts (checked on download only)."""
    if size >= SINGLE_PUT_BELOW:
        return {}
    return {"ChecksumSHA256": base64.b64encode(hasher.digest()).decode()}
