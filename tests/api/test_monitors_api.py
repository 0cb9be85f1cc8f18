"""Monitoring over HTTP in-process (TestClient, a real SQLite store, blobs on disk).

A scikit-learn model is saved once per module; each test logs it into a run that recorded its training
DataFrame, registers it as ``churn:1`` and watches it. With authentication: ana (admin), bob (member),
vic (viewer), mia (maintainer of alpha), eve (``none`` on alpha). Alert notifications go to a list.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.entities import MetricsBatch
from mltrail.sdk.flavors import save_model
from mltrail.services.accounts.service import AccountService
from mltrail.services.tracking.artifacts import ArtifactService
from mltrail.services.tracking.datasets import DatasetService
from mltrail.services.tracking.fingerprint import fingerprint
from mltrail.services.tracking.service import TrackingService
from mltrail.settings import Settings
from mltrail.stats.profile import profile_batches
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

sklearn_linear = pytest.importorskip("sklearn.linear_model")

API = "/api/v1"
ROLES = {"ana": "admin", "bob": "member", "vic": "viewer", "mia": "member", "eve": "member"}
DAY = 86400.0
NOW = time.time()
T0 = (NOW // DAY - 6) * DAY  # six days ago, 00:00 UTC: inside the report's default 30 days
MAX_UPLOAD = 1 << 20
ARROW = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"


def traffic(n: int, seed: int, *, shift: float = 0.0, day: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(40 + shift * 10, 10, n)
    return pd.DataFrame(
        {
            "age": age,
            "income": rng.lognormal(10, 0.5, n),
            "country": rng.choice(["DE", "FR", "ES"], n, p=[0.5, 0.3, 0.2]),
            "prediction": (age > 40).astype(np.int64),
            "timestamp": T0 + day * DAY + rng.uniform(0, DAY - 1, n),
            "id": [f"{seed}-{i}" for i in range(n)],
        }
    )


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    train = traffic(200, 1)[["age", "income"]]
    folder = tmp_path_factory.mktemp("saved") / "model"
    model = sklearn_linear.LogisticRegression().fit(train, (train["age"] > 40).astype(int))
    save_model(model, folder, input_example=train.head(3))
    return folder


@dataclass
class World:
    client: TestClient
    store: SqlStore
    blobs: BlobStore
    keys: dict[str, str]
    folder: Path
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    run_id: str = ""  # the run of the version registered last

    def call(self, method: str, user: str | None, url: str, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if user is not None:
            headers["Authorization"] = f"Bearer {self.keys[user]}"
        response: httpx.Response = self.client.request(method, f"{API}{url}", headers=headers, **kw)
        return response

    def get(self, user: str | None, url: str, **kw: Any) -> httpx.Response:
        return self.call("GET", user, url, **kw)

    def post(self, user: str | None, url: str, **kw: Any) -> httpx.Response:
        return self.call("POST", user, url, **kw)

    def version(self, *, dataset: bool = True, model: str = "churn") -> None:
        """Register ``model``:1 from a run that logged the model (and its training data, if ``dataset``)."""
        run_id = uuid.uuid4().hex
        tracking = TrackingService(self.store)
        tracking.start_run(run_id=run_id, project="alpha", name=f"r-{run_id[:6]}", user="bob")
        tracking.log_metrics(run_id, MetricsBatch(["val/acc"], [0], [0.93], [time.time()]))
        ArtifactService(self.store, self.blobs).log_path(run_id, self.folder, "model")
        if dataset:
            train = traffic(4000, 2).drop(columns=["timestamp", "id"])
            DatasetService(self.store).record(run_id, fingerprint(train, name="train"), "train")
        user = "bob" if self.keys else None
        registered = self.post(user, f"/models/{model}/versions", json={"run_id": run_id, "path": "model"})
        assert registered.status_code == 201, registered.text
        self.run_id = run_id

    def monitor(self, name: str = "churn-prod", **body: Any) -> dict[str, Any]:
        self.version()
        user = "bob" if self.keys else None
        created = self.post(user, "/monitors", json={"name": name, "model": "churn:1", **body})
        assert created.status_code == 201, created.text
        data: dict[str, Any] = created.json()
        return data


def _world(settings: Settings, folder: Path, *, auth: bool) -> Iterator[World]:
    store = open_store(settings.db_url)
    keys: dict[str, str] = {}
    if auth:
        accounts = AccountService(store)
        keys = {name: accounts.create_user(name, role)[1].secret for name, role in ROLES.items()}
        accounts.set_member("alpha", "mia", "maintainer")
        accounts.set_member("alpha", "eve", "none")
    sent: list[tuple[str, dict[str, Any]]] = []

    def notifier(channel: str, payload: Any) -> tuple[bool, int | None, str | None]:
        sent.append((channel, dict(payload)))
        return True, 200, None

    app = create_app(
        settings, store=store, auth=auth, webhooks=False, max_upload_bytes=MAX_UPLOAD, notifier=notifier
    )
    with TestClient(app) as client:
        yield World(client, store, BlobStore(settings.blobs), keys, folder, sent)
    store.close()


@pytest.fixture
def loopback(settings: Settings, model_folder: Path) -> Iterator[World]:
    yield from _world(settings, model_folder, auth=False)


@pytest.fixture
def team(settings: Settings, model_folder: Path) -> Iterator[World]:
    yield from _world(settings, model_folder, auth=True)


def _arrow_stream(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _parquet(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue()


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]


# -- monitors and ingestion ------------------------------------------------------------------------------
def test_create_ingest_three_ways_label_and_report(loopback: World) -> None:
    created = loopback.monitor(segments=["country"])
    assert (created["model"], created["version"], created["run_id"]) == ("churn", 1, loopback.run_id)
    assert created["features"] == ["age", "income"] and created["project"] == "alpha"
    assert created["reference_source"].startswith("train dataset train")
    assert "reference" not in created and created["schema"]["columns"]["age"]

    day0 = traffic(1500, 10, day=0)
    as_rows = loopback.post(None, "/monitors/churn-prod/predictions", json={"rows": _rows(day0)})
    assert as_rows.status_code == 200, as_rows.text
    assert as_rows.json()["rows"] == 1500 and as_rows.json()["windows"] == [T0]
    day1 = traffic(1500, 11, day=1)
    columns = {"columns": {c: day1[c].tolist() for c in day1.columns}}
    zipped = gzip.compress(json.dumps(columns).encode())
    as_columns = loopback.post(
        None,
        "/monitors/churn-prod/predictions",
        content=zipped,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert as_columns.status_code == 200 and as_columns.json()["rows"] == 1500, as_columns.text
    day2 = traffic(1500, 12, day=2)
    arrow = loopback.post(
        None, "/monitors/churn-prod/predictions", content=_arrow_stream(day2), headers={"Content-Type": ARROW}
    )
    assert arrow.status_code == 200 and arrow.json()["windows"] == [T0 + 2 * DAY], arrow.text
    for day in (3, 4):  # the last two days drift
        shifted = traffic(1500, 13 + day, shift=2.0, day=day)
        parquet = loopback.post(
            None,
            "/monitors/churn-prod/predictions",
            content=_parquet(shifted),
            headers={"Content-Type": "application/x-parquet" if day == 3 else PARQUET},
        )
        assert parquet.status_code == 200 and parquet.json()["rows"] == 1500, parquet.text

    truth = day0["prediction"].tolist()
    labels = loopback.post(
        None,
        "/monitors/churn-prod/labels",
        json={"ids": [*day0["id"], "never-seen"], "labels": [*truth, 1]},
    )
    assert labels.json() == {"matched": 1500, "unknown": 1}
    assert loopback.get(None, "/monitors/churn-prod").json()["unmatched_labels"] == 1

    report = loopback.get(None, "/monitors/churn-prod/report", params={"window": "1d"})
    assert report.status_code == 200 and report.headers["content-type"] == "application/json"
    body = report.json()
    assert body["period"]["windows"] == 5 and body["current_rows"] == 7500
    drifted = [w["drifted"] for w in body["windows"]]
    assert all("age" not in d for d in drifted[:3]) and "age" in drifted[3] and "age" in drifted[4]
    assert body["windows"][0]["performance"]["accuracy"] == 1.0
    assert body["performance"]["training"] == {"accuracy": 0.93}
    assert set(body["segments"]) == {"country=DE", "country=FR", "country=ES"}
    assert loopback.get(None, "/monitors/churn-prod/report", params={"window": "1h"}).json()["windows"]
    html = loopback.get(None, "/monitors/churn-prod/report", params={"format": "html", "last": "30d"})
    assert html.headers["content-type"].startswith("text/html") and "<svg" in html.text

    raw = loopback.get(None, "/monitors/churn-prod/raw", params={"limit": 10}).json()
    assert len(raw["rows"]) == 10 and raw["truncated"] and set(raw["rows"][0]) >= {"age", "id"}
    window = {"since": str(T0 + 4 * DAY), "until": str(T0 + 5 * DAY), "limit": 10000}
    day4 = loopback.get(None, "/monitors/churn-prod/raw", params=window).json()
    assert len(day4["rows"]) == 1500 and not day4["truncated"]
    listed = loopback.get(None, "/monitors", params={"project": "alpha"}).json()["monitors"]
    assert [m["name"] for m in listed] == ["churn-prod"]
    assert listed[0]["last_window"] == T0 + 4 * DAY and listed[0]["open_alerts"] == 0
    assert loopback.get(None, "/monitors", params={"project": "other"}).json() == {"monitors": []}


def test_a_monitor_of_an_alias_follows_it_and_shows_its_versions(loopback: World) -> None:
    loopback.version()
    first_run = loopback.run_id
    loopback.version()
    second_run = loopback.run_id
    assert loopback.call("PUT", None, "/models/churn/aliases/blue", json={"version": 1}).status_code == 200
    created = loopback.post(None, "/monitors", json={"name": "churn-blue", "model": "churn@blue"}).json()
    assert (created["alias"], created["version"], created["run_id"]) == ("blue", 1, first_run)
    (entry,) = created["versions"]
    assert (entry["version"], entry["run_id"]) == (1, first_run)
    assert entry["since"] == created["created_at"] and entry["reference_source"].startswith("train dataset")
    fixed = loopback.post(None, "/monitors", json={"name": "churn-one", "model": "churn:1"}).json()
    assert fixed["alias"] is None and [v["version"] for v in fixed["versions"]] == [1]
    rule = loopback.post(None, "/monitors/churn-blue/alert-rules", json={"metric": "rows", "above": 0})
    assert rule.status_code == 201, rule.text

    url = "/monitors/churn-blue/predictions"
    assert loopback.post(None, url, json={"rows": _rows(traffic(300, 30, day=0))}).status_code == 200
    (alert,) = loopback.get(None, "/alerts", params={"monitor": "churn-blue"}).json()["alerts"]
    assert loopback.call("PUT", None, "/models/churn/aliases/blue", json={"version": 2}).status_code == 200
    # the server reads the alias on every batch
    assert loopback.post(None, url, json={"rows": _rows(traffic(300, 31, day=1))}).status_code == 200

    moved = loopback.get(None, "/monitors/churn-blue").json()
    assert (moved["alias"], moved["version"], moved["run_id"]) == ("blue", 2, second_run)
    assert [(v["version"], v["run_id"]) for v in moved["versions"]] == [(1, first_run), (2, second_run)]
    assert moved["versions"][1]["since"] >= moved["versions"][0]["since"]
    listed = {m["name"]: m for m in loopback.get(None, "/monitors").json()["monitors"]}
    assert listed["churn-blue"]["versions"] == moved["versions"] and listed["churn-one"]["version"] == 1
    report = loopback.get(None, "/monitors/churn-blue/report").json()
    assert report["monitor"]["alias"] == "blue"
    assert [v["version"] for v in report["monitor"]["versions"]] == [1, 2]
    # the alert opened before the move still leads to v1 and its run
    detail = loopback.get(None, f"/alerts/{alert['id']}").json()
    assert (detail["version"], detail["run_id"]) == (1, first_run)
    assert [a["version"] for a in report["alerts"]] == [1]


def test_patch_a_monitor_and_a_report_with_nan_figures(loopback: World) -> None:
    loopback.monitor()
    rules = {"columns": {"age": {"kind": "numeric", "min": 0, "max": 120, "not_null": True}}}
    patched = loopback.call("PATCH", None, "/monitors/churn-prod", json={"schema": rules})
    assert patched.status_code == 200, patched.text
    assert patched.json()["schema"]["columns"]["age"]["max"] == 120
    batch = traffic(50, 3)
    batch.loc[:9, "age"] = np.nan
    batch.loc[10:19, "age"] = 500.0
    ingested = loopback.post(
        None, "/monitors/churn-prod/predictions", content=_parquet(batch), headers={"Content-Type": PARQUET}
    )
    violations = ingested.json()["violations"]
    assert (violations["age: null"], violations["age: above max"]) == (10, 10)
    assert violations["extra column: income"] == 50  # the rules were replaced: income is not watched now
    # a single window of 50 rows: figures that are undefined come back as strings, never a broken body
    report = loopback.get(None, "/monitors/churn-prod/report")
    assert report.status_code == 200 and "NaN" not in report.text.replace('"NaN"', "")


def test_a_given_reference_keeps_its_source(loopback: World) -> None:
    loopback.version()
    table = pa.Table.from_pandas(traffic(500, 3)[["age", "income", "prediction"]], preserve_index=False)
    profile = profile_batches(table.to_batches(), columns=table.column_names)
    body = {
        "name": "given",
        "model": "churn:1",
        "reference": base64.b64encode(profile.to_bytes()).decode("ascii"),
        "reference_source": "file reference.csv",
    }
    created = loopback.post(None, "/monitors", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["reference_source"] == "file reference.csv"
    listed = loopback.get(None, "/monitors").json()["monitors"]
    assert [(m["name"], m["last_window"], m["open_alerts"]) for m in listed] == [("given", None, 0)]


def test_only_a_maintainer_deletes_a_monitor(team: World) -> None:
    team.monitor()
    for user, status in (("vic", 403), ("bob", 403), ("eve", 404)):
        assert team.call("DELETE", user, "/monitors/churn-prod").status_code == status, user
    assert team.call("DELETE", "mia", "/monitors/churn-prod").status_code == 204
    assert team.get("mia", "/monitors/churn-prod").status_code == 404
    assert team.call("DELETE", "mia", "/monitors/churn-prod").status_code == 404


def test_a_version_without_a_training_dataset_is_a_400_naming_reference(loopback: World) -> None:
    loopback.version(dataset=False)
    response = loopback.post(None, "/monitors", json={"name": "m", "model": "churn:1"})
    assert response.status_code == 400 and response.json()["error"]["field"] == "reference"
    loopback.version(model="fraud")
    assert loopback.post(None, "/monitors", json={"name": "m", "model": "fraud@none"}).status_code == 201
    again = loopback.post(None, "/monitors", json={"name": "m", "model": "fraud:1"})
    assert again.status_code == 409


def test_a_batch_retried_with_its_idempotency_key_lands_once(loopback: World) -> None:
    loopback.monitor()
    url = "/monitors/churn-prod/predictions"
    body = _arrow_stream(traffic(1200, 20))
    headers = {"Content-Type": ARROW, "Idempotency-Key": "3f2a9c1e-batch-1"}
    first = loopback.post(None, url, content=body, headers=headers)
    assert first.status_code == 200 and first.json()["duplicate"] is False, first.text
    again = loopback.post(None, url, content=body, headers=headers)  # the response was lost: retried
    assert again.status_code == 200 and again.json()["duplicate"] is True and again.json()["windows"] == []
    other = loopback.post(None, url, content=body, headers={**headers, "Idempotency-Key": "batch-2"})
    assert other.json()["duplicate"] is False  # another key is another batch
    assert loopback.get(None, "/monitors/churn-prod/report").json()["current_rows"] == 2400
    for bad in ("", "x" * 129, "no spaces", "a/b"):
        refused = loopback.post(None, url, content=body, headers={**headers, "Idempotency-Key": bad})
        assert refused.status_code == 400, bad
        assert refused.json()["error"]["field"] == "Idempotency-Key"


def test_bad_bodies_are_refused(loopback: World) -> None:
    loopback.monitor()
    url = "/monitors/churn-prod/predictions"
    broken = loopback.post(None, url, content=b'{"rows": [', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"]["field"] == "body"
    both = loopback.post(None, url, json={"rows": [], "columns": {}})
    assert both.status_code == 400 and both.json()["error"]["field"] == "body"
    ragged = loopback.post(None, url, json={"columns": {"age": [1.0, 2.0], "income": [1.0]}})
    assert ragged.status_code == 400 and ragged.json()["error"]["field"] == "body"
    for media in (ARROW, PARQUET):
        garbage = loopback.post(None, url, content=b"not a table", headers={"Content-Type": media})
        assert garbage.status_code == 400 and garbage.json()["error"]["field"] == "body", media
    text = loopback.post(None, url, content=b"age\n1", headers={"Content-Type": "text/csv"})
    assert text.status_code == 415 and text.json()["error"]["type"] == "InvalidInputError"
    big = loopback.post(
        None, url, content=b" " * (MAX_UPLOAD + 1), headers={"Content-Type": "application/json"}
    )
    assert big.status_code == 413
    bomb = gzip.compress(b" " * (MAX_UPLOAD * 4))
    inflated = loopback.post(
        None, url, content=bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    assert inflated.status_code == 413
    bad_time = loopback.post(None, url, json={"rows": [{"age": 1.0, "timestamp": "yesterday"}]})
    assert bad_time.status_code == 400 and bad_time.json()["error"]["field"] == "timestamp"
    mismatch = loopback.post(None, "/monitors/churn-prod/labels", json={"ids": ["a"], "labels": []})
    assert mismatch.status_code == 400 and mismatch.json()["error"]["field"] == "labels"
    assert loopback.post(None, "/monitors/nope/predictions", json={"rows": []}).status_code == 404
    assert loopback.get(None, "/monitors/nope/report").status_code == 404
    assert loopback.get(None, "/alerts/12345").status_code == 404
    assert loopback.call("DELETE", None, "/alert-rules/12345").status_code == 404


# -- alerts ----------------------------------------------------------------------------------------------
def test_an_alert_opens_on_drift_is_acknowledged_and_shows_its_trail(loopback: World) -> None:
    loopback.monitor()
    bad = loopback.post(None, "/monitors/churn-prod/alert-rules", json={"metric": "drift.nope", "above": 1})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "metric"
    channel = loopback.post(
        None, "/monitors/churn-prod/alert-rules", json={"metric": "rows", "above": 1, "notify": ["sms:1"]}
    )
    assert channel.status_code == 400 and channel.json()["error"]["field"] == "notify"
    rule = loopback.post(
        None,
        "/monitors/churn-prod/alert-rules",
        json={
            "metric": "drift.score",
            "feature": "age",
            "above": 0.1,
            "for_windows": 2,
            "notify": ["slack:https://hooks.example/T/secret"],
        },
    )
    assert rule.status_code == 201, rule.text
    assert rule.json()["channels"] == ["slack:https://hooks.example/…"]
    rules = loopback.get(None, "/monitors/churn-prod/alert-rules").json()["rules"]
    assert [r["id"] for r in rules] == [rule.json()["id"]]

    url = "/monitors/churn-prod/predictions"
    loopback.post(None, url, json={"rows": _rows(traffic(1500, 20, day=0))})
    loopback.post(None, url, json={"rows": _rows(traffic(1500, 21, shift=2.0, day=1))})
    assert loopback.get(None, "/alerts").json()["alerts"] == []  # one drifted window is not two
    loopback.post(None, url, json={"rows": _rows(traffic(1500, 22, shift=2.0, day=2))})
    alerts = loopback.get(None, "/alerts", params={"monitor": "churn-prod", "state": "open"}).json()["alerts"]
    assert [(a["metric"], a["feature"], a["state"]) for a in alerts] == [("drift.score", "age", "open")]
    alert_id = alerts[0]["id"]

    acked = loopback.post(None, f"/alerts/{alert_id}/acknowledge", json={"user": "ana"})
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    assert acked.json()["acknowledged_by"] == "ana"
    detail = loopback.get(None, f"/alerts/{alert_id}").json()
    assert (detail["monitor"], detail["model"], detail["version"]) == ("churn-prod", "churn", 1)
    assert detail["run_id"] == loopback.run_id and detail["project"] == "alpha"
    loopback.client.app.state.alerts.flush()  # type: ignore[attr-defined]
    detail = loopback.get(None, f"/alerts/{alert_id}").json()
    assert [n["channel"] for n in detail["notifications"]] == ["slack:https://hooks.example/…"]
    assert loopback.sent[0][1]["run_id"] == loopback.run_id
    report = loopback.get(None, "/monitors/churn-prod/report").json()
    assert [a["id"] for a in report["alerts"]] == [alert_id]
    # The report's alerts say who acknowledged them, as GET /alerts/{id} does (the page's "by ana").
    assert [(a["state"], a["acknowledged_by"]) for a in report["alerts"]] == [("acknowledged", "ana")]

    resolved = loopback.post(None, f"/alerts/{alert_id}/resolve")
    assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
    assert loopback.post(None, f"/alerts/{alert_id}/acknowledge").status_code == 409
    assert loopback.call("DELETE", None, f"/alert-rules/{rule.json()['id']}").status_code == 204
    assert loopback.get(None, "/monitors/churn-prod/alert-rules").json()["rules"] == []


def test_a_report_can_leave_out_sections_and_window_test_detail(loopback: World) -> None:
    """``include`` and ``detail=summary``: the page's lighter report (30 days of hourly windows: 7 MB in
    full), with the same period figures and the heatmap's statistic, threshold and verdict per window."""
    loopback.monitor(segments=["country"])
    url = "/monitors/churn-prod/predictions"
    loopback.post(None, url, json={"rows": _rows(traffic(1500, 30, day=0))})
    loopback.post(None, url, json={"rows": _rows(traffic(1500, 31, shift=2.0, day=1))})
    full = loopback.get(None, "/monitors/churn-prod/report").json()
    assert {"windows", "segments", "distributions", "alerts"} <= set(full)
    score = full["windows"][-1]["scores"]["age"]
    assert {"scores", "p_value"} <= set(score) and score["drifted"] is True

    light = loopback.get(None, "/monitors/churn-prod/report", params={"detail": "summary"}).json()
    assert light["summary"] == full["summary"] and light["overall"] == full["overall"]
    assert light["segments"] == full["segments"] and light["distributions"] == full["distributions"]
    for lw, fw in zip(light["windows"], full["windows"], strict=True):
        assert set(lw) == set(fw) and lw["drifted"] == fw["drifted"]
        for column, s in lw["scores"].items():
            assert set(s) <= {"test", "statistic", "threshold", "drifted"}
            assert s == {k: v for k, v in fw["scores"][column].items() if k in s}

    only = loopback.get(None, "/monitors/churn-prod/report", params={"include": "windows, alerts"}).json()
    assert "segments" not in only and "distributions" not in only and only["windows"] == full["windows"]
    assert only["summary"] == full["summary"] and only["alerts"] == full["alerts"]
    none = loopback.get(None, "/monitors/churn-prod/report", params={"include": "segments"}).json()
    assert "windows" not in none and "alerts" not in none and none["segments"] == full["segments"]

    bad = loopback.get(None, "/monitors/churn-prod/report", params={"include": "windows,heatmap"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "include"
    assert "'heatmap'" in bad.json()["error"]["message"] and "distributions" in bad.json()["error"]["message"]
    html = loopback.get(None, "/monitors/churn-prod/report", params={"format": "html", "include": "windows"})
    assert html.status_code == 200 and "country=DE" in html.text  # the HTML page is always whole


# -- roles -----------------------------------------------------------------------------------------------
def test_roles_decide_who_reads_ingests_and_manages_rules(team: World) -> None:
    team.monitor()
    url = "/monitors/churn-prod/predictions"
    rows = {"rows": _rows(traffic(100, 30))}
    viewer = team.post("vic", url, json=rows)
    assert viewer.status_code == 403 and viewer.json()["error"]["type"] == "PermissionDeniedError"
    assert team.post("vic", "/monitors/churn-prod/labels", json={"ids": [], "labels": []}).status_code == 403
    assert team.post("bob", url, json=rows).status_code == 200
    assert team.get("vic", "/monitors/churn-prod/report").status_code == 200

    hidden = team.get("eve", "/monitors/churn-prod")
    missing = team.get("eve", "/monitors/nope")
    assert hidden.status_code == 404 and hidden.json()["error"]["message"] == "no monitor 'churn-prod'"
    assert missing.json()["error"]["message"] == "no monitor 'nope'"
    assert team.post("eve", url, json=rows).status_code == 404
    assert team.get("eve", "/monitors").json() == {"monitors": []}
    assert team.post("eve", "/monitors", json={"name": "x", "model": "churn:1"}).status_code == 404
    assert team.post("vic", "/monitors", json={"name": "x", "model": "churn:1"}).status_code == 403
    assert (
        team.call("PATCH", "bob", "/monitors/churn-prod", json={"segments": ["country"]}).status_code == 403
    )
    assert (
        team.call("PATCH", "mia", "/monitors/churn-prod", json={"segments": ["country"]}).status_code == 200
    )

    rule = team.post("bob", "/monitors/churn-prod/alert-rules", json={"metric": "rows", "above": 10})
    assert rule.status_code == 201 and rule.json()["created_by"] == "bob"
    assert (
        team.post("vic", "/monitors/churn-prod/alert-rules", json={"metric": "rows", "above": 1}).status_code
        == 403
    )
    rule_id = rule.json()["id"]
    team.post("bob", url, json=rows)
    alert_id = team.get("vic", "/alerts").json()["alerts"][0]["id"]
    assert team.get("eve", "/alerts").json() == {"alerts": []}
    assert team.get("eve", f"/alerts/{alert_id}").status_code == 404
    assert team.post("vic", f"/alerts/{alert_id}/acknowledge").status_code == 403
    assert team.post("bob", f"/alerts/{alert_id}/acknowledge").json()["acknowledged_by"] == "bob"
    assert team.call("DELETE", "eve", f"/alert-rules/{rule_id}").status_code == 404
    assert team.call("DELETE", "bob", f"/alert-rules/{rule_id}").status_code == 403
    assert team.call("DELETE", "mia", f"/alert-rules/{rule_id}").status_code == 204
    actions = [e.action for e in team.store.query_audit_events(limit=100)]
    assert {"create_monitor", "ingest_predictions", "create_alert_rule", "delete_alert_rule"} <= set(actions)


def test_batches_are_bounded_in_rows_and_json_in_size(
    loopback: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail.api.monitoring import ingest

    loopback.monitor()
    url = "/monitors/churn-prod/predictions"
    monkeypatch.setattr(ingest, "MAX_BATCH_ROWS", 1_000)
    many = traffic(1_001, 3)
    for media, body in ((PARQUET, _parquet(many)), (ARROW, _arrow_stream(many))):
        refused = loopback.post(None, url, content=body, headers={"Content-Type": media})
        assert refused.status_code == 400 and "at most 1,000 rows" in refused.json()["error"]["message"], (
            media
        )
    rows = loopback.post(None, url, json={"rows": _rows(many)})
    assert rows.status_code == 400 and rows.json()["error"]["field"] == "body"
    assert (
        loopback.post(
            None, url, content=_parquet(traffic(1_000, 3)), headers={"Content-Type": PARQUET}
        ).status_code
        == 200
    )
    # A small gzip body that inflates past the JSON bound stops there (the bound, not the upload limit).
    monkeypatch.setattr(ingest, "MAX_JSON_BATCH_BYTES", 1 << 20)
    bomb = gzip.compress(b" " * (8 << 20))
    inflated = loopback.post(
        None, url, content=bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    assert inflated.status_code == 413 and "JSON batch" in inflated.json()["error"]["message"]


def test_profiles_are_logged_by_members_like_rows(team: World) -> None:
    team.monitor()
    url = "/monitors/churn-prod/profiles"
    frame = traffic(500, 31, shift=2.0).drop(columns=["timestamp", "id"])
    profile = profile_batches(pa.Table.from_pandas(frame, preserve_index=False))
    body = {"profile": base64.b64encode(profile.to_bytes()).decode("ascii"), "window_start": T0}
    viewer = team.post("vic", url, json=body)
    assert viewer.status_code == 403 and viewer.json()["error"]["type"] == "PermissionDeniedError"
    assert team.post("eve", url, json=body).status_code == 404
    misaligned = team.post("bob", url, json={**body, "window_start": T0 + 1})
    assert misaligned.status_code == 400 and misaligned.json()["error"]["field"] == "window_start"
    done = team.post("bob", url, json=body, headers={"Idempotency-Key": "night-1"})
    assert done.status_code == 200, done.text
    assert done.json()["rows"] == 500 and done.json()["duplicate"] is False
    again = team.post("bob", url, json=body, headers={"Idempotency-Key": "night-1"})
    assert again.json()["duplicate"] is True
    report = team.get("vic", "/monitors/churn-prod/report").json()
    assert [w["rows"] for w in report["windows"]] == [500] and "age" in report["windows"][0]["drifted"]
    acc = {"n": 500, "confusion": {"1\x1f1": 400, "0\x1f1": 100}}
    perf = {"accumulators": {"": acc}, "window_start": T0}
    url = "/monitors/churn-prod/performance"
    assert team.post("vic", url, json=perf).status_code == 403
    done = team.post("bob", url, json=perf, headers={"Idempotency-Key": "night-1"})  # not the profile's
    assert done.status_code == 200 and done.json() == {"windows": [T0], "duplicate": False}, done.text
    again = team.post("bob", url, json=perf, headers={"Idempotency-Key": "night-1"})
    assert again.json() == {"windows": [], "duplicate": True}
    bad = team.post("bob", url, json=perf, headers={"Idempotency-Key": "a/b"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "Idempotency-Key"
    report = team.get("vic", "/monitors/churn-prod/report").json()
    assert report["windows"][0]["performance"]["labeled"] == 500
