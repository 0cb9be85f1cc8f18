"""Artifacts: streamed upload checked against ``X-Content-SHA256``, listing, and streamed ranged download."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, BinaryIO, cast

import anyio.from_thread
from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from mltrail.api.access import RunMember, RunViewer
from mltrail.api.audit_log import record_integrity_error, request_origin
from mltrail.api.deps import ArtifactsDep, AuditDep, CurrentUser, MaxUploadDep, RegistryDep
from mltrail.api.errors import UploadTooLargeError
from mltrail.api.tracking.presigned import PRESIGN_DOC, etag_matches, presigned_response
from mltrail.api.tracking.schemas import ArtifactPublic
from mltrail.errors import IntegrityError, InvalidInputError
from mltrail.services.accounts.service import Principal
from mltrail.services.registry.service import RegistryService
from mltrail.services.tracking.artifacts import ArtifactService

__all__ = ["SHA256_HEADER", "router"]

router = APIRouter(prefix="/runs/{run_id}/artifacts", tags=["artifacts"])
_log = logging.getLogger("mltrail.api")
SHA256_HEADER = "X-Content-SHA256"
CHUNK = 1 << 20
# Files up to this size are read and checked whole before they are sent; larger ones as they stream.
CHECK_FIRST_BELOW = 16 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _RequestBody(io.RawIOBase):
    """The request body as a blocking file for the blob store, read from a worker thread chunk by chunk.

    It counts and hashes as it goes: past ``max_bytes`` it raises 413, and at the end of the body a digest
    different from ``expected`` raises 400 — before the blob store renames its temporary file, so nothing
    is kept or recorded.
    """

    def __init__(self, stream: AsyncIterator[bytes], expected: str | None, max_bytes: int | None) -> None:
        super().__init__()
        self._stream = stream
        self._expected = expected
        self._max = max_bytes
        self._hash = hashlib.sha256()
        self._size = 0
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    async def _next(self) -> bytes | None:
        try:
            return await self._stream.__anext__()
        except StopAsyncIteration:
            return None

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending and not self._done:
            chunk = anyio.from_thread.run(self._next)
            if chunk is None:
                self._done = True
                self._check_digest()
                break
            self._size += len(chunk)
            if self._max is not None and self._size > self._max:
                raise UploadTooLargeError(f"the upload is larger than {self._max} bytes", field="body")
            self._hash.update(chunk)
            self._pending = chunk
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _check_digest(self) -> None:
        actual = self._hash.hexdigest()
        if self._expected is not None and actual != self._expected:
            raise InvalidInputError(
                f"the body's sha256 is {actual}, {SHA256_HEADER} says {self._expected}; nothing was stored",
                field=SHA256_HEADER,
            )


@router.get("")
def list_artifacts(
    run_id: RunViewer, artifacts: ArtifactsDep, prefix: Annotated[str | None, Query()] = None
) -> list[ArtifactPublic]:
    """The run's artifacts, optionally under a folder prefix."""
    return [ArtifactPublic.of(a) for a in artifacts.list(run_id, prefix)]


