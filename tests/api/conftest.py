"""Fixtures for API tests: an in-process app (TestClient) and a real server process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import LiveServer, TestClient, start_server

from mltrail.api.app import create_app
from mltrail.sdk.tracking.http import close_http_transports
from mltrail.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "mltrail")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app in-process, with a 1 MiB upload limit."""
    with TestClient(create_app(settings, max_upload_bytes=1 << 20)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server process (1 MiB upload limit) for the module's tests."""
    live = start_server(tmp_path_factory.mktemp("server") / "mltrail", "--max-upload-mb", "1")
    yield live
    live.stop()


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=30) as http_client:
        yield http_client


@pytest.fixture(autouse=True)
def _close_http_transports() -> Iterator[None]:
    yield
    close_http_transports()
