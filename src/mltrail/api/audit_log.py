"""The one place writes are audited: an ASGI middleware around ``/api/v1``.

For every POST, PUT, PATCH and DELETE it puts an ``AuditNote`` in the request scope, which the auth and
access dependencies fill in (user, project, run). When the response starts with a status below 400, it
records the event through the ``AuditService`` on ``app.state`` — before the response goes out, so a client
that sees its write succeed can already find it in the log. Reads and failed writes are not recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mltrail.entities import AuditEvent
from mltrail.errors import MltrailError
from mltrail.services.accounts.audit import AuditService
from mltrail.services.registry.core import Origin

__all__ = ["WRITE_METHODS", "AuditMiddleware", "AuditNote", "audit_note"]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SCOPE_KEY = "mltrail.audit"
_log = logging.getLogger("mltrail.api.audit")


@dataclass
class AuditNote:
    """What the route learned about the write while handling it."""

    user: str | None = None
    project: str | None = None
    run_id: str | None = None
    # A POST that only reads (MLflow's search calls) is not a write: nothing is recorded.
    read_only: bool = False


def audit_note(scope: Scope) -> AuditNote | None:
    """The request's note, when the request is an audited write."""
    note = scope.get(_SCOPE_KEY)
    return note if isinstance(note, AuditNote) else None


_MAX_USER_AGENT = 500


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            text: str = value.decode("latin-1")
            return text[:_MAX_USER_AGENT]
    return None


def request_origin(request: Request) -> Origin:
    """Where a request came from, as the registry's trail and the audit log record it."""
    return Origin(
        client=None if request.client is None else request.client.host,
        user_agent=_header(request.scope, b"user-agent"),
    )


def record_integrity_error(
    audit: AuditService, request: Request, user: str | None, run_id: str | None
) -> None:
    """A blob met on a download route no longer matches its sha256: the store was changed behind mltrail's
    back. Recorded as ``blob_integrity_error`` (status 500) so the admins see it in the audit log."""
    origin = request_origin(request)
    audit.append(
        AuditEvent(
            time=audit.clock(),
            user=user,
            action="blob_integrity_error",
            method=request.method,
            path=request.url.path[:1000],
            run_id=run_id,
            status=500,
            client=origin.client,
            user_agent=origin.user_agent,
        )
    )


class AuditMiddleware:
    def __init__(self, app: ASGIApp, prefix: str | tuple[str, ...] = "/api/v1/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        if not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        note = AuditNote()
        scope[_SCOPE_KEY] = note

        async def send_recording(message: Message) -> None:
            started = message["type"] == "http.response.start"
            if started and int(message["status"]) < 400 and not note.read_only:
                await self._record(scope, note, int(message["status"]))
            await send(message)

        await self.app(scope, receive, send_recording)

    async def _record(self, scope: Scope, note: AuditNote, status: int) -> None:
        app: Any = scope.get("app")
        audit: AuditService | None = getattr(getattr(app, "state", None), "audit", None)
        if audit is None:  # pragma: no cover - the app's lifespan always sets it
            return
        route = scope.get("route")
        params: dict[str, Any] = scope.get("path_params") or {}
        run_id = note.run_id or params.get("run_id")
        client = scope.get("client")
        event = AuditEvent(
            time=audit.clock(),
            user=note.user,
            action=str(getattr(route, "name", None) or "unknown"),
            method=str(scope["method"]),
            path=str(scope.get("path", "")),
            project=note.project,
            run_id=None if run_id is None else str(run_id),
            status=status,
            client=None if not client else str(client[0]),
            user_agent=_header(scope, b"user-agent"),
        )
        if not audit.due(event):
            return
        try:
            await run_in_threadpool(audit.append, event)
        except MltrailError:
            # The write itself succeeded; failing its response now would make the client repeat it.
            _log.exception("could not record the audit event %s %s", event.method, event.path)
