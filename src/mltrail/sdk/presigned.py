"""Downloads and uploads by presigned URL, so that a file's bytes need not pass through the server.

Downloads: the server answers a download asked with ``?presign=true`` with where to read the bytes (its blob
store on S3 signs a URL) instead of the bytes, and the client reads the object store directly. The server
has checked access and recorded the download; the caller checks the sha256 (every download path here ends
in a digest check), so a changed object is refused as if it came through the server.

Uploads (``upload_by_url``, for files of ``PRESIGNED_UPLOAD_ABOVE`` bytes or more): the client asks the
server where to write the file's blob, writes it there (S3 checks the body against the signed sha256), and
asks again; the server records the artifact once its store holds the blob intact.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlsplit

import httpx

from mltrail.errors import IntegrityError, NotFoundError, StoreError

if TYPE_CHECKING:
    from mltrail.sdk.tracking.http import HttpTransport

__all__ = ["PRESIGNED_UPLOAD_ABOVE", "PRESIGN_PARAMS", "is_presigned", "presigned_chunks", "upload_by_url"]

# Files from this size on are offered to the server for a presigned upload.
PRESIGNED_UPLOAD_ABOVE = 8 << 20
_HINT = (
    "this machine must reach the server's object store; its admin can set MLTRAIL_S3_PRESIGN=0 so that"
    " files pass through the server"
)

# Sent with every download: a server whose blob store signs no URLs just streams the bytes.
PRESIGN_PARAMS = {"presign": "true"}
CHUNK = 1 << 20


def is_presigned(response: httpx.Response) -> bool:
    """The server answered with a presigned URL (JSON), not with the file's bytes (octet-stream)."""
    return str(response.headers.get("content-type", "")).startswith("application/json")


def presigned_chunks(
    link: Mapping[str, Any], digest: str, what: str, *, timeout: float = 60.0
) -> Iterator[bytes]:
    """The bytes at ``link["url"]``, streamed without mltrail's credentials (the URL carries its own).

    ``link["sha256"]`` must be the digest the caller expects (the server's record), and the caller hashes
    what it receives against it."""
    if link.get("sha256") != digest:
        raise IntegrityError(
            f"{what}: the server offered a URL for sha256 {str(link.get('sha256'))[:12]}…,"
            f" expected {digest[:12]}…"
        )
    url = str(link["url"])
    where = urlsplit(url)._replace(query="").geturl()
    hint = _HINT
    try:
        with httpx.stream("GET", url, timeout=timeout) as response:
            if response.status_code >= 400:
                response.read()
                raise StoreError(
                    f"cannot read {what} from the object store: {where} answered HTTP {response.status_code}"
                    f" ({response.text[:200]}); the presigned URL may have expired, or {hint}"
                )
            yield from response.iter_bytes(CHUNK)
    except httpx.TransportError as exc:
        raise StoreError(f"cannot read {what} from the object store at {where}: {exc}; {hint}") from exc


def upload_by_url(
    transport: HttpTransport, run_id: str, path: str, file: Path, digest: str, size: int
) -> Mapping[str, Any] | None:
    """``file`` written by this machine straight to the server's object store (``artifact-uploads``):
    the artifact's JSON once the server holds the blob intact; None when the server takes the bytes
    itself (its store signs no URLs, or it has no such route), and the caller sends them as usual."""
    url = f"/runs/{quote(run_id, safe='')}/artifact-uploads"
    body = {"path": path, "sha256": digest, "size": size}
    what = f"{path} of run {run_id}"
    try:
        first = transport._json("POST", url, body)
    except NotFoundError as exc:
        if "did not answer as an mltrail server" in exc.message:
            return None  # a server from before these uploads
        raise
    if first.get("artifact"):
        return cast(Mapping[str, Any], first["artifact"])  # stored already: nothing to send
    upload = first.get("upload")
    if not upload:
        return None
    headers = {**upload["headers"], "Content-Length": str(size)}
    where = urlsplit(str(upload["url"]))._replace(query="").geturl()
    try:
        response = httpx.put(str(upload["url"]), content=_file_chunks(file), headers=headers, timeout=300.0)
    except httpx.TransportError as exc:
        raise StoreError(f"cannot write {what} to the object store at {where}: {exc}; {_HINT}") from exc
    if response.status_code >= 400:
        raise StoreError(
            f"cannot write {what} to the object store: {where} answered HTTP {response.status_code}"
            f" ({response.text[:200]}); {_HINT}"
        )
    second = transport._json("POST", url, body)
    if second.get("artifact"):
        return cast(Mapping[str, Any], second["artifact"])
    raise IntegrityError(f"{what} did not arrive intact in the object store; nothing was recorded")


def _file_chunks(file: Path) -> Iterator[bytes]:
    with file.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk
