"""The web UI's built files served by the API server: ``/assets/*`` as they are, ``index.html`` elsewhere."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

__all__ = ["UI_DIR", "mount_ui"]

UI_DIR = Path(__file__).with_name("ui_assets")

# Vite names every file under assets/ by its content hash, so a browser may keep it for a year.
_IMMUTABLE = "public, max-age=31536000, immutable"
_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mltrail: web UI not built</title>
<style>body{font:14px/1.5 system-ui,sans-serif;max-width:640px;margin:12vh auto;color:#1d2330}
code{background:#f1f3f5;padding:1px 5px;border-radius:4px}</style></head>
<body><h1>The mltrail web UI is not built</h1>
<p>This server answers the JSON API under <a href="/api/docs"><code>/api/v1</code></a>, but the folder
<code>src/mltrail/api/ui_assets/</code> has no <code>index.html</code>.</p>
<p>Build it from a source checkout with <code>make web</code>, or by hand:
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then reload this page.</p></body></html>
"""


def _inside(root: Path, candidate: Path) -> bool:
    try:
        candidate.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def mount_ui(app: FastAPI, ui_dir: Path | None = None) -> None:
    """Serve the single-page app: ``/assets/*`` with long cache headers, any other non-API GET path
    ``index.html`` (``no-cache``, so a new build is picked up at once), or a page explaining how to build
    the UI when it is missing. Call it after the API routers are included, since its catch-all route
    must come last."""
    root = ui_dir if ui_dir is not None else UI_DIR
    assets = root / "assets"

    @app.api_route("/assets/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def ui_asset(path: str) -> Response:
        target = assets / path
        if not path or not _inside(assets, target) or not target.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(target, headers={"Cache-Control": _IMMUTABLE})

    async def ui_page(path: str) -> Response:
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, headers={"Cache-Control": "no-cache"})
        # Top-level files the build emits (favicon, robots.txt) are served as themselves.
        direct = root / path
        if path and "/" not in path and path != "index.html" and _inside(root, direct) and direct.is_file():
            return FileResponse(direct, headers={"Cache-Control": "no-cache"})
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    # Never for /api paths, so that those keep the API's answers (its JSON 404, and 405 with Allow for a
    # method a route does not take); other paths answer GET and HEAD, and 405 to the other methods.
    app.router.routes.append(
        _UIRoute("/{path:path}", ui_page, methods=["GET", "HEAD"], include_in_schema=False)
    )


class _UIRoute(APIRoute):
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path == "/api" or path.startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)
