"""Webhook signatures (HMAC-SHA256, ``t=<ts>,v1=<hex>``) and ``HttpPoster``, a POST that never raises."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from mltrail.errors import InvalidInputError

if TYPE_CHECKING:
    from mltrail.notify.destinations import DestinationPolicy

__all__ = ["SIGNATURE_HEADER", "HttpPoster", "PostResult", "sign", "verify_signature"]

SIGNATURE_HEADER = "X-Mltrail-Signature"
_MAX_ERROR_CHARS = 500


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 under ``secret`` (its UTF-8 bytes, ``whsec_`` prefix included) of
    ``f"{timestamp}."`` followed by the body. The timestamp is signed too, so a captured request cannot be
    replayed later with a fresh one."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str, header: str | None, body: bytes, tolerance_s: float = 300, now: float | None = None
) -> bool:
    """Whether ``header`` (the ``X-Mltrail-Signature`` value) signs ``body`` under ``secret``, made no more
    than ``tolerance_s`` seconds from ``now`` (default: the current time).

    For receivers: pass the raw request body, before any JSON parsing (re-encoding changes the bytes). The
    comparison is constant-time. A header may carry several ``v1=`` signatures; one matching is enough.
    Anything malformed is simply ``False``.
    """
    if not header:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body)
    # Check every candidate so the time taken does not tell which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    return matched


@dataclass(frozen=True, slots=True)
class PostResult:
    """A POST's outcome: the response's status code, or the error that prevented one; time taken."""

    status_code: int | None
    error: str | None
    duration_ms: float


class HttpPoster:
    """POSTs bodies with one pooled ``httpx.Client`` (thread-safe, so several senders may share it).

    Redirects are not followed: a webhook endpoint answers itself, and following one would let a receiver
    point deliveries elsewhere. The response body is never read. ``trust_env`` makes httpx honour the
    ``HTTP(S)_PROXY`` variables.
    """

    def __init__(
        self, *, trust_env: bool = True, max_connections: int = 20, policy: DestinationPolicy | None = None
    ) -> None:
        # With a policy (a team server with accounts), a destination is resolved and checked before each
        # POST, which then goes to the checked address: docs/NOTIFICATIONS.md, "Where a server may post".
        self._policy = policy
        self._client = httpx.Client(
            follow_redirects=False,
            trust_env=trust_env,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> PostResult:
        """POST ``body`` to ``url``; never raises: connection errors and timeouts come back as ``error``.
        ``timeout`` bounds connecting and each read and write (httpx has no overall deadline)."""
        started = time.perf_counter()
        extensions: dict[str, Any] = {}
        target, sent_headers = url, dict(headers)
        if self._policy is not None:
            try:
                address = self._policy.resolve(url)[0]
            except InvalidInputError as exc:
                return PostResult(None, exc.message, (time.perf_counter() - started) * 1000.0)
            target, sent_headers, extensions = _pinned(url, address, sent_headers)
        try:
            with self._client.stream(
                "POST", target, content=body, headers=sent_headers, timeout=timeout, extensions=extensions
            ) as r:
                status: int | None = r.status_code
            error = None
        # Never raise is the contract: the dispatcher logs whatever went wrong as the attempt's error.
        except Exception as exc:  # noqa: BLE001
            status, error = None, _describe(exc)
        return PostResult(status, error, (time.perf_counter() - started) * 1000.0)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpPoster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pinned(url: str, address: str, headers: dict[str, str]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``url`` aimed at ``address`` (the one the policy checked), with the original host in ``Host`` and, for
    HTTPS, as the TLS server name (SNI and certificate check)."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    original = parts.netloc.rpartition("@")[2]
    extensions: dict[str, Any] = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {**headers, "Host": original}, extensions


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    message = f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text
    return message[:_MAX_ERROR_CHARS]
