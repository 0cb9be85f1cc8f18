"""``create_gateway_app``: the gateway's FastAPI app for one deployment.

- ``POST /v1/deployments/{name}/predict``: ``{"rows": [...]}`` or ``{"columns": {...}}``, optional ``key``
  (sticky canary) and ``ids``; or an Arrow IPC stream of rows (``Content-Type:
  application/vnd.apache.arrow.stream``, ``?key=`` in the query, ids in an ``_id`` column). Answers
  predictions, the variant, the model version and a request id, as JSON, or as an Arrow stream when
  ``Accept`` names it (the request id, variant and model then in ``X-Mltrail-*`` headers too).
- ``GET /healthz``: the process is up. ``GET /readyz``: the models are loaded (with their versions), and
  with a poller, its reloads and the last refused one.
- ``GET /metrics``: Prometheus text.

Errors use the API's shape, ``{"error": {"type", "message", "field"}}``: 400 for a malformed body,
wrong columns or a rejected input, 404 for another deployment's name, 413 above the body limit, 503 when
the model failed and no fallback answered.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from mltrail.errors import InvalidInputError, MltrailError
from mltrail.serving.bodies import ARROW_STREAM, arrow_answer
from mltrail.serving.gateway import Gateway
from mltrail.serving.reload import GatewayReloader

__all__ = ["DEFAULT_MAX_BODY", "create_gateway_app"]

log = logging.getLogger("mltrail.serving")
DEFAULT_MAX_BODY = 8 << 20  # 8 MiB of JSON


def _error(status: int, exc: MltrailError) -> Response:
    field = getattr(exc, "field", None)
    body = {"error": {"type": type(exc).__name__, "message": exc.message, "field": field}}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def create_gateway_app(
    build: Callable[[], Gateway],
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    watch: Callable[[Any], GatewayReloader] | None = None,
) -> FastAPI:
    """The app; ``build`` makes the ``Gateway`` at start-up (loading every model) and it is closed at
    shutdown, after the monitor rows still queued are written. ``watch``: given the app's state (whose
    ``gateway`` every request reads), the poller that swaps in a new gateway when the deployment changes."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.gateway = await run_in_threadpool(build)
        app.state.reloader = None if watch is None else watch(app.state)
        if app.state.reloader is not None:
            app.state.reloader.start()
        try:
            yield
        finally:
            if app.state.reloader is not None:
                await run_in_threadpool(app.state.reloader.stop)
            await run_in_threadpool(app.state.gateway.close)

    app = FastAPI(title="mltrail gateway", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    async def predict(request: Request) -> Response:
        # A plain Starlette route: no dependency solving or validation layer on the hot path.
        gateway: Gateway = request.app.state.gateway  # looked up per request: a reload swaps it
        name = request.path_params["name"]
        if name != gateway.name:
            gateway.metrics.inc("mltrail_gateway_rejected_total", reason="deployment")
            return _error(
                404, InvalidInputError(f"this gateway serves {gateway.name!r}, not {name!r}", "name")
            )
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            return _too_large(gateway, max_body_bytes)
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                return _too_large(gateway, max_body_bytes)
            chunks.append(chunk)
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        # The body may have been slower than a reload's grace: answer with the gateway serving now, never
        # one already drained and closed.
        gateway = request.app.state.gateway
        arrow = request.headers.get("content-type", "").startswith(ARROW_STREAM)
        call: Callable[[], dict[str, Any]]
        if arrow:
            key = request.query_params.get("key")
            call = functools.partial(gateway.predict_arrow, body, key)
        else:
            call = functools.partial(gateway.predict, body)
        try:
            # Small requests to fast models without a budget are answered here, on the event loop: the
            # hop to a worker thread and back costs more than the whole answer.
            result = call() if gateway.runs_inline(size) else await run_in_threadpool(call)
        except MltrailError as exc:
            return _error(exc.http_status, exc)
        if ARROW_STREAM in request.headers.get("accept", ""):
            headers = {
                "X-Mltrail-Request-Id": result["request_id"],
                "X-Mltrail-Variant": result["variant"],
                "X-Mltrail-Model": result["model"],
            }
            return Response(arrow_answer(result), media_type=ARROW_STREAM, headers=headers)
        return Response(
            orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json"
        )

    app.add_route("/v1/deployments/{name}/predict", predict, methods=["POST"])

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> dict[str, Any]:
        gateway: Gateway = request.app.state.gateway
        reloader: GatewayReloader | None = request.app.state.reloader
        return {
            "status": "ready",
            "pid": os.getpid(),  # which worker answered (--workers N: each loads and polls on its own)
            "deployment": gateway.name,
            "version": gateway.deployment.version,
            "models": gateway.variants(),
            **({} if reloader is None else {"reload": reloader.status()}),
        }

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        return Response(gateway.metrics.render(), media_type="text/plain; version=0.0.4")

    return app


def _too_large(gateway: Gateway, limit: int) -> Response:
    gateway.metrics.inc("mltrail_gateway_rejected_total", reason="too_large")
    exc = InvalidInputError(f"the body is larger than {limit} bytes: send fewer rows per request", "body")
    return _error(413, exc)
