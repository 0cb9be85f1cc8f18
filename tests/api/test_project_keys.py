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
