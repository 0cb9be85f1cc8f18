"""The registry over HTTP in-process (TestClient, a real SQLite store, blobs on disk).

With authentication: ana (admin), bob and kim (members), vic (viewer), mia (member, maintainer of alpha),
eve (member, but ``none`` on alpha, which hides it). Without it, the acting user is the body's ``user``.
One scikit-learn model folder is saved per module and logged into each test's runs.
"""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.entities import MetricsBatch
from mltrail.sdk.flavors import save_model
from mltrail.services.accounts.service import AccountService
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.service import TrackingService
from mltrail.settings import Settings
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

sklearn_linear = pytest.importorskip("sklearn.linear_model")

API = "/api/v1"
ROLES = {"ana": "admin", "bob": "member", "kim": "member", "vic": "viewer", "mia": "member", "eve": "member"}
AGENT = {"User-Agent": "registry-tests/1.0"}


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    x = np.arange(40, dtype=float).reshape(20, 2)
    y = (x[:, 0] > 19).astype(int)
    folder = tmp_path_factory.mktemp("saved") / "model"
    save_model(sklearn_linear.LogisticRegression().fit(x, y), folder, input_example=x[:3])
    return folder


@dataclass
class World:
    client: TestClient
    store: SqlStore
    blobs: BlobStore
    keys: dict[str, str]
    folder: Path

    def run(self, project: str = "alpha", auc: float = 0.9, *, logged: bool = True) -> str:
        """A run in ``project`` that logged the saved model folder at ``model``."""
        run_id = uuid.uuid4().hex
        tracking = TrackingService(self.store)
        tracking.start_run(run_id=run_id, project=project, name=f"r-{run_id[:6]}", user="bob")
        batch = MetricsBatch(["auc"], [0], [auc], [time.time()], client_id="c", seq=1)
        tracking.log_metrics(run_id, batch)
        if logged:
            ArtifactService(self.store, self.blobs).log_path(run_id, self.folder, "model")
        return run_id

    def call(self, method: str, user: str | None, url: str, **kw: Any) -> httpx.Response:
        headers = {**AGENT, **kw.pop("headers", {})}
        if user is not None:
            headers["Authorization"] = f"Bearer {self.keys[user]}"
        response: httpx.Response = self.client.request(method, f"{API}{url}", headers=headers, **kw)
        return response

    def get(self, user: str | None, url: str, **kw: Any) -> httpx.Response:
        return self.call("GET", user, url, **kw)

    def post(self, user: str | None, url: str, **kw: Any) -> httpx.Response:
        return self.call("POST", user, url, **kw)

    def register(self, who: str | None, model: str = "churn", **body: Any) -> dict[str, Any]:
        run_id = body.pop("run_id", None) or self.run()
        response = self.post(
            who, f"/models/{model}/versions", json={"run_id": run_id, "path": "model", **body}
        )
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data


def _world(settings: Settings, folder: Path, *, auth: bool) -> Iterator[World]:
    store = open_store(settings.db_url)
    accounts = AccountService(store)
    keys: dict[str, str] = {}
    if auth:
        keys = {name: accounts.create_user(name, role)[1].secret for name, role in ROLES.items()}
        accounts.set_member("alpha", "mia", "maintainer")
        accounts.set_member("alpha", "eve", "none")
    app = create_app(settings, store=store, auth=auth, webhooks=False)
    with TestClient(app) as client:
        yield World(client, store, BlobStore(settings.blobs), keys, folder)
    store.close()


@pytest.fixture
def team(settings: Settings, model_folder: Path) -> Iterator[World]:
    yield from _world(settings, model_folder, auth=True)


@pytest.fixture
def loopback(settings: Settings, model_folder: Path) -> Iterator[World]:
    yield from _world(settings, model_folder, auth=False)


