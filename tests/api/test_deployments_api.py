"""``/api/v1/deployments`` in-process (TestClient, a real SQLite store): roles, validation, versions,
rollback and promote. ana is an admin, bob a member, vic a viewer, eve has ``none`` on the project."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.sdk.flavors import save_model
from mltrail.services.accounts.service import AccountService
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.service import TrackingService
from mltrail.settings import Settings
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store

linear = pytest.importorskip("sklearn.linear_model")
ROLES = {"ana": "admin", "bob": "member", "vic": "viewer", "eve": "member"}


class Team:
    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys

    def call(self, method: str, user: str, url: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[user]}"}
        response: httpx.Response = self.client.request(method, f"/api/v1{url}", headers=headers, **kw)
        return response


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Team]:
    settings = Settings(home=tmp_path / "mltrail")
    store = open_store(settings.db_url)
    blobs = BlobStore(settings.blobs)
    accounts = AccountService(store)
    keys = {name: accounts.create_user(name, role)[1].secret for name, role in ROLES.items()}
    x = np.arange(40, dtype=float).reshape(20, 2)
    folder = tmp_path / "model"
    save_model(linear.LogisticRegression().fit(x, (x[:, 0] > 19).astype(int)), folder, input_example=x[:3])
    run_id = uuid.uuid4().hex
    TrackingService(store).start_run(run_id=run_id, project="alpha", name="r", user="bob")
    ArtifactService(store, blobs).log_path(run_id, folder, "model")
    accounts.set_member("alpha", "vic", "viewer")
    accounts.set_member("alpha", "eve", "none")
    app = create_app(settings, store=store, auth=True, webhooks=False)
    with TestClient(app) as client:
        team = Team(client, keys)
        for _ in range(2):
            made = team.call(
                "POST", "bob", "/models/churn/versions", json={"run_id": run_id, "path": "model"}
            )
            assert made.status_code == 201, made.text
        yield team
    store.close()


def test_members_change_specs_viewers_read_and_get_403_others_do_not_see_them(team: Team) -> None:
    created = team.call(
        "POST", "bob", "/deployments", json={"name": "churn-staging", "spec": {"primary": "churn:1"}}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["project"] == "alpha" and body["version"] == 1
    assert body["current"]["user"] == "bob" and body["current"]["details"]["resolved"] == {
        "churn:1": "churn:1"
    }
    assert team.call("GET", "vic", "/deployments/churn-staging").status_code == 200
    denied = team.call("PUT", "vic", "/deployments/churn-staging", json={"spec": {"primary": "churn:2"}})
    assert denied.status_code == 403 and "member" in denied.json()["error"]["message"]
    assert team.call("POST", "vic", "/deployments/churn-staging/rollback", json={}).status_code == 403
    assert team.call("GET", "eve", "/deployments/churn-staging").status_code == 404
    assert team.call("GET", "eve", "/deployments").json()["total"] == 0
    assert (
        team.call(
            "POST", "vic", "/deployments", json={"name": "x", "spec": {"primary": "churn:1"}}
        ).status_code
        == 403
    )


def test_a_spec_naming_nothing_is_a_400_naming_the_field(team: Team) -> None:
    cases = [
        ({"primary": "churn:9"}, "spec.primary"),
        ({"primary": "churn:1", "canary": {"ref": "churn@nope", "percent": 10}}, "spec.canary.ref"),
        ({"primary": "churn:1", "canary": {"ref": "churn:2", "percent": 150}}, "spec.canary.percent"),
        ({"primary": "churn:1", "monitor": "no-such-monitor"}, "spec.monitor"),
        (
            {"primary": "churn:1", "fallback": [{"rule": "constant", "value": 0}, {"model": "churn:2"}]},
            "spec.fallback[1]",
        ),
        (
            {"primary": "churn:1", "guards": {"output": [{"when": "amount >> 3", "then": 1}]}},
            "spec.guards.output[0].when",
        ),
        ({"primary": "churn:1", "timeout_ms": -5}, "spec.timeout_ms"),
        ({"primary": "nomodel@production"}, "spec.primary"),
    ]
    for spec, field in cases:
        response = team.call("POST", "bob", "/deployments", json={"name": "d", "spec": spec})
        assert response.status_code == 400, (spec, response.text)
        assert response.json()["error"]["field"] == field, (spec, response.json())
    assert team.call("GET", "bob", "/deployments").json()["total"] == 0  # nothing was written


def test_versions_rollback_and_promote_are_new_versions_with_who_and_why(team: Team) -> None:
    team.call("POST", "bob", "/deployments", json={"name": "churn-staging", "spec": {"primary": "churn:1"}})
    spec2 = {"primary": "churn:1", "canary": {"ref": "churn:2", "percent": 10}, "timeout_ms": 50}
    changed = team.call(
        "PUT", "bob", "/deployments/churn-staging", json={"spec": spec2, "comment": "canary 10%"}
    )
    assert changed.json()["version"] == 2
    stale = team.call("PUT", "bob", "/deployments/churn-staging", json={"spec": spec2, "expected_version": 1})
    assert stale.status_code == 409
    rolled = team.call(
        "POST", "ana", "/deployments/churn-staging/rollback", json={"comment": "too slow"}
    ).json()
    assert rolled["version"] == 3 and rolled["current"]["spec"] == {"primary": "churn:1"}
    assert rolled["current"]["details"]["to_version"] == 1 and rolled["current"]["user"] == "ana"
    promoted = team.call(
        "POST", "bob", "/deployments/churn-staging/promote", json={"target": "churn-production"}
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["current"]["details"]["promoted_from"] == "churn-staging:3"
    history = team.call("GET", "vic", "/deployments/churn-staging/versions").json()
    assert [v["action"] for v in history["versions"]] == ["rolled_back", "updated", "created"]
    assert history["versions"][1]["comment"] == "canary 10%"
    assert team.call("GET", "vic", "/deployments/churn-staging/versions/2").json()["spec"]["timeout_ms"] == 50
    assert time.time() - history["versions"][0]["time"] < 60
