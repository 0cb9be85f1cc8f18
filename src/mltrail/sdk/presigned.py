"""Downloads by presigned URL: the server answers a download asked with ``?presign=true`` with where to read
the bytes (its blob store on S3 signs a URL) instead of the bytes, and the client reads the object store
directly. The server has checked access and recorded the download; the caller checks the sha256 (every
download path here ends in a digest check), so a changed object is refused as if it came through the
server."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from mltrail.errors import IntegrityError, StoreError

__all__ = ["PRESIGN_PARAMS", "is_presigned", "presigned_chunks"]

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
    hint = (
        "this machine must reach the server's object store; its admin can set MLTRAIL_S3_PRESIGN=0 so that"
        " downloads pass through the server"
    )
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
