"""Who sends a request: an API key (``Authorization: Bearer``) or the web UI's session cookie.

A Bearer key wins when both are present (the SDK and the CLI; a browser cannot add that header to a
cross-site request). A request authenticated by the cookie alone must, for POST, PUT, PATCH and DELETE,
also carry ``X-CSRF-Token`` with its session's CSRF token; a page of another site can make the browser send
the cookie (SameSite=Strict stops that in current browsers) but cannot read the token.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from mltrail.services.accounts.service import Principal
from mltrail.services.accounts.sessions import CSRF_HEADER, SessionService

__all__ = ["SESSION_COOKIE", "UNSAFE_METHODS", "authenticate_request", "bearer_secret", "came_over_https"]

SESSION_COOKIE = "mltrail_session"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def bearer_secret(conn: HTTPConnection) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header; None without one (or with another scheme)."""
    header = conn.headers.get("authorization")
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else None


async def authenticate_request(conn: HTTPConnection, method: str) -> Principal:
    """The principal of a request to a server with authentication: its key, else its session cookie (and,
    for a write, its CSRF header); AuthenticationError (401) or a ``CsrfError`` (403) otherwise."""
    state = conn.app.state
    secret = bearer_secret(conn)
    token = conn.cookies.get(SESSION_COOKIE)
    if secret is not None or not token:
        principal: Principal = await run_in_threadpool(state.accounts.authenticate, secret)
        return principal
    sessions: SessionService = state.sessions
    signed_in = await run_in_threadpool(sessions.authenticate, token)
    if method in UNSAFE_METHODS:
        sessions.check_csrf(signed_in, conn.headers.get(CSRF_HEADER))
    return signed_in.principal


def came_over_https(conn: HTTPConnection) -> bool:
    """Whether the browser reached the server over HTTPS: directly, or through a proxy that says so with
    ``X-Forwarded-Proto`` or ``Forwarded``. The headers are not verified, and need not be: what they decide
    is only whether the session cookie gets ``Secure``, which a false claim can only make stricter."""
    if conn.url.scheme == "https":
        return True
    forwarded_proto = conn.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    if forwarded_proto == "https":
        return True
    forwarded = conn.headers.get("forwarded", "").split(",")[0].lower()
    return any(part.strip() == "proto=https" for part in forwarded.split(";"))
