"""``GET /metrics/history?run=…&key=…``: several runs' histories in one request (compare's charts)."""

from __future__ import annotations

from pathlib import Path

from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.services.accounts.service import AccountService
from mltrail.settings import Settings
from mltrail.store.factory import open_store

API = "/api/v1"


def _run(client: TestClient, project: str, name: str, headers: dict[str, str] | None = None) -> str:
    made = client.post(f"{API}/runs", json={"project": project, "name": name}, headers=headers or {})
    assert made.status_code == 201, made.text
    run_id: str = made.json()["id"]
    return run_id


def _log(client: TestClient, run_id: str, key: str, n: int, headers: dict[str, str] | None = None) -> None:
    batch = {
        "keys": [key] * n,
        "steps": list(range(n)),
        "values": [float(i % 7) for i in range(n)],
        "wall_times": [100.0 + i for i in range(n)],
    }
    assert client.post(f"{API}/runs/{run_id}/metrics", json=batch, headers=headers or {}).status_code == 200


def test_histories_of_several_runs_match_the_single_run_route(client: TestClient) -> None:
    a, b, c = (_run(client, "cmp", name) for name in ("a", "b", "c"))
    _log(client, a, "loss", 5000)
    _log(client, a, "acc", 10)
    _log(client, b, "loss", 30)
    _log(client, c, "acc", 3)  # c never logged loss
    got = client.get(
        f"{API}/metrics/history",
        params=[("run", a), ("run", b), ("run", c), ("key", "loss"), ("key", "acc"), ("max_points", "100")],
    )
    assert got.status_code == 200, got.text
    histories = got.json()["histories"]
    assert [(h["run_id"], h["key"]) for h in histories] == [(a, "loss"), (a, "acc"), (b, "loss"), (c, "acc")]
    for h in histories:
        one = client.get(
            f"{API}/runs/{h['run_id']}/metrics/history", params={"key": h["key"], "max_points": 100}
        ).json()
        assert h == one
    assert histories[0]["downsampled"] is True and histories[0]["total_points"] == 5000
    assert histories[2] == {
        "run_id": b,
        "key": "loss",
        "steps": list(range(30)),
        "values": [float(i % 7) for i in range(30)],
        "wall_times": [100.0 + i for i in range(30)],
        "total_points": 30,
        "downsampled": False,
    }
    # A step range applies to every history; a run named by its name within ?project= works like the path's.
    ranged = client.get(
        f"{API}/metrics/history",
        params=[("run", "b"), ("key", "loss"), ("min_step", "10"), ("max_step", "12"), ("project", "cmp")],
    ).json()["histories"]
    assert [h["steps"] for h in ranged] == [[10, 11, 12]]


def test_limits_and_errors_name_the_field(client: TestClient) -> None:
    a = _run(client, "lim", "a")
    _log(client, a, "loss", 3)

    def error(params: list[tuple[str, str]]) -> tuple[int, str, str]:
        got = client.get(f"{API}/metrics/history", params=params)
        body = got.json()["error"]
        return got.status_code, body.get("field", ""), body["message"]

    too_many_runs = [("run", f"r{i}") for i in range(51)] + [("key", "loss")]
    status, field, message = error(too_many_runs)
    assert (status, field) == (400, "run") and "at most 50 runs" in message
    too_many_keys = [("run", a)] + [("key", f"k{i}") for i in range(21)]
    status, field, message = error(too_many_keys)
    assert (status, field) == (400, "key") and "at most 20 metric keys" in message
    assert error([("run", a), ("key", "loss"), ("max_points", "1")])[:2] == (400, "max_points")
    assert error([("run", " "), ("key", "loss")])[:2] == (400, "run")
    no_run = client.get(f"{API}/metrics/history", params={"key": "loss"})
    assert no_run.status_code == 400 and "run" in no_run.text
    missing = client.get(f"{API}/metrics/history", params=[("run", a), ("run", "nope-run"), ("key", "loss")])
    assert missing.status_code == 404 and "nope-run" in missing.json()["error"]["message"]
    # The same run twice is read once.
    twice = client.get(f"{API}/metrics/history", params=[("run", a), ("run", a), ("key", "loss")])
    assert len(twice.json()["histories"]) == 1


def test_each_run_needs_the_viewer_role_on_its_project(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "mltrail")
    store = open_store(settings.db_url)
    accounts = AccountService(store)
    keys = {n: accounts.create_user(n, r)[1].secret for n, r in (("bob", "member"), ("eve", "viewer"))}
    accounts.set_member("secret", "eve", "none")
    try:
        with TestClient(create_app(settings, store=store, auth=True)) as client:
            bob, eve = ({"Authorization": f"Bearer {keys[n]}"} for n in ("bob", "eve"))
            shown, hidden = _run(client, "open", "a", bob), _run(client, "secret", "b", bob)
            _log(client, shown, "loss", 4, bob)
            _log(client, hidden, "loss", 4, bob)
            ok = client.get(f"{API}/metrics/history", params={"run": shown, "key": "loss"}, headers=eve)
            assert ok.status_code == 200 and len(ok.json()["histories"]) == 1
            both = client.get(
                f"{API}/metrics/history",
                params=[("run", shown), ("run", hidden), ("key", "loss")],
                headers=eve,
            )
            # A run of a project eve cannot see is missing, with the message an unknown run gets.
            assert both.status_code == 404 and both.json()["error"]["message"] == f"no run {hidden!r}"
            assert (
                client.get(f"{API}/metrics/history", params={"run": shown, "key": "loss"}).status_code == 401
            )
    finally:
        store.close()
