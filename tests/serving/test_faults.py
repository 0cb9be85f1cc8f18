"""Faults around a running ``mltrail serve`` (issue 15, "Bad input and faults"): bad bodies counted by
reason, a tampered model blob on reload, and the team server stopped mid-run.

Covered elsewhere, against the same real processes: malformed JSON, wrong columns, wrong types and oversized
bodies naming the field (tests/serving/test_gateway.py ``test_bad_bodies_*``, ``test_an_oversized_*``); a
raising or hanging primary answered by the fallback within the budget, a crashing or hanging shadow
(test_gateway.py); a viewer key changing a spec is a 403 (tests/api/test_deployments_api.py).
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_world import HERE, MLTRAIL, Gateway, Home, frame, free_port, linear, serve
from test_gateway import _counter
from traffic import ROW, Traffic, ready, wait

import mltrail
from mltrail.entities import ApprovalPolicy
from mltrail.settings import Settings
from mltrail.store.blobs import BlobStore


@pytest.fixture(scope="module")
def plain(home: Home) -> Iterator[Gateway]:
    gateway = serve(home, "plain-dep", {"primary": "churn:1"}, "--poll", "0")
    yield gateway
    gateway.stop()


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (b"{not json", "body", "body"),
        (b'{"rows": [{"tenure": 1.0, "spend": 2.0}], "extra": 1}', "extra", "body"),
        (b'{"rows": [{"tenure": 1.0, "cost": 2.0}]}', "rows[0].spend", "columns"),
        (b'{"rows": [{"tenure": "long", "spend": 2.0}]}', "rows[0].tenure", "columns"),
        (b'{"columns": {"tenure": [1.0, 2.0], "spend": [3.0]}}', "columns", "body"),
    ],
)
def test_each_bad_body_names_its_field_and_is_counted_by_reason(
    plain: Gateway, body: bytes, field: str, reason: str
) -> None:
    before = _counter(plain.metrics(), "mltrail_gateway_rejected_total", reason=reason)
    response = httpx.post(
        f"{plain.url}/v1/deployments/plain-dep/predict",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["field"] == field and error["message"]
    assert _counter(plain.metrics(), "mltrail_gateway_rejected_total", reason=reason) == before + 1
    assert plain.predict({"rows": [ROW]}).status_code == 200  # and the next request is served


def test_an_oversized_body_is_refused_before_it_is_read_whole(plain: Gateway) -> None:
    before = _counter(plain.metrics(), "mltrail_gateway_rejected_total", reason="too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the gateway counts bytes as they arrive
        yield b'{"rows": ['
        for _ in range(40):
            yield b",".join([b'{"tenure": 1.0, "spend": 2.0}'] * 10_000) + b","
        yield b'{"tenure": 1.0, "spend": 2.0}]}'

    response = httpx.post(f"{plain.url}/v1/deployments/plain-dep/predict", content=chunks(), timeout=30)
    assert response.status_code == 413 and response.json()["error"]["field"] == "body"
    assert _counter(plain.metrics(), "mltrail_gateway_rejected_total", reason="too_large") == before + 1


def _tamper(home: Home, ref: str) -> None:
    """Overwrite the largest file of the version ``ref`` names in the blob store (same size, other bytes)."""
    version = mltrail.models.get(ref, settings=home.settings)
    largest = max(version.files, key=lambda f: f.size)
    path = Path(BlobStore(home.settings.blobs).path(largest.digest))
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.slow
def test_a_tampered_blob_on_reload_is_refused_the_old_model_serves_and_an_alert_is_raised(home: Home) -> None:
    settings = home.settings
    train = frame(500, 7)
    x = train[["tenure", "spend"]]
    with mltrail.init(project="shop", capture=False, settings=settings) as run:
        model = linear.LogisticRegression().fit(x, (train["tenure"] > 30).astype(int))
        tampered = mltrail.models.register(
            "churn", run=run, model=model, input_example=x.head(5), path="m-tampered", settings=settings
        )
    _tamper(home, f"churn:{tampered.version}")
    mltrail.models.transition("churn", 1, to="guarded", settings=settings)
    mltrail.monitor("churn@production", name="churn-tamper", settings=settings).close()
    gateway = serve(
        home, "tamper-dep", {"primary": "churn@guarded", "monitor": "churn-tamper"}, "--poll", "0.2"
    )
    try:
        with Traffic(gateway) as traffic:
            wait(lambda: traffic.answered >= 10, "traffic")
            mltrail.models.transition("churn", tampered.version, to="guarded", settings=settings)
            wait(lambda: "refused" in ready(gateway)["reload"], "the refusal")
            seen = traffic.answered
            wait(lambda: traffic.answered >= seen + 10, "answers after the refusal")
        assert traffic.failures == []
        assert set(traffic.models) == {"churn:1"}  # the old model kept serving
        page = ready(gateway)
        assert page["models"] == {"primary": "churn:1"}
        refused = page["reload"]["refused"]
        assert refused["models"] == {"churn@guarded": f"churn:{tampered.version}"}
        # the blob store's check: the bytes no longer hash to the digest they were stored under
        assert refused["error"].startswith("IntegrityError") and "is corrupt" in refused["error"], refused
        assert _counter(gateway.metrics(), "mltrail_gateway_reloads_total", outcome="refused") == 1
        mon = mltrail.monitor("churn@production", name="churn-tamper", settings=settings)
        try:
            alerts = [a for a in mon.alerts() if a.metric == "gateway.reload_failed"]
            assert len(alerts) == 1 and alerts[0].state.value == "open"
            assert alerts[0].detail is not None and "tamper-dep" in alerts[0].detail
            assert "reload to v1 refused, still serving v1" in alerts[0].detail
            assert "is corrupt" in alerts[0].detail
        finally:
            mon.close()
        assert "refused v1" in gateway.log.read_text()
    finally:
        gateway.stop()


@pytest.fixture
def team_home(tmp_path: Path, live_server: Any) -> Iterator[tuple[Any, Settings]]:
    """A team server with churn:1 registered, a monitor and a deployment, and HTTP settings pointed at it."""
    server = live_server.start_server(tmp_path / "server" / "mltrail")
    settings = Settings(home=tmp_path / "client", server=server.url, flush_interval=0.05)
    train = frame(500, 1)
    x = train[["tenure", "spend"]]
    with mltrail.init(project="shop", capture=False, settings=settings) as run:
        run.log_dataset(train, name="churn-train", role="train")
        model = linear.LogisticRegression().fit(x, (train["tenure"] < 20).astype(int))
        mltrail.models.register("churn", run=run, model=model, input_example=x.head(5), settings=settings)
    client = mltrail.models.client(settings=settings)
    client.set_policy("churn", ApprovalPolicy(protected_stages=(), protected_aliases=()))
    mltrail.models.transition("churn", 1, to="production", settings=settings)
    mltrail.monitor("churn@production", name="churn-team", settings=settings).close()
    mltrail.deployments.create(
        "team-dep", {"primary": "churn@production", "monitor": "churn-team"}, settings=settings
    )
    yield server, settings
    server.stop()
    from mltrail.sdk.client.connection import close_connections

    close_connections()  # the HTTP clients of this server


def _serve_against(server: Any, settings: Settings) -> Gateway:
    port = free_port()
    log = Path(str(settings.home)) / f"serve-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    env.pop("MLTRAIL_API_KEY", None)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                MLTRAIL,
                "--server",
                server.url,
                "serve",
                "team-dep",
                "--port",
                str(port),
                "--poll",
                "0.2",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=log.parent,
        )
    gateway = Gateway(f"http://127.0.0.1:{port}", "team-dep", process, log)
    try:
        wait(lambda: _up(gateway), "the gateway", 60)
    except AssertionError:
        gateway.stop()
        raise AssertionError(log.read_text()) from None
    return gateway


def _up(gateway: Gateway) -> bool:
    if gateway.process.poll() is not None:
        raise AssertionError(f"mltrail serve exited: {gateway.log.read_text()}")
    try:
        return httpx.get(f"{gateway.url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.slow
def test_with_the_team_server_down_serving_goes_on_and_no_monitor_row_is_lost(
    team_home: tuple[Any, Settings], live_server: Any
) -> None:
    server, settings = team_home
    gateway = _serve_against(server, settings)
    try:
        before = [gateway.predict({"rows": [ROW]}).status_code for _ in range(30)]
        server.kill()  # as when the machine or the OOM killer takes it down
        during = [gateway.predict({"rows": [ROW]}).status_code for _ in range(50)]
        time.sleep(1.0)  # polls and monitor retries meet the closed port
        during += [gateway.predict({"rows": [ROW]}).status_code for _ in range(20)]
        assert before == [200] * 30 and during == [200] * 70  # served from the loaded model
        metrics = gateway.metrics()
        assert _counter(metrics, "mltrail_gateway_reload_checks_failed_total") >= 1
        assert _counter(metrics, "mltrail_gateway_monitor_rows_total") == 100
        server = live_server.restart_server(server)  # the same port, folder and database
        mon = mltrail.monitor("churn@production", name="churn-team", settings=settings)
        try:
            wait(lambda: mon.report(last="1d")["current_rows"] >= 100, "the rows kept while away", 60)
            time.sleep(1.0)  # nothing more should arrive: every row once
            assert mon.report(last="1d")["current_rows"] == 100
        finally:
            mon.close()
        assert gateway.predict({"rows": [ROW]}).status_code == 200
        assert ready(gateway)["reload"]["refusals"] == 0
    finally:
        gateway.stop()
        server.stop()