@router.put(
    "/{path:path}",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {}}}},
)
async def upload_artifact(
    run_id: RunMember,
    path: str,
    request: Request,
    artifacts: ArtifactsDep,
    max_bytes: MaxUploadDep,
    content_sha256: Annotated[str | None, Header(alias=SHA256_HEADER)] = None,
    content_length: Annotated[int | None, Header()] = None,
) -> ArtifactPublic:
    """Store the body as the artifact ``path`` (relative; no ``..``), streamed to the blob store.

    With ``X-Content-SHA256`` the body is checked after streaming: a mismatch is a 400 and nothing is stored.
    Bodies over the server's upload limit get 413.
    """
    expected = content_sha256.strip().lower() if content_sha256 else None
    if expected is not None and not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise InvalidInputError(f"{SHA256_HEADER} must be 64 hex digits", field=SHA256_HEADER)
    if max_bytes is not None and content_length is not None and content_length > max_bytes:
        raise UploadTooLargeError(f"the upload is larger than {max_bytes} bytes", field="body")
    body = cast(BinaryIO, _RequestBody(request.stream(), expected, max_bytes))
    artifact = await run_in_threadpool(artifacts.log_stream, run_id, path, body)
    return ArtifactPublic.of(artifact)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive of a single ``bytes=`` range; None without one; ValueError if unusable."""
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.group(0) == "bytes=-":
        raise ValueError(header)
    first, last = match.groups()
    if first == "":  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), size - 1 if last == "" else min(int(last), size - 1)
    if start > end or start >= size:
        raise ValueError(header)
    return start, end


def _chunks(stream: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    try:
        if start:
            stream.seek(start)
        left = length
        while left > 0:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        stream.close()


def _verified(
    chunks: Iterator[bytes], digest: str, what: str, on_mismatch: Callable[[], object]
) -> Iterator[bytes]:
    """``chunks`` hashed as they go; the last one is held back until the whole is checked, so a blob
    changed in the store never reaches the client complete: on a mismatch the response stops short (its
    Content-Length unmet) and the server logs the corruption for its admins."""
    sha = hashlib.sha256()
    held: bytes | None = None
    for chunk in chunks:
        sha.update(chunk)
        if held is not None:
            yield held
        held = chunk
    if sha.hexdigest() != digest:
        on_mismatch()
        _log.error(
            "integrity: %s does not match its sha256 %s in the blob store (changed on disk?)", what, digest
        )
        raise IntegrityError(f"{what} does not match its recorded sha256: the blob store was changed")
    if held is not None:
        yield held


def _presigned(
    run_id: str,
    path: str,
    artifacts: ArtifactService,
    registry: RegistryService,
    principal: Principal,
    request: Request,
    if_none_match: str | None,
) -> Response | None:
    """The artifact's presigned URL as JSON, its download audited as the streamed one is; None when the
    blob store signs no URLs."""
    artifact = artifacts.get(run_id, path)
    signed = artifacts.presigned_url(artifact)
    if signed is None:
        return None
    if etag_matches(artifact.digest, if_none_match):
        headers = {"ETag": f'"{artifact.digest}"', SHA256_HEADER: artifact.digest}
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    registry.record_artifact_download(
        run_id, artifact.path, principal=principal, origin=request_origin(request)
    )
    return presigned_response(signed, artifact.digest, artifact.size)


def _whole_matches(artifacts: ArtifactService, run_id: str, path: str, digest: str) -> bool:
    _, stream = artifacts.open(run_id, path)
    sha = hashlib.sha256()
    with stream:
        while chunk := stream.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest() == digest


@router.get(
    "/{path:path}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}, "application/json": {"schema": {}}}},
        206: {},
        304: {},
        416: {},
    },
)
def download_artifact(
    run_id: RunViewer,
    path: str,
    artifacts: ArtifactsDep,
    registry: RegistryDep,
    audit: AuditDep,
    principal: CurrentUser,
    request: Request,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    presign: Annotated[bool, Query(description=PRESIGN_DOC)] = False,
) -> Response:
    """The artifact's bytes, streamed; ``ETag`` and ``X-Content-SHA256`` carry its sha256 for checking.

    A single ``Range: bytes=a-b`` gives 206 with those bytes; an unsatisfiable one 416. With
    ``presign=true`` and a blob store that signs URLs, a presigned URL instead (``PresignedPublic``).
    """
    if presign and range_header is None:
        link = _presigned(run_id, path, artifacts, registry, principal, request, if_none_match)
        if link is not None:
            return link
    artifact, stream = artifacts.open(run_id, path)
    etag = f'"{artifact.digest}"'
    headers = {"ETag": etag, SHA256_HEADER: artifact.digest, "Accept-Ranges": "bytes"}
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        stream.close()
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    try:
        byte_range = _byte_range(range_header, artifact.size)
    except ValueError:
        stream.close()
        headers["Content-Range"] = f"bytes */{artifact.size}"
        return Response(status_code=416, headers=headers)
    code = status.HTTP_200_OK
    start, end = 0, artifact.size - 1
    what = f"artifact {artifact.path} of run {run_id}"
    if byte_range is not None:
        start, end = byte_range
        code = status.HTTP_206_PARTIAL_CONTENT
        headers["Content-Range"] = f"bytes {start}-{end}/{artifact.size}"
    body = _chunks(stream, start, end - start + 1)

    def alarm() -> None:
        record_integrity_error(audit, request, principal.name, run_id)

    if byte_range is None and artifact.size > CHECK_FIRST_BELOW:
        body = _verified(body, artifact.digest, what, alarm)  # a large file: checked as it streams
    elif not _whole_matches(artifacts, run_id, artifact.path, artifact.digest):
        # A small file, or a part (which cannot be checked on its own): the whole blob is checked before
        # any of it goes, so the client gets a clean IntegrityError.
        stream.close()
        alarm()
        _log.error("integrity: %s does not match its sha256 %s in the blob store", what, artifact.digest)
        raise IntegrityError(f"{what} does not match its recorded sha256: the blob store was changed")
    headers["Content-Length"] = str(end - start + 1)
    # A file of a registered model version is a model download, whichever route delivers it: audited.
    origin = request_origin(request)
    registry.record_artifact_download(run_id, artifact.path, principal=principal, origin=origin)
    return StreamingResponse(
        body,
        status_code=code,
        headers=headers,
        media_type="application/octet-stream",
    )
