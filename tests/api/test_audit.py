"""The audit log through the API: who did what, queried by admins only, with no way to change it."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.services.accounts.service import AccountService
from mltrail.settings import Settings
from mltrail.store.factory import open_store

API = "/api/v1"


class Users:
    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys

    def __call__(self, user: str, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[user]}", "User-Agent": f"agent-{user}"}
        return self.client.request(method, f"{API}{url}", headers=headers, **kw)


@pytest.fixture
def as_user(settings: Settings) -> Iterator[Users]:
    store = open_store(f"sqlite:///{settings.home / 'mltrail.db'}")
    accounts = AccountService(store)
    keys = {
        name: accounts.create_user(name, role)[1].secret
        for name, role in [("ana", "admin"), ("bob", "member")]
    }
    keys["vic"] = accounts.create_user("vic", "viewer")[1].secret
    with TestClient(create_app(settings, store=store, auth=True)) as client:
        yield Users(client, keys)
    store.close()


def _batch(step: int, seq: int) -> bytes:
    body = {
        "keys": ["loss"],
        "steps": [step],
        "values": [1.0],
        "wall_times": [1.0],
        "client_id": "c",
        "seq": seq,
    }
    return orjson.dumps(body)


def _events(as_user: Users, **params: Any) -> list[dict[str, Any]]:
    response = as_user("ana", "GET", "/audit", params=params)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


def test_the_log_records_who_did_what_and_is_queryable(as_user: Users) -> None:
    start = time.time()
    run_id = as_user("bob", "POST", "/runs", json={"project": "p", "name": "r"}).json()["id"]
    for seq in range(3):  # log_metrics is coalesced: one event per user, run and minute
        assert as_user("bob", "POST", f"/runs/{run_id}/metrics", content=_batch(seq, seq)).status_code == 200
    assert as_user("bob", "PUT", f"/runs/{run_id}/artifacts/w.bin", content=b"w").status_code == 201
    assert as_user("bob", "PATCH", f"/runs/{run_id}/tags", json={"tags": {"a": "b"}}).status_code == 204
    assert as_user("bob", "GET", f"/runs/{run_id}").status_code == 200  # reads are not recorded
    assert as_user("vic", "PATCH", f"/runs/{run_id}/tags", json={"tags": {"x": "y"}}).status_code == 403
    assert as_user("bob", "DELETE", f"/runs/{run_id}").status_code == 403  # failed writes neither
    assert as_user("ana", "DELETE", f"/runs/{run_id}").status_code == 204

    events = _events(as_user, project="p")
    assert [(e["user"], e["action"]) for e in events] == [
        ("ana", "delete_run"),
        ("bob", "set_tags"),
        ("bob", "upload_artifact"),
        ("bob", "log_metrics"),
        ("bob", "create_run"),
    ]
    created = events[-1]
    assert created["method"] == "POST" and created["path"] == "/api/v1/runs" and created["status"] == 201
    assert created["run_id"] == run_id and created["user_agent"] == "agent-bob" and created["client"]
    assert events[0]["run_id"] == run_id and events[0]["project"] == "p"  # known although the run is gone
    assert created["time"] >= start

    assert [e["action"] for e in _events(as_user, user="ana")] == ["delete_run"]
    assert [e["user"] for e in _events(as_user, action="upload_artifact")] == ["bob"]
    assert _events(as_user, since=str(time.time() + 60)) == []
    assert len(_events(as_user, since="1h", until=str(time.time() + 1))) == 5
    assert len(_events(as_user, project="p", limit=2)) == 2


def test_account_changes_are_audited_too(as_user: Users) -> None:
    as_user("ana", "POST", "/users", json={"name": "zed"})
    as_user("bob", "POST", "/keys", json={"name": "laptop"})
    as_user("ana", "PUT", "/projects/p/members/bob", json={"role": "maintainer"})
    actions = [(e["user"], e["action"], e["project"]) for e in _events(as_user)]
    assert actions == [("ana", "set_member", "p"), ("bob", "create_key", None), ("ana", "create_user", None)]


def test_csv_export(as_user: Users) -> None:
    as_user("bob", "POST", "/runs", json={"project": "p", "name": "r"})
    response = as_user("ana", "GET", "/audit", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["user"], r["action"], r["project"], r["status"]) for r in rows] == [
        ("bob", "create_run", "p", "201")
    ]


def test_only_admins_read_it_and_nobody_can_change_it(as_user: Users) -> None:
    as_user("bob", "POST", "/runs", json={"project": "p", "name": "r"})
    for user in ("bob", "vic"):
        denied = as_user(user, "GET", "/audit")
        assert denied.status_code == 403 and denied.json()["error"]["type"] == "PermissionDeniedError"
    event_id = _events(as_user)[0]["id"]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert as_user("ana", method, "/audit", json={}).status_code == 405
        assert as_user("ana", method, f"/audit/{event_id}", json={}).status_code in (404, 405)
    spec = as_user("ana", "GET", "/openapi.json").json()
    audit_paths = {path: set(ops) for path, ops in spec["paths"].items() if path.startswith(f"{API}/audit")}
    assert audit_paths == {f"{API}/audit": {"get"}}
    assert len(_events(as_user)) == 1


def test_without_auth_writes_are_recorded_as_anonymous(settings: Settings) -> None:
    with TestClient(create_app(settings, audit_coalesce={})) as client:
        run_id = client.post(f"{API}/runs", json={"project": "solo", "name": "r"}).json()["id"]
        for seq in range(2):
            client.post(f"{API}/runs/{run_id}/metrics", content=_batch(seq, seq))
        events = client.get(f"{API}/audit").json()
    assert [(e["user"], e["action"], e["project"]) for e in events] == [
        (None, "log_metrics", "solo"),
        (None, "log_metrics", "solo"),  # coalescing off: every batch
        (None, "create_run", "solo"),
    ]
