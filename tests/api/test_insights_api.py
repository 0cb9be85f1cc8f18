"""``/api/v1/insights`` in-process (TestClient, a real SQLite store, ``auth=True``): only admins change the
price table, maintainers set budgets, viewers read the figures of the projects they may see, and a hidden
project's figures are neither counted nor reachable. ana is an admin, max a maintainer, vic a viewer,
eve a member with ``none`` on alpha."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.services.accounts.service import AccountService
from mltrail.settings import Settings
from mltrail.store.factory import open_store

ROLES = {"ana": "admin", "max": "maintainer", "vic": "viewer", "eve": "member"}
CONTEXT = {"environment": {"cpu": {"count": 4}, "gpus": []}, "git": {"commit": "a", "dirty": False}}


class Team:
    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys

    def call(self, method: str, user: str, url: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[user]}"}
        response: httpx.Response = self.client.request(
            method, f"/api/v1/insights{url}", headers=headers, **kw
        )
        return response


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Team]:
    settings = Settings(home=tmp_path / "mltrail")
    store = open_store(settings.db_url)
    accounts = AccountService(store)
    keys = {name: accounts.create_user(name, role)[1].secret for name, role in ROLES.items()}
    start = time.time() - 3 * 3600
    for project, hours in (("alpha", 2.0), ("beta", 1.0)):
        run_id = uuid.uuid4().hex
        store.create_run(
            run_id=run_id, project=project, name="r", user="max", start_time=start, context=CONTEXT
        )
        store.update_run(run_id, end_time=start + hours * 3600)
    accounts.set_member("alpha", "eve", "none")
    with TestClient(create_app(settings, store=store, auth=True, webhooks=False)) as client:
        yield Team(client, keys)
    store.close()


def test_only_admins_change_the_price_table_everyone_reads_it(team: Team) -> None:
    for user in ("max", "vic"):
        refused = team.call("PUT", user, "/prices", json={"kind": "cpu", "per_hour": 1.0})
        assert refused.status_code == 403, refused.text
        assert "admin" in refused.json()["error"]["message"]
    made = team.call("PUT", "ana", "/prices", json={"kind": "cpu", "per_hour": 0.5, "currency": "EUR"})
    assert made.status_code == 200, made.text
    assert made.json()["updated_by"] == "ana"
    bad = team.call("PUT", "ana", "/prices", json={"kind": "tpu", "per_hour": 1.0, "currency": "EUR"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "kind"
    assert [p["kind"] for p in team.call("GET", "vic", "/prices").json()] == ["cpu"]
    assert team.call("DELETE", "vic", "/prices", params={"kind": "cpu"}).status_code == 403
    assert team.call("DELETE", "ana", "/prices", params={"kind": "cpu"}).status_code == 204
    assert team.call("DELETE", "ana", "/prices", params={"kind": "cpu"}).status_code == 404


def test_viewers_read_costs_of_the_projects_they_see(team: Team) -> None:
    team.call("PUT", "ana", "/prices", json={"kind": "cpu", "per_hour": 0.5, "currency": "EUR"})
    seen = team.call("GET", "vic", "/cost", params={"since": "1d"}).json()
    # alpha: 2 h x 4 cores x 0.5 = 4; beta: 1 h x 4 x 0.5 = 2
    assert {p["project"]: p["cost"] for p in seen["per_project"]} == {"alpha": 4.0, "beta": 2.0}
    assert len(seen["top_runs"]) == 2
    hidden = team.call("GET", "eve", "/cost").json()
    assert {p["project"] for p in hidden["per_project"]} == {"beta"}
    assert team.call("GET", "eve", "/cost", params={"project": "alpha"}).status_code == 404
    for page in ("/value", "/scorecard", "/cadence"):
        answer = team.call("GET", "eve", page)
        assert answer.status_code == 200, answer.text
        assert "alpha" not in answer.text
    assert team.call("GET", "vic", "/cost", params={"since": "soon"}).json()["error"]["field"] == "since"


def test_maintainers_set_budgets_and_the_alert_is_audited_once(team: Team) -> None:
    team.call("PUT", "ana", "/prices", json={"kind": "cpu", "per_hour": 0.5, "currency": "EUR"})
    assert team.call("PUT", "eve", "/budgets/beta", json={"amount": 2.5}).status_code == 403
    made = team.call("PUT", "max", "/budgets/alpha", json={"amount": 5.0, "alert_share": 0.5})
    assert made.status_code == 200, made.text
    assert made.json()["currency"] == "EUR"
    (status,) = team.call("GET", "vic", "/budgets").json()
    assert (status["project"], status["spent"], status["share"], status["state"]) == (
        "alpha",
        4.0,
        0.8,
        "alert",
    )
    team.call("GET", "vic", "/budgets")
    assert team.call("GET", "eve", "/budgets").json() == []
    audit = team.client.get(
        "/api/v1/audit",
        params={"action": "budget_alert"},
        headers={"Authorization": f"Bearer {team.keys['ana']}"},
    ).json()
    assert [(e["project"], e["method"]) for e in audit] == [("alpha", "EVENT")]
    assert team.call("DELETE", "vic", "/budgets/alpha").status_code == 403
    assert team.call("DELETE", "max", "/budgets/alpha").status_code == 204
