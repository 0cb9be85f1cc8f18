"""Reading an upload: the request body, gunzipped when ``Content-Encoding: gzip``, bounded in size."""

from __future__ import annotations

import zlib

from fastapi import Request

from mltrail.api.errors import UploadTooLargeError
from mltrail.errors import InvalidInputError

__all__ = ["UPLOAD_ADVICE", "read_body"]

# What to do about an upload over the server's upload limit (``create_app(max_upload_bytes=…)``).
UPLOAD_ADVICE = "send a smaller one, or start the server with a larger --max-upload-mb"


async def read_body(
    request: Request,
    limit: int | None,
    *,
    what: str = "a batch",
    advice: str = "send it in smaller parts",
    inflate: bool = True,
) -> bytes:
    """The body, never larger than ``limit`` bytes (``None``: no limit), else a 413 naming ``body``:
    "``what`` is limited to N bytes: ``advice``" (N with thousands separators).

    With ``inflate`` (the default) a ``Content-Encoding: gzip`` body is gunzipped and bounded again after
    inflating, so a small gzip bomb stops at ``limit`` inflated bytes; another encoding is a 400. Without it
    the bytes are returned as sent, whatever ``Content-Encoding`` says (uploads whose bytes are a file).
    """
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if limit is not None and size > limit:
            raise _too_large(what, limit, advice, after="")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not inflate:
        return body
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise InvalidInputError(f"unsupported Content-Encoding {encoding[:50]!r}", field="Content-Encoding")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body) if limit is None else inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise InvalidInputError(f"the body is not valid gzip: {exc}", field="body") from exc
    if limit is not None and len(data) > limit:
        raise _too_large(what, limit, advice, after=" after gunzipping")
    return data


def _too_large(what: str, limit: int, advice: str, *, after: str) -> UploadTooLargeError:
    return UploadTooLargeError(f"{what} is limited to {limit:,} bytes{after}: {advice}", field="body")
