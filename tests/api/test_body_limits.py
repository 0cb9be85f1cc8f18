"""Bodies are bounded per route and read only after the API key is good: a huge body without a key is a 401
before a byte of it is read, and a run's notes cannot be 150 MiB."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from live_server import TestClient, free_port

from mltrail.api.app import create_app
from mltrail.api.limits import JSON_BODY_LIMIT
from mltrail.services.accounts.service import AccountService
from mltrail.settings import Settings
from mltrail.store.factory import open_store


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[tuple[Any, int, str]]:
    settings = Settings(home=tmp_path / "m")
    store = open_store(settings.db_url)
    key = AccountService(store).create_user("ana", "admin")[1].secret
    app = create_app(settings, store=store, auth=True, webhooks=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    yield app, port, key
    server.should_exit = True
    thread.join(10)
    store.close()


def _headers_only(port: int, request: bytes) -> bytes:
    """Send a request's head (announcing a body that never comes) and read what the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def _length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_a_huge_body_without_a_key_is_refused_before_it_is_read(keyed: tuple[Any, int, str]) -> None:
    _, port, _ = keyed
    head = (
        b"POST /api/v1/runs/abc/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 33554432\r\n\r\n"
    )
    answer = _headers_only(port, head)  # 32 MiB announced, none sent: the server answers at once
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"AuthenticationError" in answer


def test_an_announced_body_over_the_routes_limit_is_a_413_at_once(keyed: tuple[Any, int, str]) -> None:
    _, port, key = keyed
    head = (
        b"PATCH /api/v1/runs/abc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\nContent-Length: 157286400\r\n\r\n"
    )
    answer = _headers_only(port, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"field":"body"' in answer


def test_a_streamed_body_over_the_limit_stops_with_a_413(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(home=tmp_path / "m"), webhooks=False)) as client:
        run = client.post("/api/v1/runs", json={"project": "p", "name": "r"}).json()

        def chunks() -> Iterator[bytes]:
            yield b'{"notes": "'
            for _ in range(3):
                yield b"x" * JSON_BODY_LIMIT
            yield b'"}'

        response = client.patch(
            f"/api/v1/runs/{run['id']}", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413 and response.json()["error"]["field"] == "body"
        small = client.patch(f"/api/v1/runs/{run['id']}", json={"notes": "fine"})
        assert small.status_code < 300
