"""``/api/v1/projects/{project}/reports`` in-process (TestClient, a real SQLite store): roles, 404s,
validation naming the field, versions, hidden panels, the HTML export, the audit trail. ana is an admin,
bob a member, vic a viewer of alpha (and nothing of secret), eve has ``none`` on alpha."""

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
from mltrail.entities import MetricsBatch
from mltrail.services.accounts.service import AccountService
from mltrail.services.tracking.service import TrackingService
from mltrail.settings import Settings
from mltrail.store.factory import open_store

ROLES = {"ana": "admin", "bob": "member", "vic": "member", "eve": "member"}
SOURCE = """# Weekly

```mltrail-panel
type: runs
filter: metrics.acc > 0.5
```

```mltrail-panel
type: runs
project: secret
title: Secret runs
```
"""


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
    accounts = AccountService(store)
    keys = {name: accounts.create_user(name, role)[1].secret for name, role in ROLES.items()}
    tracking = TrackingService(store)
    for project, name, acc in (("alpha", "visible-run", 0.9), ("secret", "hush-run", 0.99)):
        run_id = uuid.uuid4().hex
        tracking.start_run(run_id=run_id, project=project, name=name, user="bob")
        tracking.log_metrics(run_id, MetricsBatch(["acc"], [0], [acc], [time.time()]))
    accounts.set_member("alpha", "vic", "viewer")
    accounts.set_member("secret", "vic", "none")
    accounts.set_member("alpha", "eve", "none")
    app = create_app(settings, store=store, auth=True, webhooks=False)
    with TestClient(app) as client:
        yield Team(client, keys)
    store.close()


def test_members_write_viewers_read_others_get_404(team: Team) -> None:
    made = team.call("POST", "bob", "/projects/alpha/reports", json={"name": "weekly", "source": SOURCE})
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["version"], body["title"], body["created_by"]) == (1, "Weekly", "bob")
    assert [b["type"] for b in body["blocks"]] == ["markdown", "runs", "runs"]
    assert "```mltrail-panel" in body["source"]

    denied = team.call("POST", "vic", "/projects/alpha/reports", json={"name": "x", "source": "# x"})
    assert denied.status_code == 403 and "member" in denied.json()["error"]["message"]
    assert (
        team.call("PUT", "vic", "/projects/alpha/reports/weekly", json={"source": "# x"}).status_code == 403
    )
    assert team.call("DELETE", "vic", "/projects/alpha/reports/weekly").status_code == 403

    listed = team.call("GET", "vic", "/projects/alpha/reports").json()
    assert listed["total"] == 1 and listed["reports"][0]["name"] == "weekly"
    for url in (
        "/projects/alpha/reports",
        "/projects/alpha/reports/weekly",
        "/projects/alpha/reports/weekly/html",
    ):
        hidden = team.call("GET", "eve", url)
        assert hidden.status_code == 404 and hidden.json()["error"]["message"] == "no project 'alpha'"
    missing = team.call("GET", "vic", "/projects/alpha/reports/nope")
    assert missing.status_code == 404 and "no report 'nope'" in missing.json()["error"]["message"]


def test_panels_are_hidden_from_a_viewer_who_may_not_see_their_project(team: Team) -> None:
    team.call("POST", "bob", "/projects/alpha/reports", json={"name": "weekly", "source": SOURCE})
    admin = team.call("GET", "ana", "/projects/alpha/reports/weekly").json()
    assert admin["blocks"][2]["status"] == "ok" and admin["blocks"][2]["data"]["rows"][0][1] == "hush-run"
    seen = team.call("GET", "vic", "/projects/alpha/reports/weekly")
    assert seen.status_code == 200
    blocks = seen.json()["blocks"]
    assert blocks[1]["status"] == "ok" and blocks[1]["data"]["rows"][0][1] == "visible-run"
    assert blocks[2]["status"] == "hidden" and "data" not in blocks[2]
    assert blocks[0]["html"] == "<h1>Weekly</h1>\n"
    assert "hush" not in seen.text
    html = team.call("GET", "vic", "/projects/alpha/reports/weekly/html?download=true")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert 'filename="weekly.html"' in html.headers["content-disposition"]
    # served from the API's origin, the file may load and run nothing (no script, no fetch)
    assert html.headers["content-security-policy"].startswith("default-src 'none'")
    assert "sandbox" in html.headers["content-security-policy"]
    assert "visible-run" in html.text and "hush" not in html.text and "http://" not in html.text
    definition = team.call("GET", "vic", "/projects/alpha/reports/weekly?evaluate=false").json()
    assert "status" not in definition["blocks"][1] and definition["version"] == 1


def test_validation_names_the_field_and_changes_nothing(team: Team) -> None:
    url = "/projects/alpha/reports"
    cases = [
        ({"name": "bad name!", "source": "# x"}, "name"),
        ({"name": "r", "source": "```mltrail-panel\ntype: pie\n```"}, "source"),
        ({"name": "r", "blocks": [{"type": "runs", "options": {"limit": "1000"}}]}, "blocks[0].limit"),
        (
            {"name": "r", "blocks": [{"type": "runs", "options": {"filter": "metrics.acc >>"}}]},
            "blocks[0].filter",
        ),
        ({"name": "r"}, "source"),
    ]
    for body, field in cases:
        refused = team.call("POST", "bob", url, json=body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["field"] == field, refused.text
    unknown = team.call("POST", "bob", url, json={"name": "r", "source": "x", "colour": "red"})
    assert unknown.status_code in (400, 422) and "colour" in unknown.text
    assert team.call("GET", "bob", url).json()["total"] == 0
    assert (
        team.call("POST", "bob", "/projects/nowhere/reports", json={"name": "r", "source": "x"}).status_code
        == 404
    )


def test_versions_conflicts_delete_and_audit(team: Team) -> None:
    url = "/projects/alpha/reports"
    team.call("POST", "bob", url, json={"name": "weekly", "source": SOURCE})
    saved = team.call("PUT", "bob", f"{url}/weekly", json={"source": "# Two\n", "expected_version": 1})
    assert saved.status_code == 200 and saved.json()["version"] == 2
    stale = team.call("PUT", "bob", f"{url}/weekly", json={"source": "# Three\n", "expected_version": 1})
    assert stale.status_code == 409 and "version 2, not 1" in stale.json()["error"]["message"]
    assert team.call("DELETE", "bob", f"{url}/weekly").status_code == 204
    assert team.call("GET", "bob", f"{url}/weekly").status_code == 404
    events = team.call("GET", "ana", "/audit", params={"project": "alpha"}).json()
    actions = [e["action"] for e in events]
    assert {"create_report", "update_report", "delete_report"} <= set(actions)