# -- registering and resolving ---------------------------------------------------------------------------
def test_register_from_a_run_and_resolve_by_number_alias_and_stage(team: World) -> None:
    first = team.register("bob", description="baseline", tags={"team": "growth"})
    assert (first["model"], first["version"], first["ref"]) == ("churn", 1, "churn:1")
    assert first["flavor"] == "sklearn" and first["created_by"] == "bob" and first["stage"] == "none"
    assert first["files"][-1]["path"] == "mltrail-model.json" and first["signature"] is not None
    second = team.register("bob")
    model = team.get("vic", "/models/churn").json()
    assert (model["project"], model["latest_version"], model["owner"]) == ("alpha", 2, "bob")
    assert model["policy"]["protected_stages"] == ["production"]

    staged = team.post("bob", "/models/churn/versions/1/transitions", json={"stage": "staging"})
    assert staged.status_code == 200 and staged.json()["applied"] is True
    assert staged.json()["request"] is None and staged.json()["version"]["stage"] == "staging"
    moved = team.call("PUT", "bob", "/models/churn/aliases/challenger", json={"version": "churn:2"})
    assert moved.json()["applied"] and moved.json()["version"]["aliases"] == ["challenger"]

    assert team.get("vic", "/models/churn/versions/1").json()["digest"] == first["digest"]
    assert team.get("vic", "/models/churn/versions/challenger").json()["version"] == second["version"]
    assert team.get("vic", "/models/churn/versions/staging").json()["version"] == 1
    assert team.get("vic", "/models/churn/versions/production").status_code == 404
    assert team.get("vic", "/models/churn/versions/99").status_code == 404
    assert team.get("vic", "/models/churn/versions/99999999999999999999999").status_code == 404
    page = team.get("vic", "/models/churn/versions", params={"stage": "staging"}).json()
    assert page["total"] == 1 and page["versions"][0]["version"] == 1
    assert team.get("vic", "/models", params={"project": "alpha"}).json()["total"] == 1

    card = team.get("vic", "/models/churn/versions/1/card").json()
    assert card["metrics"] == {"auc": 0.9} and card["version_description"] == "baseline"
    patched = team.call("PATCH", "bob", "/models/churn/versions/2", json={"description": "v2"})
    assert patched.json()["description"] == "v2"


def test_the_card_writes_a_nan_metric_as_a_string(team: World) -> None:
    team.register("bob", run_id=team.run(auc=float("nan")))
    card = team.get("vic", "/models/churn/versions/1/card")
    assert card.status_code == 200 and card.json()["metrics"] == {"auc": "NaN"}


