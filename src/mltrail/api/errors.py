"""The one place errors become HTTP responses: ``{"error": {"type", "message", "field", "position"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import mltrail.errors as mltrail_errors
from mltrail.api.mlflow.errors import is_mlflow_path, mlflow_error, mlflow_status_error
from mltrail.errors import AuthenticationError, InvalidFilterError, InvalidInputError, MltrailError

__all__ = ["UnhandledErrorMiddleware", "UploadTooLargeError", "error_body", "install_error_handlers"]

_log = logging.getLogger("mltrail.api")

_PUBLIC = {getattr(mltrail_errors, name) for name in mltrail_errors.__all__}
_STATUS_TYPES = {
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    405: "InvalidInputError",
    409: "ConflictError",
    413: "InvalidInputError",
}


class UploadTooLargeError(InvalidInputError):
    """An upload over the server's size limit (HTTP-specific: the status differs, the type stays)."""

    http_status = 413


def _public_type(exc: MltrailError) -> str:
    """The nearest class of ``mltrail.errors``, so a client can raise the same type the server did."""
    for cls in type(exc).__mro__:
        if cls in _PUBLIC:
            return cls.__name__
    return "MltrailError"  # pragma: no cover - every MltrailError has MltrailError in its MRO


def error_body(
    type_name: str,
    message: str,
    field: str | None = None,
    position: int | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type_name, "message": message, "field": field, "position": position}
    if text is not None:
        error["text"] = text  # the filter or sort that failed, so the client can draw the caret again
    return {"error": error}


async def _mltrail_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MltrailError)
    if is_mlflow_path(request.url.path):
        return mlflow_error(exc)
    field = getattr(exc, "field", None)
    position = exc.position if isinstance(exc, InvalidFilterError) else None
    text = exc.text if isinstance(exc, InvalidFilterError) else None
    body = error_body(_public_type(exc), exc.message, field, position, text)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else None
    return JSONResponse(body, status_code=exc.http_status, headers=headers)


def _location(loc: tuple[int | str, ...]) -> str:
    parts = list(loc)
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid request"}
    field = _location(tuple(first.get("loc", ("body",))))
    if first.get("type") == "json_invalid":
        field = "body"
    message = f"{field}: {first.get('msg', 'invalid value')}"
    if is_mlflow_path(request.url.path):
        return mlflow_status_error(400, message)
    return JSONResponse(error_body("InvalidInputError", message, field), status_code=400)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if is_mlflow_path(request.url.path):
        return mlflow_status_error(exc.status_code, f"{request.method} {request.url.path}: {exc.detail}")
    type_name = _STATUS_TYPES.get(exc.status_code, "StoreError" if exc.status_code >= 500 else "MltrailError")
    return JSONResponse(
        error_body(type_name, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


class UnhandledErrorMiddleware:
    """Any exception no handler knows (a bug) becomes the documented JSON error with status 500, logged
    with its traceback, and the connection stays usable: left to Starlette, it is a plain-text 500 and the
    exception is raised on into the server, which drops the keep-alive connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            _log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:  # part of the answer is out: nothing else can be said on this response
                raise
            message = f"the server failed on this request ({type(exc).__name__}); it is logged on the server"
            if is_mlflow_path(str(scope.get("path", ""))):
                await mlflow_status_error(500, message)(scope, receive, send)
                return
            body = error_body("MltrailError", message)
            await JSONResponse(body, status_code=500)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MltrailError, _mltrail_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
