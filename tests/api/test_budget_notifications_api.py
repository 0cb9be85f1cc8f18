"""Budgets with channels over HTTP: set with ``notify`` and read back redacted; a bad spec, or (with
accounts) a destination on the server's own network, is a 400 naming ``notify``; a run finished through
mltrail's finish route or MLflow's ``runs/update`` (killed) sends the budget's alert to a real receiver on
127.0.0.1, once, whatever reads follow."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.services.accounts.service import AccountService
from mltrail.services.insights.costs import month_start
from mltrail.settings import Settings
from mltrail.store.factory import open_store

HOUR = 3600.0
MLFLOW = "/api/2.0/mlflow"


@pytest.fixture
def receiver() -> Iterator[tuple[list[tuple[dict[str, str], bytes]], str]]:
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield got, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 204), response.text
    return response.json() if response.status_code == 200 else None


def test_runs_finished_through_the_api_and_mlflow_notify_once(
    tmp_path: Path, receiver: tuple[list[tuple[dict[str, str], bytes]], str]
) -> None:
    posted, url = receiver
    settings = Settings(home=tmp_path / "mltrail", alert_webhook_secret="whsec_api")
    store = open_store(settings.db_url)
    begin = month_start(time.time()) + 60
    alpha = uuid.uuid4().hex
    store.create_run(run_id=alpha, project="alpha", name="r", user="ana", start_time=begin)
    try:
        with TestClient(create_app(settings, store=store, auth=False, webhooks=False)) as client:
            _ok(client.put("/api/v1/insights/prices", json={"kind": "cpu", "per_hour": 1.0}))
            made = _ok(
                client.put(
                    "/api/v1/insights/budgets/alpha",
                    json={"amount": 10.0, "alert_share": 0.5, "notify": [f"webhook:{url}"]},
                )
            )
            assert made["channels"] == [f"webhook:{url}"]
            _ok(client.post(f"/api/v1/runs/{alpha}/finish", json={"end_time": begin + 6 * HOUR}))
            for _ in range(2):
                assert _ok(client.get("/api/v1/insights/budgets"))[0]["alerted"] is True

            experiment = _ok(client.post(f"{MLFLOW}/experiments/create", json={"name": "beta"}))
            run = _ok(
                client.post(
                    f"{MLFLOW}/runs/create",
                    json={"experiment_id": experiment["experiment_id"], "start_time": int(begin * 1000)},
                )
            )["run"]["info"]["run_id"]
            _ok(
                client.put(
                    "/api/v1/insights/budgets/beta", json={"amount": 1.0, "notify": [f"webhook:{url}"]}
                )
            )
            killed = {"run_id": run, "status": "KILLED", "end_time": int((begin + 2 * HOUR) * 1000)}
            _ok(client.post(f"{MLFLOW}/runs/update", json=killed))
        # Leaving the app lets queued notifications go out before the store closes.
        sent = sorted((json.loads(body)["alert"] for _, body in posted), key=lambda a: a["project"])
        assert [(a["project"], a["state"], a["spent"]) for a in sent] == [
            ("alpha", "alert", 6.0),
            ("beta", "over", 2.0),
        ]
        assert {h["X-Mltrail-Event"] for h, _ in posted} == {"budget.alert", "budget.over"}
    finally:
        store.close()


def test_channels_redacted_on_read_and_checked_on_a_team_server(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "mltrail")
    store = open_store(settings.db_url)
    key = AccountService(store).create_user("max", "admin")[1].secret
    store.create_run(run_id=uuid.uuid4().hex, project="alpha", name="r", user="max", start_time=time.time())
    headers = {"Authorization": f"Bearer {key}"}
    slack = "slack:https://hooks.example.test/services/T0/B0/SECRET"
    try:
        with TestClient(create_app(settings, store=store, auth=True, webhooks=False)) as client:
            made = client.put(
                "/api/v1/insights/budgets/alpha",
                json={"amount": 5.0, "notify": [slack, "email:ops@example.com"]},
                headers=headers,
            )
            assert made.status_code == 200, made.text
            shown = ["slack:https://hooks.example.test/…", "email:ops@example.com"]
            assert made.json()["channels"] == shown
            listed = client.get("/api/v1/insights/budgets", headers=headers)
            assert listed.json()[0]["channels"] == shown
            assert "SECRET" not in made.text + listed.text
            for bad in (["sms:+15550100"], ["webhook:http://127.0.0.1:9/x"], "email:a@example.com"):
                refused = client.put(
                    "/api/v1/insights/budgets/alpha", json={"amount": 5.0, "notify": bad}, headers=headers
                )
                assert refused.status_code in (400, 422), refused.text
                assert refused.json()["error"]["field"] == "notify", refused.text
            # The budget refused last is not stored: the first one stands.
            assert client.get("/api/v1/insights/budgets", headers=headers).json()[0]["channels"] == shown
    finally:
        store.close()
