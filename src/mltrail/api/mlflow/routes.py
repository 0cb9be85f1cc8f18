"""The MLflow routers as the app includes them: tracking, registry and artifacts under each prefix, then
the catch-all that names an unsupported endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from mltrail.api.mlflow import artifacts, logged_models, registry, tracking
from mltrail.api.mlflow.errors import MLFLOW_PREFIXES, UnsupportedError

__all__ = ["mlflow_routers"]


def _unsupported_router() -> APIRouter:
    router = APIRouter()

    @router.api_route(
        "/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
        name="mlflow_unsupported",
    )
    def unsupported(rest: str, request: Request) -> Response:
        raise UnsupportedError(
            f"{request.method} {request.url.path}: this MLflow endpoint is not supported by mltrail"
            " (docs/MLFLOW.md lists those that are)"
        )

    return router


def mlflow_routers() -> list[APIRouter]:
    """The routers to include in the app, the catch-all for unsupported endpoints last."""
    out = []
    for base in MLFLOW_PREFIXES:
        api = APIRouter(prefix=base)
        for module_router in (tracking.router, logged_models.router, registry.router, artifacts.list_router):
            api.include_router(module_router)
        api.include_router(_unsupported_router())
        out.append(api)
    proxy = APIRouter(prefix="/api/2.0/mlflow-artifacts")
    proxy.include_router(artifacts.proxy_router)
    out.append(proxy)
    return out
