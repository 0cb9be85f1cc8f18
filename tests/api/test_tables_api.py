"""``/api/v1/runs/{run}/tables`` and ``/api/v1/samples`` in-process, with roles (``auth=True``)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.services.accounts.service import AccountService
from mltrail.services.tracking.table_data import predictions_table, to_parquet
from mltrail.settings import Settings
from mltrail.store.factory import open_store

API = "/api/v1"
RUN_A, RUN_B, HIDDEN = "a" * 32, "b" * 32, "c" * 32


@pytest.fixture
def team(settings: Settings) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    store = open_store(f"sqlite:///{settings.home / 'mltrail.db'}")
    accounts = AccountService(store)
    keys = {
        name: accounts.create_user(name, role)[1].secret
        for name, role in (("ana", "admin"), ("vic", "viewer"))
    }
    for run_id, project in ((RUN_A, "alpha"), (RUN_B, "alpha"), (HIDDEN, "beta")):
        store.create_run(run_id=run_id, project=project, name=f"r-{run_id[0]}", user="ana", start_time=1.0)
    store.create_run(run_id="e" * 32, project="alpha", name="samples", user="ana", start_time=2.0)
    accounts.set_member("beta", "vic", "none")
    headers = {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}
    with TestClient(create_app(settings, store=store, auth=True, max_upload_bytes=1 << 20)) as client:
        yield client, headers
    store.close()


def _predictions(wrong: int) -> bytes:
    ids = np.arange(40)
    truth = ids % 2
    pred = np.where(ids < wrong, 1 - truth, truth)
    return to_parquet(
        predictions_table(ids, truth, pred, features={"half": np.where(ids < 20, "low", "high")})
    )


def test_tables_are_written_by_members_and_read_by_viewers(
    team: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, h = team
    for run_id, wrong in ((RUN_A, 2), (RUN_B, 20), (HIDDEN, 0)):
        put = client.put(
            f"{API}/runs/{run_id}/tables/val",
            params={"kind": "predictions"},
            content=_predictions(wrong),
            headers=h["ana"],
        )
        assert put.status_code == 201, put.text
    assert put.json()["summary"]["confusion"] == [[20, 0], [0, 20]]
    denied = client.put(f"{API}/runs/{RUN_A}/tables/x", content=_predictions(0), headers=h["vic"])
    assert denied.status_code == 403
    listed = client.get(f"{API}/runs/{RUN_A}/tables", headers=h["vic"]).json()
    assert [(t["name"], t["step"], t["rows"]) for t in listed] == [("val", 0, 40)]
    one = client.get(f"{API}/runs/r-a/tables/val", headers=h["vic"]).json()  # a run by its name
    assert one["summary"]["accuracy"] == 0.95 and one["columns"][0] == {"name": "id", "type": "int64"}
    rows = client.get(
        f"{API}/runs/{RUN_B}/tables/val/rows",
        params={"filter": 'half = "low"', "sort": "-id", "limit": 2, "columns": ["id", "half"]},
        headers=h["vic"],
    ).json()
    assert rows["total"] == 20 and rows["rows"] == [[19, "low"], [18, "low"]]
    samples = client.get(
        f"{API}/samples",
        params={"a": RUN_A, "b": RUN_B, "table": "val", "min_rows": 5},
        headers=h["vic"],
    )
    assert samples.status_code == 200, samples.text
    found = samples.json()
    assert found["right_to_wrong"]["count"] == 18 and found["slices"][0]["slice"] == {"half": "low"}
    hidden = client.get(f"{API}/samples", params={"a": RUN_A, "b": HIDDEN, "table": "val"}, headers=h["vic"])
    missing = client.get(
        f"{API}/samples", params={"a": RUN_A, "b": "d" * 32, "table": "val"}, headers=h["vic"]
    )
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["type"] == missing.json()["error"]["type"] == "NotFoundError"
    assert client.get(f"{API}/runs/{HIDDEN}/tables", headers=h["vic"]).status_code == 404


def test_bad_uploads_and_queries_name_the_field(team: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, h = team
    url = f"{API}/runs/{RUN_A}/tables/val"
    cases = [
        client.put(url, content=b"not parquet", headers=h["ana"]),
        client.put(url, content=b"", headers=h["ana"]),
        client.put(url, params={"kind": "chart"}, content=_predictions(0), headers=h["ana"]),
        client.put(url, content=b"x" * (2 << 20), headers=h["ana"]),
    ]
    assert [r.status_code for r in cases] == [400, 400, 400, 413]
    assert [r.json()["error"]["field"] for r in cases[:3]] == ["data", "body", "kind"]
    client.put(url, content=_predictions(0), headers=h["ana"])
    bad = client.get(f"{url}/rows", params={"filter": "idd = 1"}, headers=h["vic"])
    assert bad.status_code == 400 and "did you mean 'id'" in bad.json()["error"]["message"]
    assert client.get(f"{url}/rows", params={"limit": 5_000}, headers=h["vic"]).status_code == 400
    assert client.get(f"{url}/rows", params={"step": 3}, headers=h["vic"]).status_code == 404


def test_a_run_named_samples_is_still_a_run(team: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    """``GET /runs/samples`` used to be the samples comparison, so a run named "samples" could not be read by
    its name; the comparison lives at ``/samples``."""
    client, h = team
    found = client.get(f"{API}/runs/samples", headers=h["ana"])
    assert found.status_code == 200, found.text
    assert found.json()["id"] == "e" * 32
