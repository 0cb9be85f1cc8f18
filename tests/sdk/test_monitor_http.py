"""``mltrail.monitor`` in server mode, against real ``mltrail server`` processes on 127.0.0.1.

The model is registered through the server (a run that logged its training DataFrame), then watched from
"the serving process" with ``server=`` or ``MLTRAIL_SERVER``: predictions, labels, reports and alert rules
all land on the server, the embedded store is never written; a viewer's key is refused, and predictions
logged while the server is down stay queued and arrive exactly once after it comes back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest
from test_monitor import frame

import mltrail
from mltrail.errors import PermissionDeniedError, StoreError
from mltrail.sdk.monitoring.http import HttpMonitoring
from mltrail.services.accounts.service import AccountService
from mltrail.settings import Settings
from mltrail.store.factory import open_store

linear = pytest.importorskip("sklearn.linear_model")
DAY = 86400.0


def _registered(settings: Settings, url: str) -> tuple[str, Any]:
    """``churn-…:1`` registered on the server at ``url`` from a run that logged its training data."""
    name = f"churn-{uuid.uuid4().hex[:6]}"
    train = frame(4000, 1)
    features = train[["tenure", "spend"]]
    clf = linear.LogisticRegression().fit(features, (train["tenure"] < 20).astype(int))
    with mltrail.init(project="shop", capture=False, settings=settings, server=url) as run:
        run.log({"val/acc": 0.96}, step=0)
        run.log_dataset(train, name="churn-train", role="train")
        mltrail.models.register(name, run=run, model=clf, input_example=features.head(5))
    return name, clf


def _server_report(url: str, monitor: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    with httpx.Client(base_url=f"{url}/api/v1", headers=headers, timeout=30) as http:
        response = http.get(f"/monitors/{monitor}/report", params={"last": "7d"})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


@dataclass
class TeamServer:
    url: str
    keys: dict[str, str]


@pytest.fixture(scope="module")
def team_server(tmp_path_factory: pytest.TempPathFactory, live_server: Any) -> Iterator[TeamServer]:
    """A server with ``--auth``: bob is a member, vic a viewer."""
    home = tmp_path_factory.mktemp("monitor-team-server") / "mltrail"
    store = open_store(f"sqlite:///{home / 'mltrail.db'}")
    accounts = AccountService(store)
    keys = {
        name: accounts.create_user(name, role)[1].secret
        for name, role in [("bob", "member"), ("vic", "viewer")]
    }
    store.close()
    server = live_server.start_server(home, "--auth")
    yield TeamServer(server.url, keys)
    server.stop()


def test_predictions_labels_reports_and_alerts_land_on_the_server(
    settings: Settings, http_server: Any, tmp_path: Path
) -> None:
    url = http_server.url
    name, clf = _registered(settings, url)
    with mltrail.monitor(f"{name}:1", server=url, segments=["plan"], flush_interval=0.05) as mon:
        assert isinstance(mon.client, HttpMonitoring)
        assert mon.entity.features == ("tenure", "spend")  # from the signature, resolved by the server
        assert mon.entity.reference_source.startswith("train dataset churn-train")
        start = time.time() - 6 * DAY
        for day in range(6):
            batch = frame(2000, 10 + day, shift=1.5 if day >= 4 else 0.0)
            x = batch[["tenure", "spend"]]
            began = time.perf_counter()
            mon.log(
                batch,
                clf.predict(x),
                ids=[f"{day}-{i}" for i in range(len(batch))],
                scores=clf.predict_proba(x)[:, 1],
                timestamps=np.full(len(batch), start + day * DAY + 3600),
            )
            assert time.perf_counter() - began < 1.0  # queued, not sent in the call
        truth = (frame(2000, 15, shift=1.5)["tenure"] < 20).astype(int)
        matched, unknown = mon.log_labels([f"5-{i}" for i in range(2000)] + ["nope"], [*truth, 0])
        assert (matched, unknown) == (2000, 1)
        assert mon.rows_ingested == 12000 and mon.rows_dropped == 0

        served = _server_report(url, mon.name)  # what the server itself reports
        assert served["period"]["windows"] == 6 and served["current_rows"] == 12000
        assert served["windows"][0]["drifted"] == [] and "tenure" in served["windows"][5]["drifted"]
        assert served["windows"][5]["performance"]["labeled"] == 2000
        assert "plan=basic" in served["segments"]
        report = mon.report(last="7d")
        assert (
            report["current_rows"] == 12000
            and report["windows"][5]["drifted"] == served["windows"][5]["drifted"]
        )
        assert report["performance"]["training"]["accuracy"] == 0.96
        assert "<svg" in mon.report_html(tmp_path / "report.html").read_text(encoding="utf-8")

        rule = mon.add_alert("drift.score", feature="tenure", above=0.1)
        with httpx.Client(base_url=f"{url}/api/v1", timeout=30) as http:
            rules = http.get(f"/monitors/{mon.name}/alert-rules").json()["rules"]
        assert [(r["id"], r["metric"], r["feature"]) for r in rules] == [(rule.id, "drift.score", "tenure")]
        mon.log(frame(500, 99, shift=2.0), np.zeros(500), timestamps=np.full(500, start + 5 * DAY + 7200))
        mon.flush()
        opened = mon.alerts("open")
        assert [a.feature for a in opened] == ["tenure"] and opened[0].rule_id == rule.id
        assert opened[0].monitor_id == mon.entity.id
    assert not (settings.home / "mltrail.db").exists()  # nothing went to an embedded store


def test_mltrail_server_selects_the_server_and_a_viewer_is_refused_at_flush(
    settings: Settings, team_server: TeamServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_SERVER", team_server.url)
    monkeypatch.setenv("MLTRAIL_API_KEY", team_server.keys["bob"])
    name, clf = _registered(settings, team_server.url)
    batch = frame(300, 3)
    with mltrail.monitor(f"{name}:1", flush_interval=0.05) as mon:
        mon.log(batch, clf.predict(batch[["tenure", "spend"]]), ids=[f"b-{i}" for i in range(300)])
        assert mon.log_labels(["b-0", "b-1", "zz"], [1, 0, 1]) == (2, 1)
    monitor_name = mon.name

    monkeypatch.setenv("MLTRAIL_API_KEY", team_server.keys["vic"])
    viewer = mltrail.monitor(f"{name}:1", flush_interval=0.05)  # a viewer may read the monitor...
    try:
        viewer.log(batch, np.zeros(300))
        with pytest.raises(PermissionDeniedError, match="needs the member role") as info:
            viewer.flush()  # ...but not write to it: the batch is dropped, and said so
        assert "vic is viewer" in info.value.message
        assert any("300 rows was refused" in note for note in getattr(info.value, "__notes__", []))
        assert viewer.rows_dropped == 300 and viewer.rows_ingested == 0
        viewer.flush()  # the refusal is reported once
        assert viewer.report(last="7d")["current_rows"] == 300  # reading is allowed
        with pytest.raises(PermissionDeniedError):
            viewer.add_alert("rows", below=1)
    finally:
        viewer.close()
    with pytest.raises(PermissionDeniedError):
        mltrail.monitor(f"{name}:1", name=f"{monitor_name}-mine").close()  # creating needs member too
    served = _server_report(
        team_server.url, monitor_name, {"Authorization": f"Bearer {team_server.keys['bob']}"}
    )
    assert served["current_rows"] == 300


def test_rows_logged_while_the_server_is_down_land_once_it_is_back(
    settings: Settings, live_server: Any, tmp_path: Path
) -> None:
    server = live_server.start_server(tmp_path / "server")
    servers = [server]
    try:
        name, clf = _registered(settings, server.url)
        mon = mltrail.monitor(f"{name}:1", server=server.url, flush_interval=0.05)
        try:
            server.stop()  # nothing listens on the port now
            batch = frame(1000, 4)
            began = time.perf_counter()
            mon.log(batch.iloc[:600], clf.predict(batch[["tenure", "spend"]].iloc[:600]))
            mon.log(batch.iloc[600:], clf.predict(batch[["tenure", "spend"]].iloc[600:]))
            assert time.perf_counter() - began < 1.0
            with pytest.raises(StoreError, match="1000 rows still queued") as info:
                mon.flush(timeout=3)
            assert "cannot reach the mltrail server" in info.value.message
            assert mon.writer.queued_rows == 1000 and mon.rows_dropped == 0

            servers.append(live_server.restart_server(server))  # the same port, folder and database
            mon.flush(timeout=60)
            assert mon.rows_ingested == 1000 and mon.writer.queued_rows == 0
        finally:
            mon.close()
        assert _server_report(server.url, mon.name)["current_rows"] == 1000  # exactly once
    finally:
        for live in servers:
            live.stop()


def test_batches_over_the_servers_upload_limit_are_sent_smaller(
    settings: Settings, live_server: Any, tmp_path: Path
) -> None:
    server = live_server.start_server(tmp_path / "server", "--max-upload-mb", "0.25")
    try:
        name, clf = _registered(settings, server.url)
        batch = frame(50_000, 5)  # about 2 MB as Arrow: 413 whole, so it goes in pieces
        with mltrail.monitor(f"{name}:1", server=server.url, flush_interval=0.05) as mon:
            mon.log(batch, clf.predict(batch[["tenure", "spend"]]), ids=[f"r{i}" for i in range(50_000)])
            mon.flush()
            assert mon.rows_ingested == 50_000 and mon.rows_dropped == 0
            assert isinstance(mon.client, HttpMonitoring) and mon.client.max_batch_bytes is not None
            assert mon.client.max_batch_bytes < pa.Table.from_pandas(batch).nbytes  # learnt: it was split
            assert mon.log_labels(["r0", "r49999"], [1, 0]) == (2, 0)  # every piece's ids arrived
        assert _server_report(server.url, mon.name)["current_rows"] == 50_000
    finally:
        server.stop()


def test_an_explicit_reference_is_profiled_here_and_sent(settings: Settings, http_server: Any) -> None:
    name, clf = _registered(settings, http_server.url)
    reference = frame(3000, 7)
    reference["prediction"] = clf.predict(reference[["tenure", "spend"]])
    with mltrail.monitor(f"{name}:1", server=http_server.url, reference=reference) as mon:
        assert mon.entity.reference_source == "given"
        assert mon.entity.alias is None and [v.version for v in mon.entity.versions] == [1]
        mon.log(frame(200, 8), np.ones(200))
    report = _server_report(http_server.url, mon.name)
    assert report["current_rows"] == 200
    # The given reference has the prediction column, so the output is compared too.
    assert "prediction" in {c["column"] for c in report["overall"]["columns"]}


def test_a_reference_that_is_not_a_profile_is_a_400_naming_it(settings: Settings, http_server: Any) -> None:
    name, _ = _registered(settings, http_server.url)
    body = {"name": f"{name}-bad", "model": f"{name}:1", "reference": "bm90IGEgcHJvZmlsZQ=="}
    response = httpx.post(f"{http_server.url}/api/v1/monitors", json=body)
    assert response.status_code == 400
    assert "reference" in response.text
