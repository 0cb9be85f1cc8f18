"""Against a real ``mltrail server`` process: the SDK end to end over HTTP, and bad input over the wire."""

from __future__ import annotations

import gzip
import hashlib
import math
from pathlib import Path

import httpx
import orjson
import pyarrow as pa
import pytest
from live_server import LiveServer

import mltrail
from mltrail.entities import MetricsBatch, RunStatus
from mltrail.errors import (
    ConflictError,
    InvalidFilterError,
    InvalidInputError,
    NotFoundError,
    RunFinishedError,
    StoreError,
)
from mltrail.sdk.tracking.http import HttpTransport
from mltrail.settings import Settings

OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}


def test_sdk_end_to_end_over_http(server: LiveServer, http: httpx.Client, tmp_path: Path) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\x00\x01" * 300_000)
    folder = tmp_path / "plots"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    table = pa.table({"x": [1, 2, 3], "y": ["a", "b", None]})
    local = Settings(home=tmp_path / "unused", flush_interval=0.05)
    with mltrail.init(
        project="e2e", config={"lr": 0.01}, capture=OFF, settings=local, server=server.url
    ) as run:
        for step in range(10_000):
            run.log({"loss": 1.0 / (step + 1), "acc": step / 10_000}, step=step)
        run.summary["best_acc"] = 0.9999
        link = run.log_dataset(table, name="train-table", role="train")
        run.log_artifact(weights, name="model/weights.bin")
        run.log_artifact(folder)
    assert not (tmp_path / "unused").exists()  # nothing was written locally
    stored = http.get(f"/runs/{run.id}").json()
    assert stored["status"] == "finished" and stored["params"] == {"lr": 0.01}
    assert stored["summary"] == {"best_acc": 0.9999}
    assert stored["metrics"]["loss"]["count"] == 10_000 and stored["metrics"]["acc"]["count"] == 10_000
    history = http.get(f"/runs/{run.id}/metrics/history", params={"key": "loss"}).json()
    assert history["steps"] == list(range(10_000))
    assert history["values"] == [1.0 / (s + 1) for s in range(10_000)]
    datasets = http.get(f"/runs/{run.id}/datasets").json()
    assert datasets[0]["dataset"]["digest"] == link.dataset.digest and datasets[0]["dataset"]["num_rows"] == 3
    assert [c["name"] for c in datasets[0]["dataset"]["schema"]] == ["x", "y"]
    paths = {a["path"]: a for a in http.get(f"/runs/{run.id}/artifacts").json()}
    assert set(paths) == {"model/weights.bin", "plots/a.txt"}
    download = http.get(f"/runs/{run.id}/artifacts/model/weights.bin")
    assert download.content == weights.read_bytes()
    assert download.headers["x-content-sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    ranged = http.get(f"/runs/{run.id}/artifacts/model/weights.bin", headers={"Range": "bytes=1-4"})
    assert ranged.status_code == 206 and ranged.content == b"\x01\x00\x01\x00"
    found = http.get(
        "/runs", params={"project": "e2e", "filter": "metrics.acc > 0.5", "sort": "-metrics.acc"}
    )
    assert [r["id"] for r in found.json()["runs"]] == [run.id]


def test_server_errors_raise_the_same_types_in_the_sdk(server: LiveServer) -> None:
    with HttpTransport(server.url, attempts=1) as transport:
        run = transport.create_run(
            run_id="a" * 32,
            project="errs",
            name="r",
            user=None,
            config={},
            tags={},
            notes=None,
            context={},
            start_time=1.0,
        )
        assert run.status == RunStatus.RUNNING
        with pytest.raises(ConflictError):
            transport.create_run(
                run_id="a" * 32,
                project="errs",
                name="other",
                user=None,
                config={},
                tags={},
                notes=None,
                context={},
                start_time=2.0,
            )
        with pytest.raises(NotFoundError):
            transport.get_run("f" * 32)
        with pytest.raises(InvalidInputError) as bad_key:
            transport.set_tags(run.id, {"": "x"})
        assert bad_key.value.field == "tags"
        with pytest.raises(InvalidInputError):
            transport.log_artifact_bytes(run.id, "../x", b"x")
        transport.finish_run(run.id, RunStatus.FINISHED, None)
        with pytest.raises(RunFinishedError):
            transport.heartbeat(run.id)
    with httpx.Client(base_url=f"{server.url}/api/v1") as http:
        response = http.get("/runs", params={"project": "errs", "filter": 'params.x = "unterminated'})
    assert response.status_code == 400 and response.json()["error"]["type"] == InvalidFilterError.__name__
    assert response.json()["error"]["position"] == 11


def test_unreachable_server_is_a_store_error() -> None:
    with (
        HttpTransport("http://127.0.0.1:9", attempts=2, backoff=0.01) as transport,
        pytest.raises(StoreError),
    ):
        transport.get_run("x" * 32)


def test_nan_inf_and_duplicate_batches_over_http(server: LiveServer, http: httpx.Client) -> None:
    with HttpTransport(server.url) as transport:
        run = transport.create_run(
            run_id="b" * 32,
            project="nan",
            name="r",
            user=None,
            config={},
            tags={},
            notes=None,
            context={},
            start_time=1.0,
        )
        batch = MetricsBatch(
            keys=["v"] * 4,
            steps=[0, 1, 2, 3],
            values=[math.nan, math.inf, -math.inf, 1.5],
            wall_times=[1.0] * 4,
            client_id="dup",
            seq=1,
        )
        transport.log_metrics(run.id, batch)
        transport.log_metrics(run.id, batch)  # a retry of the same (client_id, seq)
        stored = transport.get_run(run.id)
    assert stored.metrics["v"].count == 4
    assert stored.metrics["v"].min == -math.inf and stored.metrics["v"].max == math.inf
    values = http.get(f"/runs/{run.id}/metrics/history", params={"key": "v"}).json()["values"]
    assert values == ["NaN", "Infinity", "-Infinity", 1.5]
    raw = orjson.dumps(
        {"keys": ["v"], "steps": [9], "values": [2.0], "wall_times": [1.0], "client_id": "dup", "seq": 1}
    )
    again = http.post(
        f"/runs/{run.id}/metrics", content=gzip.compress(raw), headers={"Content-Encoding": "gzip"}
    )
    assert again.json()["applied"] is False
    assert http.get(f"/runs/{run.id}").json()["metrics"]["v"]["count"] == 4


def test_bad_input_over_the_wire(server: LiveServer, http: httpx.Client) -> None:
    run_id = http.post("/runs", json={"project": "bad", "name": "r"}).json()["id"]
    malformed = http.post("/runs", content=b'{"project": ', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["error"]["field"] == "body"
    wrong = http.post("/runs", json={"project": "bad", "name": "r", "start_time": "yesterday"})
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "start_time"
    traversal = http.put(f"/runs/{run_id}/artifacts/%2E%2E/%2E%2E/etc/passwd", content=b"x")
    assert traversal.status_code == 400
    big = http.put(f"/runs/{run_id}/artifacts/big.bin", content=b"0" * (2 << 20))
    assert big.status_code == 413
    data = b"hello"
    mismatch = http.put(
        f"/runs/{run_id}/artifacts/h.txt",
        content=data,
        headers={"X-Content-SHA256": hashlib.sha256(b"other").hexdigest()},
    )
    assert mismatch.status_code == 400
    assert http.get(f"/runs/{run_id}/artifacts").json() == []
    digest = hashlib.sha256(data).hexdigest()
    assert not list((server.home / "blobs").rglob(digest))
    assert not [p for p in (server.home / "blobs" / "incoming").rglob("*") if p.is_file()]
    sql = http.get("/runs", params={"project": "bad", "filter": 'tags.`a\' OR 1=1 --` = "x"'})
    assert sql.status_code == 200 and sql.json()["runs"] == []


def test_non_loopback_bind_is_refused_without_insecure(tmp_path: Path) -> None:
    import subprocess

    from live_server import MLTRAIL

    result = subprocess.run(
        [MLTRAIL, "--dir", str(tmp_path), "server", "--host", "0.0.0.0", "--no-auth"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "--insecure" in result.stderr
