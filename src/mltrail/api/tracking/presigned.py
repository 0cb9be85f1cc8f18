"""``?presign=true`` on the download routes (artifacts, model files): when the blob store signs URLs (S3),
the answer is where to read the bytes, not the bytes, so they need not pass through the server. The route
checks access and records the download before it answers; the client checks the sha256."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from mltrail.api.tracking.schemas import PresignedPublic
from mltrail.store.blobs import SignedUrl

__all__ = ["PRESIGN_DOC", "SHA256_HEADER", "etag_matches", "presigned_response"]

SHA256_HEADER = "X-Content-SHA256"
PRESIGN_DOC = (
    "true: when the blob store signs URLs (S3), answer JSON {url, sha256, size, expires_in} instead of the"
    " bytes (after the same access check and audit), so the client reads the object store directly and"
    " checks the sha256; the bytes as usual otherwise, and for a Range request"
)


def etag_matches(digest: str, if_none_match: str | None) -> bool:
    """The client holds this content already (``If-None-Match`` names its ``ETag``): a 304, no download."""
    return if_none_match is not None and f'"{digest}"' in [t.strip() for t in if_none_match.split(",")]


def presigned_response(signed: SignedUrl, digest: str, size: int) -> JSONResponse:
    body = PresignedPublic(url=signed.url, sha256=digest, size=size, expires_in=signed.expires_in)
    # The URL is a credential for a while: no cache keeps it.
    return JSONResponse(body.model_dump(), headers={SHA256_HEADER: digest, "Cache-Control": "no-store"})
