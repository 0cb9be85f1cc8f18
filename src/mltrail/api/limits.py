"""Bounded request bodies: a size limit per route, enforced before the body is read and while it streams,
and the API key checked before a large body is read at all (docs/API.md, "Limits").

FastAPI reads a JSON body before it runs a route's dependencies, so without this a 150 MiB body with no
API key was read whole (and parsed) before the 401, and a run's notes could be 150 MiB.
"""

from __future__ import annotations

import re

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mltrail.api.authn import authenticate_request
from mltrail.api.errors import error_body
from mltrail.errors import AuthenticationError, PermissionDeniedError

__all__ = ["JSON_BODY_LIMIT", "BodyLimitMiddleware", "body_limit"]

MiB = 1 << 20
JSON_BODY_LIMIT = 1 * MiB  # a run, params, tags, notes, a model, a request, a rule …
# Routes whose bodies are uploads, each with its own bound (the route bounds the inflated size again).
_UPLOADS: tuple[tuple[str, re.Pattern[str], int | None], ...] = (
    # Streamed to the blob store by the route, which bounds it itself (--max-upload-mb) and stores nothing
    # of a body cut short; only an announced size over that limit is refused here.
    ("PUT", re.compile(r"^/api/v1/runs/[^/]+/artifacts/.+"), None),
    ("PUT", re.compile(r"^/(?:ajax-)?api/2\.0/mlflow-artifacts/artifacts/.+"), None),  # MLflow's proxy
    ("POST", re.compile(r"^/api/v1/runs/[^/]+/metrics$"), 64 * MiB),
    # A media item: its files in base64 (the route bounds it by --max-upload-mb too).
    ("PUT", re.compile(r"^/api/v1/runs/[^/]+/media/[^/]+$"), 64 * MiB),
    # An evaluation table's Parquet file (bounded again by the route, as media are).
    ("PUT", re.compile(r"^/api/v1/runs/[^/]+/tables/[^/]+$"), 256 * MiB),
    ("POST", re.compile(r"^/api/v1/runs/[^/]+/datasets$"), 64 * MiB),  # a drift profile, base64
    ("POST", re.compile(r"^/api/v1/monitors/[^/]+/predictions$"), 256 * MiB),
    ("POST", re.compile(r"^/api/v1/monitors/[^/]+/labels$"), 64 * MiB),
    ("POST", re.compile(r"^/api/v1/monitors$"), 64 * MiB),  # a reference profile, base64
)
# A body this large (or of unknown size) is read only once its API key (or session and CSRF token) is known
# to be good.
_CHECK_KEY_ABOVE = 64 * 1024
# Sign-in carries its key in the body; the route itself checks it.
_SIGN_IN = "/api/v1/session"


def body_limit(method: str, path: str, max_upload: int | None) -> int | None:
    """The largest body ``method path`` accepts (``None``: no limit here; the route streams it)."""
    for verb, pattern, limit in _UPLOADS:
        if verb == method and pattern.match(path):
            if limit is None:
                return max_upload
            return limit if max_upload is None else max(limit, max_upload)
    return JSON_BODY_LIMIT


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        limit = body_limit(scope["method"], scope["path"], getattr(state, "max_upload_bytes", None))
        declared = _content_length(scope)
        if limit is not None and declared is not None and declared > limit:
            await _too_large(limit)(scope, receive, send)
            return
        large = declared is None or declared > _CHECK_KEY_ABOVE
        if getattr(state, "auth", False) and large and scope["path"] != _SIGN_IN:
            refused = await _check_key(scope)
            if refused is not None:
                await refused(scope, receive, send)
                return
        if limit is None or _streams_itself(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        seen = 0
        exceeded = replaced = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # The route sees the client go away (so nothing of the body is kept); its answer,
                    # whatever it is, is replaced by the 413.
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def watch(message: Message) -> None:
            nonlocal replaced
            if not exceeded:
                await send(message)
            elif not replaced:
                replaced = True
                await _too_large(limit)(scope, receive, send)

        await self.app(scope, counted, watch)


def _streams_itself(method: str, path: str) -> bool:
    return any(method == verb and pattern.match(path) is not None for verb, pattern, _ in _UPLOADS[:2])


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: int) -> JSONResponse:
    message = f"the body is larger than this route accepts ({limit:,} bytes)"
    return JSONResponse(error_body("InvalidInputError", message, "body"), status_code=413)


async def _check_key(scope: Scope) -> JSONResponse | None:
    try:
        await authenticate_request(HTTPConnection(scope), scope["method"])
    except AuthenticationError as exc:
        body = error_body("AuthenticationError", exc.message)
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    except PermissionDeniedError as exc:  # a cookie-authenticated write without its CSRF token
        body = error_body("PermissionDeniedError", exc.message, getattr(exc, "field", None))
        return JSONResponse(body, status_code=403)
    return None
