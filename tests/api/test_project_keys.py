"""``GET /projects/{project}/keys``: every key a project's runs use, for the column chooser and completion."""

from __future__ import annotations

from pathlib import Path

from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.services.accounts.service import AccountService
from mltrail.settings import Settings
from mltrail.store.factory import open_store

API = "/api/v1"


def _run(client: TestClient, project: str, config: dict[str, object], headers: dict[str, str]) -> str:
    made = client.post(
        f"{API}/runs", json={"project": project, "name": "r", "config": config}, headers=headers
    )
    assert made.status_code == 201, made.text
    run_id: str = made.json()["id"]
    return run_id


def test_keys_of_all_runs_not_only_the_newest(client: TestClient) -> None:
    first = _run(client, "keys", {"old_only": 1, "lr": 0.1}, {})
    for i in range(3):
        _run(client, "keys", {"lr": 0.01 * i}, {})
    batch = {"keys": ["loss", "val/acc"], "steps": [0, 0], "values": [1.0, 0.5], "wall_times": [1.0, 1.0]}
    assert client.post(f"{API}/runs/{first}/metrics", json=batch).status_code == 200
    assert client.patch(f"{API}/runs/{first}/tags", json={"tags": {"team": "a"}}).status_code == 204
    keys = client.get(f"{API}/projects/keys/keys").json()
    assert keys == {
        "params": ["lr", "old_only"],
        "metrics": ["loss", "val/acc"],
        "tags": ["team"],
        "summary": [],
    }
    missing = client.get(f"{API}/projects/nope/keys")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "no project 'nope'"


def test_keys_need_the_viewer_role_and_a_hidden_project_is_missing(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "mltrail")
    store = open_store(settings.db_url)
    accounts = AccountService(store)
    keys = {n: accounts.create_user(n, r)[1].secret for n, r in (("bob", "member"), ("eve", "viewer"))}
    accounts.set_member("secret", "eve", "none")
    try:
        with TestClient(create_app(settings, store=store, auth=True)) as client:
            bob, eve = ({"Authorization": f"Bearer {keys[n]}"} for n in ("bob", "eve"))
            _run(client, "secret", {"lr": 1}, bob)
            _run(client, "open", {"depth": 3}, bob)
            assert client.get(f"{API}/projects/open/keys", headers=eve).json()["params"] == ["depth"]
            hidden = client.get(f"{API}/projects/secret/keys", headers=eve)
            assert hidden.status_code == 404 and hidden.json()["error"]["message"] == "no project 'secret'"
            assert client.get(f"{API}/projects/open/keys").status_code == 401
    finally:
        store.close()


def test_activity_counts_runs_per_iso_week_and_user(client: TestClient) -> None:
    """``GET /projects/{p}/activity``: the team page's weekly figures, counted by the database."""
    monday = 1_796_601_600.0  # 2026-12-07 00:00 UTC, a Monday
    made = [
        ("ana", monday + 3600, 100.0, "finished"),
        ("ana", monday + 7 * 86400 - 1, 50.5, "failed"),  # Sunday 23:59:59: the same week
        ("bob", monday + 60, None, "running"),  # no end and no heartbeat: no seconds yet
        ("ana", monday - 1, 10.0, "crashed"),  # Sunday before: the week before
        (None, monday - 86400, 5.0, "finished"),
        ("old", monday - 200 * 86400, 1.0, "finished"),  # before since=90d... of the newest run
    ]
    for user, start, seconds, status in made:
        body = {"project": "team", "name": "r", "start_time": start, "user": user}
        run_id = client.post(f"{API}/runs", json=body).json()["id"]
        if seconds is not None:
            finish = {"status": status, "end_time": start + seconds}
            assert client.post(f"{API}/runs/{run_id}/finish", json=finish).status_code == 204
    got = client.get(f"{API}/projects/team/activity", params={"since": str(monday - 100 * 86400)})
    assert got.status_code == 200, got.text
    assert got.json()["weeks"] == [
        {
            "week_start": monday,
            "users": {
                "ana": {"runs": 2, "seconds": 150.5, "failed": 1},
                "bob": {"runs": 1, "seconds": 0.0, "failed": 0},
            },
        },
        {
            "week_start": monday - 7 * 86400,
            "users": {
                "(unknown)": {"runs": 1, "seconds": 5.0, "failed": 0},
                "ana": {"runs": 1, "seconds": 10.0, "failed": 1},
            },
        },
    ]
    every = client.get(f"{API}/projects/team/activity", params={"since": "all"}).json()
    assert len(every["weeks"]) == 3 and every["since"] is None
    assert client.get(f"{API}/projects/nope/activity").status_code == 404
    bad = client.get(f"{API}/projects/team/activity", params={"since": "soon"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "since"
    assert client.get(f"{API}/projects/team/activity", params={"by": "day"}).status_code in (400, 422)
