"""``mltrail sync``: an offline run uploaded into a real server or an embedded store, exactly once; a killed
training process uploaded up to its last journaled point and finished as crashed; journals in use left
alone; an unreachable server leaves everything and exits 1."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from typer.testing import CliRunner, Result

import mltrail
from mltrail.cli.main import app
from mltrail.entities import RunStatus
from mltrail.sdk.client.connection import embedded_transport
from mltrail.sdk.tracking.embedded import InProcessTransport
from mltrail.sdk.tracking.journal import Journal
from mltrail.sdk.tracking.journal_transport import close_journaling_transports
from mltrail.settings import Settings

OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}
STEPS = 25_000  # two keys: 50,000 points


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, live_server: Any) -> Iterator[Any]:
    live = live_server.start_server(tmp_path_factory.mktemp("sync-server") / "mltrail")
    yield live
    live.stop()


@pytest.fixture(autouse=True)
def _no_server_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("MLTRAIL_SERVER", "MLTRAIL_API_KEY", "MLTRAIL_MODE", "MLTRAIL_JOURNAL_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # wide tables, so cells are not cut
    yield
    close_journaling_transports()


def _sync(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _offline_run(tmp_path: Path, journal_dir: Path) -> tuple[str, bytes, str]:
    """A run with every kind of call, made offline; returns its id, the artifact's bytes and the dataset
    digest."""
    settings = Settings(home=tmp_path / "never", journal_dir=journal_dir, mode="offline", flush_interval=0.05)
    weights = tmp_path / "weights.bin"
    weights.write_bytes(os.urandom(300_000))
    with mltrail.init(project="offline", capture=OFF, settings=settings, config={"lr": 0.01}) as run:
        for step in range(STEPS):
            loss = math.nan if step == 7 else (math.inf if step == 8 else 1.0 / (step + 1))
            run.log({"loss": loss, "acc": step / STEPS}, step=step)
        run.set_tags(team="vision")
        run.summary["best_acc"] = 0.99
        run.log_artifact(weights, name="model/weights.bin")
        link = run.log_dataset(pa.table({"x": [1, 2, 3]}), name="train-table")
    data = weights.read_bytes()
    weights.write_bytes(b"changed after logging")  # the journal kept its own copy
    assert not settings.home.exists()
    return run.id, data, link.dataset.digest


def _check_delivered(store: InProcessTransport, run_id: str, weights: bytes, digest: str) -> None:
    stored = store.tracking.get_run(run_id)
    assert stored.status == RunStatus.FINISHED
    assert stored.params == {"lr": 0.01} and stored.tags == {"team": "vision"}
    assert stored.summary == {"best_acc": 0.99}
    for key in ("loss", "acc"):
        history = store.tracking.metric_history(run_id, key)
        assert history.steps == list(range(STEPS))  # every point, none twice (the primary key)
        assert stored.metrics[key].count == STEPS  # and no batch applied twice (the summary counts)
    loss = store.tracking.metric_history(run_id, "loss").values
    assert math.isnan(loss[7]) and loss[8] == math.inf and loss[9] == 0.1
    _, stream = store.artifacts.open(run_id, "model/weights.bin")
    with stream:
        assert stream.read() == weights
    assert [link.dataset.digest for link in store.datasets.for_run(run_id)] == [digest]


@pytest.mark.parametrize("target", ["server", "embedded"])
def test_an_offline_run_syncs_exactly_once(
    target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    journal_dir = tmp_path / "journal"
    run_id, weights, digest = _offline_run(tmp_path, journal_dir)
    if target == "server":
        live = request.getfixturevalue("server")
        args, home = ["--server", live.url], live.home
    else:
        home = tmp_path / "laptop-store"
        args = []
    args = ["--dir", str(home), "sync", *args, "--journal-dir", str(journal_dir)]

    first = _sync(*args, "--json")
    assert first.exit_code == 0, first.output
    report = orjson.loads(first.stdout)
    assert [(r["run_id"], r["done"], r["points"], r["left"]) for r in report["runs"]] == [
        (run_id, True, 2 * STEPS, 0)
    ]
    assert not (journal_dir / run_id).exists()
    store = embedded_transport(Settings(home=home))
    _check_delivered(store, run_id, weights, digest)

    again = _sync(*args)
    assert again.exit_code == 0 and "Nothing to sync" in again.stdout
    _check_delivered(store, run_id, weights, digest)


def test_a_killed_training_process_is_synced_up_to_its_last_point_and_crashed(tmp_path: Path) -> None:
    journal_dir = tmp_path / "journal"
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import time, mltrail
            run = mltrail.init(project="killed")
            print(run.id, flush=True)
            step = 0
            while True:
                run.log({"x": float(step)}, step=step)
                if step == 2000:
                    run.flush()  # steps 0..2000 are in the journal now; the rest may or may not be
                    print("going", flush=True)
                step += 1
                time.sleep(0.0002)
            """
        )
    )
    env = {
        **os.environ,
        "MLTRAIL_MODE": "offline",
        "MLTRAIL_JOURNAL_DIR": str(journal_dir),
        "MLTRAIL_DIR": str(tmp_path / "never"),
        "MLTRAIL_CAPTURE": "0",
        "MLTRAIL_FLUSH_INTERVAL": "0.05",
    }
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    assert proc.stdout.readline().strip() == "going"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()

    journal = Journal.open(journal_dir / run_id)  # the dead process's lock is free
    assert journal is not None and not journal.finished
    journaled = [r for r in journal.records() if r.op == "log_metrics"]
    held = sum(len(r.data["keys"]) for r in journaled)
    last_time = journal.last_time
    journal.release()
    assert held > 2000

    home = tmp_path / "store"
    result = _sync("--dir", str(home), "sync", "--journal-dir", str(journal_dir))
    assert result.exit_code == 0, result.output
    assert "finished as crashed" in result.stdout
    tracking = embedded_transport(Settings(home=home)).tracking
    history = tracking.metric_history(run_id, "x")
    assert history.steps == list(range(held))  # exactly what the journal held: the first `held` steps
    assert history.values == [float(s) for s in range(held)]
    stored = tracking.get_run(run_id)
    assert stored.status == RunStatus.CRASHED and stored.end_time == last_time
    assert not (journal_dir / run_id).exists()


def test_a_journal_in_use_is_left_alone_and_an_unreachable_server_exits_1(
    tmp_path: Path, live_server: Any
) -> None:
    journal_dir = tmp_path / "journal"
    settings = Settings(home=tmp_path / "never", journal_dir=journal_dir, mode="offline", flush_interval=0.05)
    live = mltrail.init(project="busy", capture=OFF, settings=settings)
    live.log({"x": 1.0})
    live.flush()
    done = mltrail.init(project="done", capture=OFF, settings=settings)
    done.log({"x": 1.0})
    done.finish()

    port = live_server.free_port()
    result = _sync(
        "sync", "--server", f"http://127.0.0.1:{port}", "--journal-dir", str(journal_dir), "--json"
    )
    assert result.exit_code == 1
    runs = {r["run_id"]: r for r in orjson.loads(result.stdout)["runs"]}
    assert runs[live.id]["in_use"] and runs[live.id]["sent"] == 0
    assert not runs[done.id]["done"] and runs[done.id]["left"] > 0
    assert "StoreError" in runs[done.id]["error"]
    assert (journal_dir / live.id).is_dir() and (journal_dir / done.id).is_dir()
    live.finish()
