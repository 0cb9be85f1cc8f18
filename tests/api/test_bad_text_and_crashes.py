"""Text no database can hold is a 400 naming the field; a bug is a JSON 500 that leaves the connection
usable."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from live_server import TestClient, free_port

from mltrail.api.app import create_app
from mltrail.settings import Settings

LONE = "\ud800"


def _post(client: TestClient, url: str, body: dict[str, Any]) -> Any:
    # json.dumps writes the lone surrogate as the escape "\ud800", as a careless client would send it.
    return client.post(url, content=json.dumps(body), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"project": f"p{LONE}", "name": "r"}, "project"),
        ({"project": "p", "name": f"r{LONE}"}, "name"),
        ({"project": "p", "name": "r", "config": {f"k{LONE}": 1}}, "params"),
        ({"project": "p", "name": "r", "tags": {"t": f"v{LONE}"}}, "tags.t"),
        ({"project": "p", "name": "r", "notes": f"n{LONE}"}, "notes"),
    ],
)
def test_a_lone_surrogate_in_a_run_is_a_400_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = _post(client, "/api/v1/runs", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == field
    assert client.get("/api/v1/projects").status_code == 200


def test_a_lone_surrogate_in_notes_or_a_model_description_is_a_400(client: TestClient) -> None:
    run = _post(client, "/api/v1/runs", {"project": "p", "name": "r"}).json()
    notes = client.patch(
        f"/api/v1/runs/{run['id']}",
        content=json.dumps({"notes": LONE}),
        headers={"Content-Type": "application/json"},
    )
    assert notes.status_code == 400 and notes.json()["error"]["field"] == "notes"
    model = _post(client, "/api/v1/models", {"name": "m", "project": "p", "description": f"d{LONE}"})
    assert model.status_code == 400 and model.json()["error"]["field"] == "description"


class _Broken:
    """The tracking service with a bug in one call."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def list_projects(self) -> Any:
        raise RuntimeError("a bug")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Any, int]]:
    app = create_app(Settings(home=tmp_path / "m"), webhooks=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started
    yield app, port
    server.should_exit = True
    thread.join(10)


def test_a_bug_is_a_json_500_and_the_connection_stays_usable(served: tuple[Any, int]) -> None:
    app, port = served
    app.state.tracking = _Broken(app.state.tracking)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/api/v1/projects")
        first = conn.getresponse()
        body = json.loads(first.read())
        assert first.status == 500
        assert first.getheader("content-type", "").startswith("application/json")
        assert body["error"]["type"] == "MltrailError" and "RuntimeError" in body["error"]["message"]
        assert (first.getheader("connection") or "").lower() != "close"
        sock = conn.sock
        conn.request("GET", "/api/v1/health")
        second = conn.getresponse()
        assert second.status == 200 and json.loads(second.read())["status"] == "ok"
        assert conn.sock is sock  # the same keep-alive connection answered
    finally:
        conn.close()
