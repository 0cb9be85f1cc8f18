"""Every ``/runs/{ref}/…`` route takes what ``/runs/{ref}`` takes: a run id, a unique id prefix or a unique
name, with ``?project=`` to tell apart same-named runs of different projects; with authentication, only among
the runs the key's user may see. And ``POST /runs`` records the key's user with authentication on, the sent
user without it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.services.accounts.service import AccountService
from mltrail.settings import Settings
from mltrail.store.factory import open_store

API = "/api/v1"
ALPHA = "a1b2c3d4" + "0" * 24  # "alpha" in p1
OTHER = "f9e8d7c6" + "0" * 24  # "alpha" in p2: the name alone is ambiguous
BETA = "b5b5b5b5" + "1" * 24  # "beta" in p1, a unique name

Call = Callable[[str, str], httpx.Response]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    store = open_store(f"sqlite:///{settings.home / 'mltrail.db'}")
    for run_id, project, name in ((ALPHA, "p1", "alpha"), (OTHER, "p2", "alpha"), (BETA, "p1", "beta")):
        store.create_run(run_id=run_id, project=project, name=name, user="ana", start_time=1.0)
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client
    store.close()


def _batch(step: int) -> bytes:
    return orjson.dumps({"keys": ["loss"], "steps": [step], "values": [0.5], "wall_times": [1.0]})


def _dataset() -> dict[str, object]:
    return {"name": "d", "digest": hashlib.sha256(b"d").hexdigest(), "kind": "file", "role": "train"}


# (family, method, path under /runs/{ref}, request keywords): every route that takes a run in its path.
ROUTES: list[tuple[str, str, str, dict[str, object]]] = [
    ("run", "GET", "", {}),
    ("notes", "PATCH", "", {"json": {"notes": "n"}}),
    ("heartbeat", "POST", "/heartbeat", {}),
    ("params", "PATCH", "/params", {"json": {"config": {"lr": 0.1}}}),
    ("tags", "PATCH", "/tags", {"json": {"tags": {"team": "cv"}}}),
    ("tags", "DELETE", "/tags?key=team", {}),
    ("summary", "PATCH", "/summary", {"json": {"values": {"best": 1}}}),
    ("context", "PATCH", "/context", {"json": {"context": {"extra": {"a": 1}}}}),
    ("metrics", "POST", "/metrics", {"content": _batch(0)}),
    ("metrics", "GET", "/metrics/history?key=loss", {}),
    ("artifacts", "PUT", "/artifacts/m/w.bin", {"content": b"weights"}),
    ("artifacts", "GET", "/artifacts", {}),
    ("artifacts", "GET", "/artifacts/m/w.bin", {}),
    ("datasets", "POST", "/datasets", {"json": _dataset()}),
    ("datasets", "GET", "/datasets", {}),
    ("finish", "POST", "/finish", {"json": {"status": "finished"}}),
]


def _url(ref: str, suffix: str, project: str | None) -> str:
    path, _, query = suffix.partition("?")
    params = [p for p in (query, f"project={project}" if project else "") if p]
    return f"{API}/runs/{ref}{path}" + ("?" + "&".join(params) if params else "")


@pytest.mark.parametrize(
    ("ref", "project", "expected"),
    [
        (BETA[:6], None, BETA),  # a unique prefix
        ("beta", None, BETA),  # a unique name
        ("alpha", "p1", ALPHA),  # a name made unique by ?project=
        ("alpha", "p2", OTHER),
        (ALPHA, None, ALPHA),  # the id itself
    ],
)
def test_every_run_route_takes_a_prefix_or_a_name(
    client: TestClient, ref: str, project: str | None, expected: str
) -> None:
    for family, method, suffix, kwargs in ROUTES:
        response = client.request(method, _url(ref, suffix, project), **kwargs)  # type: ignore[arg-type]
        assert response.status_code < 300, (family, method, suffix, response.text)
        if family == "run":
            assert response.json()["id"] == expected
        if family == "metrics" and method == "GET":
            assert response.json()["run_id"] == expected
        if family == "artifacts" and suffix == "/artifacts":
            assert [a["run_id"] for a in response.json()] == [expected]
        if family == "datasets" and method == "GET":
            assert [d["run_id"] for d in response.json()] == [expected]
    got = client.get(f"{API}/runs/{expected}").json()
    assert got["notes"] == "n" and got["params"] == {"lr": 0.1} and got["summary"] == {"best": 1}
    assert got["status"] == "finished" and got["metrics"]["loss"]["count"] == 1
    assert client.delete(_url(ref, "", project)).status_code == 204
    assert client.get(f"{API}/runs/{expected}").status_code == 404


def test_an_ambiguous_or_unknown_reference_is_refused_on_every_route(client: TestClient) -> None:
    for family, method, suffix, kwargs in ROUTES:
        ambiguous = client.request(method, _url("alpha", suffix, None), **kwargs)  # type: ignore[arg-type]
        assert ambiguous.status_code == 409, (family, suffix, ambiguous.text)
        assert "matches 2 runs" in ambiguous.json()["error"]["message"]
        missing = client.request(method, _url("gamma", suffix, None), **kwargs)  # type: ignore[arg-type]
        assert missing.status_code == 404, (family, suffix)
        elsewhere = client.request(method, _url("beta", suffix, "p2"), **kwargs)  # type: ignore[arg-type]
        assert elsewhere.status_code == 404 and "in project 'p2'" in elsewhere.json()["error"]["message"]


def test_with_auth_references_resolve_among_visible_runs_only(settings: Settings, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{settings.home / 'mltrail.db'}")
    accounts = AccountService(store)
    keys = {name: accounts.create_user(name, role)[1].secret for name, role in [("bob", "member")]}
    for run_id, project, name in ((ALPHA, "p1", "alpha"), (OTHER, "p2", "alpha"), (BETA, "p1", "beta")):
        store.create_run(run_id=run_id, project=project, name=name, user="ana", start_time=1.0)
    accounts.set_member("p2", "bob", "none")  # p2 is hidden from bob
    headers = {"Authorization": f"Bearer {keys['bob']}"}
    with TestClient(create_app(settings, store=store, auth=True)) as client:
        # "alpha" matches a visible and a hidden run: it names the visible one, with no hint of the other.
        assert client.get(f"{API}/runs/alpha", headers=headers).json()["id"] == ALPHA
        tagged = client.patch(f"{API}/runs/alpha/tags", json={"tags": {"t": "1"}}, headers=headers)
        assert tagged.status_code == 204
        assert store.get_run(ALPHA).tags == {"t": "1"} and store.get_run(OTHER).tags == {}
        for ref in (OTHER, OTHER[:8]):
            hidden = client.get(f"{API}/runs/{ref}/artifacts", headers=headers)
            missing = client.get(f"{API}/runs/{'e' * len(ref)}/artifacts", headers=headers)
            assert hidden.status_code == missing.status_code == 404
            assert hidden.json()["error"]["message"].replace(ref, "?") == missing.json()["error"][
                "message"
            ].replace("e" * len(ref), "?")
        by_name = client.post(f"{API}/runs/beta/heartbeat", headers=headers)
        assert by_name.status_code == 204
    store.close()


def test_runs_are_recorded_as_the_sent_user_without_auth(client: TestClient) -> None:
    created = client.post(f"{API}/runs", json={"project": "p3", "name": "r", "user": "mallory"})
    assert created.status_code == 201 and created.json()["user"] == "mallory"


def test_runs_are_recorded_as_the_keys_user_with_auth(settings: Settings) -> None:
    store = open_store(f"sqlite:///{settings.home / 'mltrail.db'}")
    key = AccountService(store).create_user("bob", "member")[1].secret
    with TestClient(create_app(settings, store=store, auth=True)) as client:
        created = client.post(
            f"{API}/runs",
            json={"project": "p3", "name": "r", "user": "mallory"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert created.status_code == 201 and created.json()["user"] == "bob"
        run = client.get(f"{API}/runs/r", headers={"Authorization": f"Bearer {key}"}).json()
        assert run["user"] == "bob"
    store.close()
