"""``mount_ui``: assets with long cache headers, the SPA fallback, API paths kept JSON, the not-built page."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from mltrail.api.app import create_app
from mltrail.settings import Settings

with warnings.catch_warnings():
    # As tests/api/live_server.py: Starlette asks for its httpx fork; the httpx we ship works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


def _client(tmp_path: Path, ui: Path) -> TestClient:
    return TestClient(create_app(Settings(home=tmp_path / "store"), webhooks=False, ui_dir=ui))


@pytest.fixture
def built(tmp_path: Path) -> Path:
    ui = tmp_path / "ui"
    (ui / "assets").mkdir(parents=True)
    (ui / "index.html").write_text("<!doctype html><div id=root></div>")
    (ui / "assets" / "index-abc123.js").write_text("console.log(1)")
    (ui / "favicon.svg").write_text("<svg/>")
    return ui


def test_assets_are_cached_for_a_year(tmp_path: Path, built: Path) -> None:
    with _client(tmp_path, built) as client:
        res = client.get("/assets/index-abc123.js")
        assert res.status_code == 200
        assert res.text == "console.log(1)"
        assert res.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert client.get("/assets/missing.js").status_code == 404
        assert client.get("/assets/../index.html").status_code in (200, 404)  # normalised or refused
        assert client.get("/assets/%2e%2e/%2e%2e/pyproject.toml").status_code == 404


def test_every_other_page_is_the_app(tmp_path: Path, built: Path) -> None:
    with _client(tmp_path, built) as client:
        for path in ("/", "/projects", "/runs/abc?tab=code", "/registry/m/versions/3"):
            res = client.get(path)
            assert res.status_code == 200, path
            assert "id=root" in res.text
            assert res.headers["cache-control"] == "no-cache"
            assert res.headers["content-type"].startswith("text/html")
        assert client.get("/favicon.svg").text == "<svg/>"
        assert client.post("/projects").status_code == 405


def test_api_paths_stay_json(tmp_path: Path, built: Path) -> None:
    with _client(tmp_path, built) as client:
        assert client.get("/api/v1/health").json()["status"] == "ok"
        for method in ("GET", "POST", "DELETE"):
            res = client.request(method, "/api/v1/no-such-route")
            assert res.status_code == 404, method
            assert res.json()["error"]["type"] == "NotFoundError"
        assert client.get("/api/v1/projects").status_code == 200


def test_a_missing_build_says_how_to_build(tmp_path: Path) -> None:
    with _client(tmp_path, tmp_path / "nothing") as client:
        res = client.get("/")
        assert res.status_code == 200
        assert "not built" in res.text
        assert "npm ci" in res.text and "make web" in res.text
        assert client.get("/api/v1/health").status_code == 200
