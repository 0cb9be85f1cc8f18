"""Against a real ``mltrail server --auth`` process: 401/403/404 over the wire, the SDK with a member key, and
which hosts the server agrees to bind without authentication."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from live_server import MLTRAIL, LiveServer, start_server

from mltrail.entities import MetricsBatch, RunStatus
from mltrail.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from mltrail.sdk.tracking.http import HttpTransport
from mltrail.services.accounts.service import AccountService
from mltrail.store.factory import open_store

SECRET_RUN = "5" * 32


@dataclass
class AuthServer:
    live: LiveServer
    keys: dict[str, str]

    def client(self, user: str | None) -> httpx.Client:
        headers = {} if user is None else {"Authorization": f"Bearer {self.keys[user]}"}
        return httpx.Client(base_url=f"{self.live.url}/api/v1", headers=headers, timeout=30)

    def transport(self, user: str) -> HttpTransport:
        return HttpTransport(self.live.url, api_key=self.keys[user], attempts=1)


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    home = tmp_path_factory.mktemp("auth-server") / "mltrail"
    store = open_store(f"sqlite:///{home / 'mltrail.db'}")
    accounts = AccountService(store)
    keys = {}
    for name, role in [("ana", "admin"), ("bob", "member"), ("vic", "viewer"), ("eve", "member")]:
        keys[name] = accounts.create_user(name, role)[1].secret
    keys["revoked"] = accounts.create_key("bob", "old").secret
    accounts.revoke_key(keys["revoked"][:12])
    keys["expired"] = (
        AccountService(store, clock=lambda: time.time() - 7200).create_key("bob", "x", 3600).secret
    )
    keys["disabled"] = accounts.create_user("dan", "member")[1].secret
    accounts.set_disabled("dan", True)
    store.create_run(run_id=SECRET_RUN, project="secret", name="s", user=None, start_time=time.time())
    accounts.set_member("secret", "eve", "none")
    store.close()
    live = start_server(home, "--auth")
    yield AuthServer(live, keys)
    live.stop()


def test_unauthenticated_requests_are_401(auth_server: AuthServer) -> None:
    for user in (None, "revoked", "expired", "disabled"):
        with auth_server.client(user) as http:
            response = http.get("/projects")
        assert response.status_code == 401, user
        assert response.headers["www-authenticate"] == "Bearer"
    with httpx.Client(base_url=f"{auth_server.live.url}/api/v1", timeout=30) as http:
        unknown = http.get("/projects", headers={"Authorization": "Bearer mlt_" + "Z" * 43})
        assert unknown.status_code == 401
        assert http.get("/health").status_code == 200
    expired = HttpTransport(auth_server.live.url, api_key=auth_server.keys["expired"], attempts=1)
    with expired, pytest.raises(AuthenticationError, match="expired"):
        expired.get_run(SECRET_RUN)


def test_the_sdk_with_a_member_key_logs_a_run_end_to_end(auth_server: AuthServer) -> None:
    with auth_server.transport("bob") as bob:
        run = bob.create_run(
            run_id="e" * 32,
            project="team",
            name="trained",
            user="someone-else",
            config={"lr": 0.1},
            tags={"t": "1"},
            notes=None,
            context={},
            start_time=time.time(),
        )
        batch = MetricsBatch(
            keys=["loss"] * 1000,
            steps=list(range(1000)),
            values=[1.0 / (i + 1) for i in range(1000)],
            wall_times=[time.time()] * 1000,
            client_id="sdk",
            seq=1,
        )
        bob.log_metrics(run.id, batch)
        bob.set_summary(run.id, {"best": 0.5})
        bob.log_artifact_bytes(run.id, "model.bin", b"weights")
        bob.heartbeat(run.id)
        bob.finish_run(run.id, RunStatus.FINISHED, None)
    with auth_server.client("ana") as http:
        stored = http.get(f"/runs/{run.id}").json()
        events = http.get("/audit", params={"project": "team"}).json()
    assert stored["user"] == "bob" and stored["status"] == "finished"
    assert stored["metrics"]["loss"]["count"] == 1000 and stored["summary"] == {"best": 0.5}
    assert {e["action"] for e in events} >= {"create_run", "log_metrics", "upload_artifact", "finish_run"}
    assert {e["user"] for e in events} == {"bob"}


def test_a_viewer_is_403_on_writes_and_reads_fine(auth_server: AuthServer) -> None:
    with auth_server.transport("bob") as bob:
        run = bob.create_run(
            run_id="f" * 32,
            project="team",
            name="r",
            user=None,
            config={},
            tags={},
            notes=None,
            context={},
            start_time=time.time(),
        )
    with auth_server.transport("vic") as vic:
        assert vic.get_run(run.id).name == "r"
        batch = MetricsBatch(keys=["x"], steps=[0], values=[1.0], wall_times=[1.0])
        with pytest.raises(PermissionDeniedError):
            vic.log_metrics(run.id, batch)
        with pytest.raises(PermissionDeniedError):
            vic.log_artifact_bytes(run.id, "a.txt", b"a")
        with pytest.raises(PermissionDeniedError):
            vic.create_run(
                run_id="g" * 32,
                project="team",
                name="r",
                user=None,
                config={},
                tags={},
                notes=None,
                context={},
                start_time=1.0,
            )
    with auth_server.client("bob") as http:
        assert http.delete(f"/runs/{run.id}").status_code == 403  # members do not delete
        assert http.get("/audit").status_code == 403  # nor read the audit log


def test_another_projects_run_is_404_like_a_missing_one(auth_server: AuthServer) -> None:
    with auth_server.client("eve") as http:
        hidden = http.get(f"/runs/{SECRET_RUN}")
        missing = http.get(f"/runs/{'6' * 32}")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["error"] == {**missing.json()["error"], "message": f"no run '{SECRET_RUN}'"}
        assert "secret" not in [p["name"] for p in http.get("/projects").json()]
        assert http.get("/runs", params={"project": "secret"}).status_code == 404
    with auth_server.transport("eve") as eve, pytest.raises(NotFoundError):
        eve.get_run(SECRET_RUN)
    with auth_server.client("ana") as http:
        assert http.get(f"/runs/{SECRET_RUN}").status_code == 200


def test_a_non_loopback_host_needs_auth_or_insecure(tmp_path: Path) -> None:
    refused = subprocess.run(
        [MLTRAIL, "--dir", str(tmp_path), "server", "--host", "0.0.0.0", "--no-auth"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "--insecure" in refused.stderr and "without authentication" in refused.stderr
    for args in (("--auth",), ()):  # authentication is on by default off loopback
        live = start_server(tmp_path / "-".join(args or ("default",)), "--host", "0.0.0.0", *args)
        try:
            with httpx.Client(base_url=f"{live.url}/api/v1", timeout=30) as http:
                assert http.get("/health").status_code == 200
                assert http.get("/projects").status_code == 401
        finally:
            live.stop()
