"""The interactive API docs, ``/api/docs``: Swagger UI served from the installed package, so the page works
on a machine without internet (FastAPI's default page loads Swagger UI from a CDN).

The files come from the ``fastapi-offline`` wheel (a dependency of the ``server`` extra): its ``static/``
folder holds a current Swagger UI 5 bundle, which renders the OpenAPI 3.1 documents FastAPI writes. Only
those files are used, not its ``FastAPIOffline`` class.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

__all__ = ["ASSETS_URL", "DOCS_URL", "install_docs", "swagger_ui_dir"]

DOCS_URL = "/api/docs"
ASSETS_URL = "/api/docs/assets"


def swagger_ui_dir() -> Path:
    """The folder holding ``swagger-ui-bundle.js``, ``swagger-ui.css`` and ``favicon.png``."""
    if fastapi_offline.__file__ is None:  # pragma: no cover - a namespace package, not the real one
        raise RuntimeError("fastapi_offline is not installed as a regular package")
    return Path(fastapi_offline.__file__).parent / "static"


def install_docs(app: FastAPI) -> None:
    """Serve the docs page at ``DOCS_URL`` and its assets under ``ASSETS_URL`` (create the app with
    ``docs_url=None`` so FastAPI's CDN page is not added too)."""
    app.mount(ASSETS_URL, StaticFiles(directory=swagger_ui_dir()), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            # No badge from the public validator: offline it fails, online it would send the spec's URL out.
            swagger_ui_parameters={"validatorUrl": None},
        )
