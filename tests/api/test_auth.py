"""Authentication and authorization in-process (TestClient, a real SQLite store, ``auth=True``).

The team: ana (admin), bob (member), vic (viewer), mia (member, maintainer of alpha), eve (member, but
``none`` on beta, which hides it). Projects alpha and beta have one run each.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.services.accounts.service import AccountService
from mltrail.settings import Settings
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

API = "/api/v1"
RUN_A = "a" * 32
RUN_B = "b" * 32
MISSING = "c" * 32
ROLES = {"ana": "admin", "bob": "member", "vic": "viewer", "mia": "member", "eve": "member"}


@dataclass
class Team:
    client: TestClient
    store: SqlStore
    accounts: AccountService
    keys: dict[str, str]
    db: Path

    def h(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[user]}"}

    def get(self, user: str, url: str, **kw: Any) -> httpx.Response:
        return self.client.get(f"{API}{url}", headers=self.h(user), **kw)

    def post(self, user: str, url: str, **kw: Any) -> httpx.Response:
        return self.client.post(f"{API}{url}", headers=self.h(user), **kw)

    def put(self, user: str, url: str, **kw: Any) -> httpx.Response:
        return self.client.put(f"{API}{url}", headers=self.h(user), **kw)

    def patch(self, user: str, url: str, **kw: Any) -> httpx.Response:
        return self.client.patch(f"{API}{url}", headers=self.h(user), **kw)

    def delete(self, user: str, url: str, **kw: Any) -> httpx.Response:
        return self.client.delete(f"{API}{url}", headers=self.h(user), **kw)


@pytest.fixture
def team(settings: Settings) -> Iterator[Team]:
    db = settings.home / "mltrail.db"
    store = open_store(f"sqlite:///{db}")
    accounts = AccountService(store)
    keys = {name: accounts.create_user(name, role)[1].secret for name, role in ROLES.items()}
    for run_id, project in ((RUN_A, "alpha"), (RUN_B, "beta")):
        store.create_run(run_id=run_id, project=project, name=f"run-{project}", user="ana", start_time=1.0)
    accounts.set_member("alpha", "mia", "maintainer")
    accounts.set_member("beta", "eve", "none")
    with TestClient(create_app(settings, store=store, auth=True)) as client:
        yield Team(client, store, accounts, keys, db)
    store.close()


def _batch() -> bytes:
    return orjson.dumps({"keys": ["loss"], "steps": [0], "values": [1.0], "wall_times": [1.0]})


# -- authentication -----------------------------------------------------------------------------------------
def test_no_key_or_a_bad_key_is_401_with_www_authenticate(team: Team) -> None:
    for headers in ({}, {"Authorization": "Basic YW5hOnB3"}, {"Authorization": "Bearer mlt_" + "x" * 43}):
        response = team.client.get(f"{API}/projects", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["type"] == "AuthenticationError"
    no_key = team.client.post(f"{API}/runs", json={"project": "alpha", "name": "x"})
    assert no_key.status_code == 401
    assert team.client.get(f"{API}/health").status_code == 200  # readiness stays open
    assert team.client.get(f"{API}/openapi.json").status_code == 200


def test_revoked_expired_and_disabled_keys_are_401(team: Team) -> None:
    assert team.get("bob", "/me").status_code == 200
    key_id = team.keys["bob"][:12]
    team.accounts.revoke_key(key_id)
    revoked = team.get("bob", "/me")
    assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]["message"]

    past = AccountService(team.store, clock=lambda: time.time() - 7200)
    expired = past.create_key("vic", "old", expires_in=3600).secret  # expired an hour ago
    response = team.client.get(f"{API}/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]

    team.accounts.set_disabled("vic", True)
    disabled = team.get("vic", "/me")
    assert disabled.status_code == 401 and "disabled" in disabled.json()["error"]["message"]


# -- roles -------------------------------------------------------------------------------------------------
def test_a_viewer_reads_but_cannot_write(team: Team) -> None:
    team.client.put(f"{API}/runs/{RUN_A}/artifacts/a.txt", content=b"hi", headers=team.h("ana"))
    assert team.get("vic", f"/runs/{RUN_A}").status_code == 200
    assert team.get("vic", "/runs", params={"project": "alpha"}).json()["total"] == 1
    assert team.get("vic", f"/runs/{RUN_A}/artifacts/a.txt").content == b"hi"
    assert team.get("vic", f"/runs/{RUN_A}/datasets").status_code == 200
    writes = [
        team.post("vic", "/runs", json={"project": "alpha", "name": "x"}),
        team.post("vic", f"/runs/{RUN_A}/metrics", content=_batch()),
        team.put("vic", f"/runs/{RUN_A}/artifacts/b.txt", content=b"nope"),
        team.patch("vic", f"/runs/{RUN_A}/tags", json={"tags": {"t": "x"}}),
        team.post("vic", f"/runs/{RUN_A}/finish", json={"status": "finished"}),
        team.delete("vic", f"/runs/{RUN_A}"),
    ]
    for response in writes:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["type"] == "PermissionDeniedError"
    assert "log_metrics needs the member role on project 'alpha'" in writes[1].json()["error"]["message"]
    run = team.get("vic", f"/runs/{RUN_A}").json()
    assert run["metrics"] == {} and run["tags"] == {} and run["end_time"] is None
    assert [a["path"] for a in team.get("vic", f"/runs/{RUN_A}/artifacts").json()] == ["a.txt"]
    assert team.get("vic", "/runs", params={"project": "alpha"}).json()["total"] == 1


def test_a_member_logs_and_the_run_is_attributed_to_them(team: Team) -> None:
    created = team.post("bob", "/runs", json={"project": "gamma", "name": "r", "user": "mallory"})
    assert created.status_code == 201
    run_id = created.json()["id"]
    assert created.json()["user"] == "bob"  # the authenticated user, whatever the body said
    assert team.post("bob", f"/runs/{run_id}/metrics", content=_batch()).json()["applied"] is True
    assert team.put("bob", f"/runs/{run_id}/artifacts/m.bin", content=b"x").status_code == 201
    assert team.post("bob", f"/runs/{run_id}/finish", json={"status": "finished"}).status_code == 204


def _shape(response: httpx.Response, *ids: str) -> tuple[int, str]:
    text = response.text
    for run_id in ids:
        text = text.replace(run_id, "<id>")
    return response.status_code, text


def test_a_hidden_run_is_exactly_as_missing_as_a_missing_one(team: Team) -> None:
    assert team.get("ana", f"/runs/{RUN_B}").status_code == 200
    for suffix, method in [
        ("", "GET"),
        ("/metrics/history?key=loss", "GET"),
        ("/artifacts", "GET"),
        ("/artifacts/a.txt", "GET"),
        ("/datasets", "GET"),
        ("/metrics", "POST"),
        ("/tags", "PATCH"),
        ("", "DELETE"),
    ]:
        kw: dict[str, Any] = {}
        if suffix == "/metrics":
            kw["content"] = _batch()
        if suffix == "/tags":
            kw["json"] = {"tags": {"a": "b"}}
        hidden = team.client.request(method, f"{API}/runs/{RUN_B}{suffix}", headers=team.h("eve"), **kw)
        missing = team.client.request(method, f"{API}/runs/{MISSING}{suffix}", headers=team.h("eve"), **kw)
        assert hidden.status_code == 404, (method, suffix)
        assert _shape(hidden, RUN_B) == _shape(missing, MISSING), (method, suffix)
    # A prefix or the name finds nothing either, and the run still exists for its own project.
    assert _shape(team.get("eve", f"/runs/{RUN_B[:6]}"), RUN_B[:6]) == _shape(
        team.get("eve", f"/runs/{MISSING[:6]}"), MISSING[:6]
    )
    assert team.get("eve", "/runs/run-beta").status_code == 404
    assert team.get("eve", "/runs/run-alpha").status_code == 200
    assert team.get("ana", f"/runs/{RUN_B}").status_code == 200


def test_a_hidden_project_is_absent_from_lists_and_searches(team: Team) -> None:
    assert [p["name"] for p in team.get("eve", "/projects").json()] == ["alpha"]
    assert [p["name"] for p in team.get("ana", "/projects").json()] == ["alpha", "beta"]
    for url in ("/runs", "/datasets"):
        hidden = team.get("eve", url, params={"project": "beta"})
        missing = team.get("eve", url, params={"project": "nope"})
        assert hidden.status_code == 404
        assert hidden.text.replace("beta", "nope") == missing.text
    assert [p["project"] for p in team.get("eve", "/me").json()["projects"]] == ["alpha"]
    assert team.get("eve", "/projects/beta/members").status_code == 404


def test_only_maintainers_delete_runs(team: Team) -> None:
    denied = team.delete("bob", f"/runs/{RUN_A}")
    assert denied.status_code == 403
    assert "delete_run needs the maintainer role" in denied.json()["error"]["message"]
    assert team.delete("mia", f"/runs/{RUN_A}").status_code == 204
    assert team.get("ana", f"/runs/{RUN_A}").status_code == 404


def test_maintainers_manage_memberships(team: Team) -> None:
    assert team.get("bob", "/projects/alpha/members").status_code == 403
    assert team.put("bob", "/projects/alpha/members/eve", json={"role": "viewer"}).status_code == 403
    assert [m["user"] for m in team.get("mia", "/projects/alpha/members").json()] == ["mia"]
    granted = team.put("mia", "/projects/alpha/members/bob", json={"role": "none"})
    assert granted.json() == {"project": "alpha", "user": "bob", "role": "none"}
    assert team.get("bob", f"/runs/{RUN_A}").status_code == 404  # hidden from bob now
    assert team.put("mia", "/projects/alpha/members/bob", json={"role": "admin"}).status_code == 400
    assert team.put("mia", "/projects/alpha/members/ghost", json={"role": "viewer"}).status_code == 404
    assert team.delete("mia", "/projects/alpha/members/bob").status_code == 204
    assert team.get("bob", f"/runs/{RUN_A}").status_code == 200
    assert team.delete("mia", "/projects/alpha/members/bob").status_code == 404


def test_admin_routes_refuse_everyone_else(team: Team) -> None:
    for user in ("bob", "mia", "vic"):
        for response in (
            team.get(user, "/users"),
            team.post(user, "/users", json={"name": "zed"}),
            team.get(user, "/users/ana"),
            team.patch(user, "/users/bob", json={"role": "admin"}),
            team.get(user, "/audit"),
            team.get(user, "/keys", params={"user": "ana"}),
            team.post(user, "/keys", json={"user": "ana"}),
        ):
            assert response.status_code == 403, (user, response.request.url)
    assert team.get("bob", "/users").json()["error"]["type"] == "PermissionDeniedError"
    assert team.get("ana", "/users/bob").json()["role"] == "member"


def test_admins_create_and_change_users(team: Team) -> None:
    created = team.post("ana", "/users", json={"name": "zed", "role": "viewer", "expires_in": "30d"})
    assert created.status_code == 201
    body = created.json()
    assert body["user"]["role"] == "viewer"
    key = body["api_key"]["key"]
    assert body["api_key"]["expires_at"] == pytest.approx(time.time() + 30 * 86400, abs=60)
    zed = {"Authorization": f"Bearer {key}"}
    assert team.client.get(f"{API}/me", headers=zed).json()["name"] == "zed"
    assert team.patch("ana", "/users/zed", json={"role": "member"}).json()["role"] == "member"
    assert team.patch("ana", "/users/zed", json={"disabled": True}).json()["disabled"] is True
    assert team.client.get(f"{API}/me", headers=zed).status_code == 401
    assert team.post("ana", "/users", json={"name": "zed"}).status_code == 409
    assert team.patch("ana", "/users/ana", json={"role": "member"}).status_code == 409  # the last admin


def test_a_key_is_shown_once_and_stored_only_as_its_hash(team: Team) -> None:
    created = team.post("bob", "/keys", json={"name": "laptop"})
    assert created.status_code == 201
    secret = created.json()["key"]
    assert created.json()["user"] == "bob" and secret.startswith("mlt_")
    listing = team.get("bob", "/keys")
    assert [k["name"] for k in listing.json()] == ["laptop", "default"]
    assert all("key" not in k for k in listing.json())
    assert secret not in listing.text and team.keys["bob"] not in listing.text
    assert secret not in team.get("ana", "/keys", params={"user": "bob"}).text
    with sqlite3.connect(team.db) as conn:
        dump = "\n".join(conn.iterdump())
        hashes = {row[0] for row in conn.execute("SELECT secret_hash FROM api_keys")}
    conn.close()
    assert secret not in dump and secret[12:] not in dump
    assert hashlib.sha256(secret.encode()).hexdigest() in hashes
    assert team.client.get(f"{API}/me", headers={"Authorization": f"Bearer {secret}"}).json()["name"] == "bob"


def test_keys_are_revoked_by_their_owner_or_an_admin(team: Team) -> None:
    laptop = team.post("bob", "/keys", json={"name": "laptop"}).json()
    assert team.delete("vic", f"/keys/{laptop['key_id']}").status_code == 404  # someone else's: not found
    assert team.delete("bob", f"/keys/{laptop['key_id']}").status_code == 204
    gone = team.client.get(f"{API}/me", headers={"Authorization": f"Bearer {laptop['key']}"})
    assert gone.status_code == 401
    assert team.delete("ana", f"/keys/{team.keys['vic'][:12]}").status_code == 204
    assert team.get("vic", "/me").status_code == 401
    revoked = [k for k in team.get("ana", "/keys", params={"user": "bob"}).json() if k["revoked_at"]]
    assert [k["name"] for k in revoked] == ["laptop"]


def test_me_tells_who_and_which_roles(team: Team) -> None:
    me = team.get("mia", "/me").json()
    assert me == {
        "authenticated": True,
        "name": "mia",
        "role": "member",
        "key_id": team.keys["mia"][:12],
        "projects": [{"project": "alpha", "role": "maintainer"}, {"project": "beta", "role": "member"}],
    }


def test_without_auth_every_request_is_anonymous_with_full_access(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        me = client.get(f"{API}/me").json()
        assert me == {"authenticated": False, "name": None, "role": "admin", "key_id": None, "projects": []}
        created = client.post(f"{API}/users", json={"name": "ana", "role": "admin"})
        assert created.status_code == 201
        # The header is not even looked at: anonymous stays anonymous.
        key = created.json()["api_key"]["key"]
        assert client.get(f"{API}/me", headers={"Authorization": f"Bearer {key}"}).json()["name"] is None
        assert client.post(f"{API}/keys", json={}).status_code == 400  # whose key? name the user
        assert client.post(f"{API}/keys", json={"user": "ana"}).status_code == 201


# -- server-side request forgery --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "http://10.1.2.3/",
    ],
)
def test_webhooks_cannot_aim_at_the_servers_own_network(team: Team, url: str) -> None:
    response = team.post("ana", "/webhooks", json={"url": url, "events": ["version_created"]})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["field"] == "url" and "MLTRAIL_WEBHOOK_ALLOW" in error["message"]
    assert team.get("ana", "/webhooks").json() == []