def test_a_folder_that_is_not_a_model_is_a_400_naming_path(team: World) -> None:
    run_id = team.run(logged=False)
    response = team.post("bob", "/models/churn/versions", json={"run_id": run_id, "path": "model"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "path"
    missing = team.post("bob", "/models/churn/versions", json={"run_id": "f" * 32, "path": "model"})
    assert missing.status_code == 404


def test_an_alias_cannot_point_at_another_models_version(team: World) -> None:
    team.register("bob")
    team.register("bob", model="fraud")
    response = team.call("PUT", "bob", "/models/churn/aliases/challenger", json={"version": "fraud:1"})
    assert response.status_code == 400 and response.json()["error"]["field"] == "version"
    stage_alias = team.call("PUT", "bob", "/models/churn/aliases/production", json={"version": 1})
    assert stage_alias.status_code == 400 and stage_alias.json()["error"]["field"] == "alias"
    team.call("PUT", "bob", "/models/churn/aliases/challenger", json={"version": 1})
    assert team.call("DELETE", "bob", "/models/churn/aliases/challenger").status_code == 204
    assert team.get("bob", "/models/churn/versions/challenger").status_code == 404


# -- approvals -------------------------------------------------------------------------------------------
def test_a_protected_stage_is_requested_and_approved_by_a_second_user(team: World) -> None:
    team.register("bob")
    asked = team.post(
        "bob", "/models/churn/versions/1/transitions", json={"stage": "production", "comment": "AUC"}
    )
    assert asked.status_code == 200 and asked.json()["applied"] is False
    request = asked.json()["request"]
    assert request["status"] == "pending" and request["requested_by"] == "bob" and request["kind"] == "stage"
    assert asked.json()["version"]["stage"] == "none"
    inbox = team.get("mia", "/requests").json()
    assert inbox["total"] == 1 and inbox["requests"][0]["id"] == request["id"]
    rid = request["id"]

    # The inbox's filters (web/API_GAPS.md gap 7): who asked, which project, and "requests I may decide":
    # mia (maintainer) may; bob asked; kim (member) is not among the default approvers.
    def ids(user: str, **params: str) -> list[int]:
        got = team.get(user, "/requests", params=params)
        assert got.status_code == 200, got.text
        return [r["id"] for r in got.json()["requests"]]

    assert ids("mia", requested_by="bob") == [rid] and ids("mia", requested_by="kim") == []
    project = team.get("vic", "/models/churn").json()["project"]
    assert ids("mia", project=project) == [rid]
    assert ids("mia", decidable="true") == [rid]
    assert ids("bob", decidable="true") == [] and ids("kim", decidable="true") == []
    assert ids("kim") == [rid]  # without the filter, every pending request the user may view
    assert ids("mia", project="no-such-project") == []

    own = team.post("bob", f"/requests/{rid}/approve", json={})
    assert own.status_code == 403 and "cannot approve" in own.json()["error"]["message"]
    member = team.post("kim", f"/requests/{rid}/approve", json={})  # default approvers: maintainer, admin
    assert member.status_code == 403 and "roles" in member.json()["error"]["message"]
    approved = team.post("mia", f"/requests/{rid}/approve", json={"comment": "checked"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["decisions"][0]["user"] == "mia"
    assert team.get("vic", "/models/churn/versions/production").json()["version"] == 1
    again = team.post("ana", f"/requests/{rid}/approve", json={})
    assert again.status_code == 409 and again.json()["error"]["type"] == "ConflictError"
    assert team.get("vic", f"/requests/{rid}").json()["approvals"] == 1
    assert team.get("mia", "/requests").json()["total"] == 0
    assert team.get("mia", "/requests", params={"status": "all"}).json()["total"] == 1


def test_reject_and_cancel(team: World) -> None:
    team.register("bob")
    team.register("bob")
    first = team.post("bob", "/models/churn/versions/1/transitions", json={"alias": "champion"}).json()
    second = team.post("bob", "/models/churn/versions/2/transitions", json={"stage": "production"}).json()
    rejected = team.post("mia", f"/requests/{first['request']['id']}/reject", json={"comment": "no"})
    assert rejected.json()["status"] == "rejected"
    assert team.post("kim", f"/requests/{second['request']['id']}/cancel").status_code == 403
    cancelled = team.post("bob", f"/requests/{second['request']['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_without_auth_the_body_user_acts_and_cannot_approve_their_own_request(loopback: World) -> None:
    loopback.register(None, user="ana")
    asked = loopback.post(
        None, "/models/churn/versions/1/transitions", json={"stage": "production", "user": "ana"}
    )
    rid = asked.json()["request"]["id"]
    assert asked.json()["request"]["requested_by"] == "ana"
    own = loopback.post(None, f"/requests/{rid}/approve", json={"user": "ana"})
    assert own.status_code == 403
    nameless = loopback.post(None, f"/requests/{rid}/approve", json={})
    assert nameless.status_code == 403 and "named user" in nameless.json()["error"]["message"]
    approved = loopback.post(None, f"/requests/{rid}/approve", json={"user": "ben"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    trail = loopback.get(None, "/models/churn/audit", params={"action": "transition_approved"}).json()
    assert [e["user"] for e in trail] == ["ben"]


# -- roles -----------------------------------------------------------------------------------------------
def test_roles_decide_who_reads_registers_and_manages(team: World) -> None:
    team.register("bob")
    run_id = team.run()
    assert team.get("vic", "/models/churn").status_code == 200
    refused = team.post("vic", "/models/churn/versions", json={"run_id": run_id, "path": "model"})
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "PermissionDeniedError"
    assert (
        team.post("vic", "/models/churn/versions/1/transitions", json={"stage": "staging"}).status_code == 403
    )
    assert team.call("PATCH", "bob", "/models/churn", json={"description": "d"}).status_code == 200
    assert team.call("PATCH", "bob", "/models/churn", json={"card": {"limits": "x"}}).status_code == 403
    card = team.call("PATCH", "mia", "/models/churn", json={"card": {"intended_use": "retention"}})
    assert card.status_code == 200 and card.json()["card"] == {"intended_use": "retention"}
    policy = {"required_approvals": 2, "gates": ["metrics.auc >= 0.5"]}
    assert team.call("PUT", "bob", "/models/churn/policy", json=policy).status_code == 403
    changed = team.call("PUT", "mia", "/models/churn/policy", json=policy)
    assert changed.status_code == 200 and changed.json()["policy"]["required_approvals"] == 2
    bad_gate = team.call("PUT", "mia", "/models/churn/policy", json={"gates": ["metrics.auc >="]})
    assert bad_gate.status_code == 400 and bad_gate.json()["error"]["field"] == "gates"
    create = {"name": "strict", "project": "alpha", "policy": {"protected_stages": []}}
    assert team.post("bob", "/models", json=create).status_code == 403
    assert team.post("mia", "/models", json=create).status_code == 201
    assert team.post("bob", "/models", json={"name": "free", "project": "alpha"}).status_code == 201


def test_a_role_of_none_hides_the_model_exactly_like_a_missing_one(team: World) -> None:
    team.register("bob")
    rid = team.post("bob", "/models/churn/versions/1/transitions", json={"stage": "production"}).json()[
        "request"
    ]["id"]
    hidden = team.get("eve", "/models/churn")
    missing = team.get("eve", "/models/nope")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["message"] == "no registered model 'churn'"
    assert team.get("eve", "/models/churn/versions/1").status_code == 404
    assert team.get("eve", "/models/churn/audit").status_code == 404
    hidden_request = team.get("eve", f"/requests/{rid}")
    assert hidden_request.status_code == 404
    assert hidden_request.json()["error"]["message"] == f"no transition request {rid}"
    assert team.post("eve", f"/requests/{rid}/approve", json={}).status_code == 404
    assert team.get("eve", "/models").json() == {"models": [], "total": 0}
    assert team.get("eve", "/requests").json()["total"] == 0
    assert team.get("eve", "/registry/audit").json() == []
    into_hidden = team.post(
        "eve", "/models/churn/versions", json={"run_id": team.run("beta"), "path": "model"}
    )
    assert into_hidden.status_code == 404
    assert team.get("vic", "/models").json()["total"] == 1


def test_versions_of_a_run_are_listed_by_run_with_the_runs_roles(team: World) -> None:
    run_id = team.run()
    first = team.register("bob", run_id=run_id)
    team.register("bob", model="fraud", run_id=run_id)
    team.register("bob")  # another run's version
    response = team.get("vic", "/model-versions", params={"run": run_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 2
    assert [(v["model"], v["version"], v["run_id"]) for v in body["versions"]] == [
        ("churn", 1, run_id),
        ("fraud", 1, run_id),
    ]
    assert body["versions"][0] == first
    by_prefix = team.get("vic", "/model-versions", params={"run": run_id[:8]}).json()
    assert by_prefix == body
    page = team.get("vic", "/model-versions", params={"run": run_id, "offset": 1, "limit": 1}).json()
    assert (page["total"], [v["model"] for v in page["versions"]]) == (2, ["fraud"])
    assert team.get("vic", "/model-versions", params={"run": team.run(logged=False)}).json() == {
        "versions": [],
        "total": 0,
    }
    # A run of a hidden project is missing; a bad page is a 400 naming the field.
    hidden = team.get("eve", "/model-versions", params={"run": run_id})
    assert hidden.status_code == 404 and hidden.json()["error"]["message"] == f"no run {run_id!r}"
    assert team.get("vic", "/model-versions", params={"run": "f" * 32}).status_code == 404
    for params, field in (
        ({}, "run"),
        ({"run": run_id, "limit": 0}, "limit"),
        ({"run": ""}, "run"),
    ):
        refused = team.get("vic", "/model-versions", params=params)
        assert refused.status_code == 400 and refused.json()["error"]["field"] == field, params


# -- downloads and the trail -----------------------------------------------------------------------------
def test_file_downloads_are_verified_and_audited(team: World) -> None:
    version = team.register("bob")
    weights = next(f for f in version["files"] if f["path"].endswith(".skops"))
    response = team.get("vic", f"/models/churn/versions/1/files/{weights['path']}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-content-sha256"] == weights["digest"]
    assert response.headers["etag"] == f'"{weights["digest"]}"'
    assert response.content == (team.folder / weights["path"]).read_bytes()
    cached = team.get(
        "vic",
        f"/models/churn/versions/1/files/{weights['path']}",
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert cached.status_code == 304

    events = team.get("vic", "/models/churn/audit", params={"action": "downloaded"}).json()
    assert len(events) == 1  # the 304 is not a download
    assert events[0]["user"] == "vic" and events[0]["client"] == "testclient"
    assert events[0]["user_agent"] == AGENT["User-Agent"] and events[0]["details"]["path"] == weights["path"]

    assert team.get("vic", "/models/churn/versions/1/files/nope.bin").status_code == 404
    assert team.get("vic", "/models/churn/versions/1/files/a/%2E%2E/b").status_code == 400
    assert team.get("vic", "/models/churn/versions/1/files//etc/passwd").status_code == 400


def test_a_tampered_blob_is_a_500_integrity_error_and_nothing_is_served(team: World) -> None:
    version = team.register("bob")
    weights = next(f for f in version["files"] if f["path"].endswith(".skops"))
    blob = Path(team.blobs.path(weights["digest"]))
    data = blob.read_bytes()
    blob.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    response = team.get("vic", f"/models/churn/versions/1/files/{weights['path']}")
    assert response.status_code == 500 and response.json()["error"]["type"] == "IntegrityError"
    assert team.get("vic", "/models/churn/audit", params={"action": "downloaded"}).json() == []
    # The admins find the corruption in the audit log, with who met it.
    alarms = team.get("ana", "/audit", params={"action": "blob_integrity_error"}).json()
    assert [(e["user"], e["status"], e["run_id"]) for e in alarms] == [("vic", 500, version["run_id"])]


def test_the_trail_is_exported_as_csv_and_filtered(team: World) -> None:
    team.register("bob")
    team.post("bob", "/models/churn/versions/1/transitions", json={"stage": "staging"})
    newest_first = [e["action"] for e in team.get("vic", "/models/churn/audit").json()]
    assert newest_first == ["stage_changed", "version_created", "model_created"]
    exported = team.get("vic", "/models/churn/audit", params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["action"] for r in rows] == newest_first
    assert rows[0]["user"] == "bob" and rows[0]["model"] == "churn" and rows[0]["project"] == "alpha"
    everything = team.get("ana", "/registry/audit", params={"format": "csv", "user": "bob", "since": "1h"})
    assert len(list(csv.DictReader(io.StringIO(everything.text)))) == 3
    assert team.get("vic", "/registry/audit", params={"since": "1h", "until": "2000-01-01"}).json() == []
    assert (
        team.get("vic", "/registry/audit", params={"since": "yesterday"}).json()["error"]["field"] == "since"
    )


# -- webhooks --------------------------------------------------------------------------------------------
def test_webhooks_are_created_listed_and_deleted_with_the_secret_shown_once(team: World) -> None:
    team.register("bob")
    hook = {"url": "https://hooks.example.com/churn", "events": ["version_created"], "model": "churn"}
    assert team.post("bob", "/webhooks", json=hook).status_code == 403
    created = team.post("mia", "/webhooks", json=hook)
    assert created.status_code == 201, created.text
    secret, webhook = created.json()["secret"], created.json()["webhook"]
    assert secret.startswith("whsec_") and webhook["created_by"] == "mia"
    assert team.post("mia", "/webhooks", json={"url": "https://hooks.example.com/all"}).status_code == 403
    everything = team.post("ana", "/webhooks", json={"url": "https://hooks.example.com/all"})
    assert everything.status_code == 201

    read = team.get("mia", f"/webhooks/{webhook['id']}")
    assert read.status_code == 200 and secret not in read.text
    assert [w["id"] for w in team.get("mia", "/webhooks").json()] == [webhook["id"]]
    assert len(team.get("ana", "/webhooks").json()) == 2
    assert secret not in team.get("ana", "/webhooks").text
    assert team.get("eve", f"/webhooks/{webhook['id']}").status_code == 404

    team.register("bob")  # queued for the webhook (the dispatcher is off in these tests)
    deliveries = team.get("mia", f"/webhooks/{webhook['id']}/deliveries").json()
    assert [(d["action"], d["status"], d["attempts"]) for d in deliveries] == [
        ("version_created", "pending", 0)
    ]
    assert team.call("DELETE", "mia", f"/webhooks/{webhook['id']}").status_code == 204
    assert team.get("mia", "/webhooks").json() == []


def test_writes_reach_the_server_audit_log_and_the_trail_has_no_write_route(team: World) -> None:
    team.register("bob")
    rid = team.post("bob", "/models/churn/versions/1/transitions", json={"stage": "production"}).json()
    team.post("mia", f"/requests/{rid['request']['id']}/approve", json={})
    logged = [(e["user"], e["action"], e["project"]) for e in team.get("ana", "/audit").json()]
    assert ("bob", "register_model_version", "alpha") in logged
    assert ("bob", "transition_model_version", "alpha") in logged
    assert ("mia", "approve_request", "alpha") in logged
    spec = team.get("ana", "/openapi.json").json()
    trail = {p: set(ops) for p, ops in spec["paths"].items() if p.endswith("/audit")}
    assert all(ops == {"get"} for ops in trail.values()) and len(trail) == 3
