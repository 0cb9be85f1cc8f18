"""Reading an upload: the request body, gunzipped when ``Content-Encoding: gzip``, bounded in size."""

from __future__ import annotations

import zlib

from fastapi import Request

from mltrail.api.errors import UploadTooLargeError
from mltrail.errors import InvalidInputError

__all__ = ["read_body"]


async def read_body(request: Request, limit: int, *, what: str = "a batch") -> bytes:
    """The body, gunzipped when ``Content-Encoding: gzip``, never larger than ``limit`` bytes before or
    after inflating (a 413 naming ``body``: "``what`` is limited to … bytes")."""
    too_large = UploadTooLargeError(f"{what} is limited to {limit} bytes", field="body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise InvalidInputError(f"unsupported Content-Encoding {encoding[:50]!r}", field="Content-Encoding")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise InvalidInputError(f"the body is not valid gzip: {exc}", field="body") from exc
    if len(data) > limit:
        raise too_large
    return data
