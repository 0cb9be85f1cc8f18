"""Webhooks end to end: the app's dispatcher delivers a registry event, signed, to a local receiver."""

from __future__ import annotations

import http.server
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.notify import SIGNATURE_HEADER, verify_signature
from mltrail.sdk.flavors import save_model
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.service import TrackingService
from mltrail.settings import Settings
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store

sklearn_linear = pytest.importorskip("sklearn.linear_model")

API = "/api/v1"


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_the_dispatcher_delivers_a_signed_event_while_the_app_runs(
    settings: Settings, tmp_path: Path, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = receiver
    store = open_store(settings.db_url)
    run_id = uuid.uuid4().hex
    TrackingService(store).start_run(run_id=run_id, project="alpha", name="r", user="bob")
    x = np.arange(20, dtype=float).reshape(10, 2)
    folder = tmp_path / "model"
    save_model(sklearn_linear.LogisticRegression().fit(x, x[:, 0] > 9), folder)
    ArtifactService(store, BlobStore(settings.blobs)).log_path(run_id, folder, "model")
    try:
        with TestClient(create_app(settings, store=store)) as client:
            created = client.post(f"{API}/webhooks", json={"url": url, "events": ["version_created"]})
            assert created.status_code == 201, created.text
            secret, hook_id = created.json()["secret"], created.json()["webhook"]["id"]
            registered = client.post(
                f"{API}/models/churn/versions", json={"run_id": run_id, "path": "model", "user": "bob"}
            )
            assert registered.status_code == 201, registered.text
            deadline = time.monotonic() + 10
            while not received and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(received) == 1
            headers, body = received[0]
            assert verify_signature(secret, headers[SIGNATURE_HEADER], body)
            payload = orjson.loads(body)
            assert payload["action"] == "version_created" and payload["model"] == "churn"
            while time.monotonic() < deadline:  # the attempt is recorded after the answer
                log = client.get(f"{API}/webhooks/{hook_id}/deliveries").json()
                if log and log[0]["status"] == "delivered":
                    break
                time.sleep(0.05)
            assert log[0]["status"] == "delivered" and log[0]["log"][0]["status_code"] == 204
    finally:
        store.close()
