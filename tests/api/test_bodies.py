"""``read_body`` on its own: the limit before and after gunzipping, no limit, and bodies not inflated."""

from __future__ import annotations

import asyncio
import gzip

import pytest
from starlette.requests import Request
from starlette.types import Message

from mltrail.api.bodies import read_body
from mltrail.api.errors import UploadTooLargeError
from mltrail.errors import InvalidInputError


def _request(body: bytes, encoding: str | None = None, chunk: int = 1000) -> Request:
    parts = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    messages: list[Message] = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]

    async def receive() -> Message:
        return messages.pop(0)

    headers = [] if encoding is None else [(b"content-encoding", encoding.encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive)


def _read(request: Request, limit: int | None, *, inflate: bool = True, what: str = "a batch") -> bytes:
    return asyncio.run(read_body(request, limit, inflate=inflate, what=what))


def test_the_limit_holds_as_sent_and_after_gunzipping() -> None:
    assert _read(_request(b"x" * 100), 100) == b"x" * 100
    with pytest.raises(UploadTooLargeError, match=r"^a batch is limited to 100 bytes: send it in smaller"):
        _read(_request(b"x" * 101), 100)
    bomb = gzip.compress(b" " * 100_000)
    with pytest.raises(UploadTooLargeError, match="limited to 1,000 bytes after gunzipping: "):
        _read(_request(bomb, "gzip"), 1_000)
    assert _read(_request(gzip.compress(b"y" * 1_000), "gzip"), 1_000) == b"y" * 1_000


def test_no_limit_reads_and_inflates_everything() -> None:
    assert _read(_request(b"z" * 50_000), None) == b"z" * 50_000
    assert _read(_request(gzip.compress(b" " * 100_000), "gzip"), None) == b" " * 100_000


def test_without_inflate_the_bytes_are_as_sent_whatever_the_encoding() -> None:
    packed = gzip.compress(b"data")
    assert _read(_request(packed, "gzip"), 1_000, inflate=False) == packed
    assert _read(_request(b"raw", "br"), None, inflate=False) == b"raw"
    with pytest.raises(InvalidInputError, match="Content-Encoding"):
        _read(_request(b"raw", "br"), None)
    with pytest.raises(UploadTooLargeError, match=r"^a table is limited to 10 bytes: "):
        _read(_request(b"x" * 11, "gzip"), 10, what="a table", inflate=False)
