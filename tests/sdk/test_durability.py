"""What survives when the process dies, exits, or the store fails: real processes, real SQLite files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import mltrail
from mltrail.entities import MetricsBatch, RunStatus
from mltrail.errors import StoreError
from mltrail.sdk.client.connection import embedded_transport
from mltrail.sdk.tracking.embedded import InProcessTransport
from mltrail.services.container import Services
from mltrail.settings import Settings

OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(body))
    return path


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"MLTRAIL_DIR": str(home), "MLTRAIL_CAPTURE": "0", "PYTHONUNBUFFERED": "1", **extra})
    return env


def test_sigkill_loses_at_most_the_last_second_and_run_reads_crashed(tmp_path: Path) -> None:
    home = tmp_path / "store"
    script = _script(
        tmp_path,
        """
        import sys, time, mltrail
        run = mltrail.init(project="kill")
        print(run.id, flush=True)
        step = 0
        while True:
            run.log({"x": float(step)}, step=step)
            if step % 100 == 0:
                print(step, time.time(), flush=True)
            step += 1
            time.sleep(0.0005)
        """,
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        env=_env(home, MLTRAIL_HEARTBEAT_INTERVAL="0.2"),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    progress: list[tuple[int, float]] = []
    deadline = time.time() + 3.0
    while time.time() < deadline:
        line = proc.stdout.readline()
        step_s, at_s = line.split()
        progress.append((int(step_s), float(at_s)))
    os.kill(proc.pid, signal.SIGKILL)
    killed_at = time.time()
    proc.wait()
    proc.stdout.close()
    # Every step the script reported more than a second before the kill must be durable.
    must_have = max(step for step, at in progress if at <= killed_at - 1.0)
    settings = Settings(home=home, heartbeat_timeout=1.0)
    tracking = embedded_transport(settings).tracking
    history = tracking.metric_history(run_id, "x")
    assert max(history.steps) >= must_have
    assert history.steps == list(range(len(history.steps)))  # no holes
    time.sleep(1.2)
    assert tracking.get_run(run_id).status == RunStatus.CRASHED


def test_interpreter_exit_flushes_and_finishes(tmp_path: Path) -> None:
    home = tmp_path / "store"
    script = _script(
        tmp_path,
        """
        import mltrail
        run = mltrail.init(project="exit")
        print(run.id, flush=True)
        for i in range(20000):
            run.log({"x": float(i)}, step=i)
        """,
    )
    out = subprocess.run(
        [sys.executable, str(script)], env=_env(home), capture_output=True, text=True, check=True
    )
    run = embedded_transport(Settings(home=home)).tracking.get_run(out.stdout.strip())
    assert run.status == RunStatus.FINISHED
    assert run.metrics["x"].count == 20000


def test_uncaught_exception_marks_the_run_failed(tmp_path: Path) -> None:
    home = tmp_path / "store"
    script = _script(
        tmp_path,
        """
        import mltrail
        run = mltrail.init(project="boom")
        print(run.id, flush=True)
        run.log({"x": 1.0})
        raise RuntimeError("diverged at step 7")
        """,
    )
    out = subprocess.run([sys.executable, str(script)], env=_env(home), capture_output=True, text=True)
    assert out.returncode == 1
    assert "diverged at step 7" in out.stderr
    run = embedded_transport(Settings(home=home)).tracking.get_run(out.stdout.strip())
    assert run.status == RunStatus.FAILED
    assert run.error is not None and run.error["type"] == "RuntimeError"


def test_two_processes_write_one_sqlite_file(tmp_path: Path) -> None:
    home = tmp_path / "store"
    script = _script(
        tmp_path,
        """
        import mltrail
        for r in range(3):
            with mltrail.init(project="shared") as run:
                for i in range(20000):
                    run.log({"a": float(i), "b": float(-i)}, step=i)
                run.summary["done"] = True
        print("ok", flush=True)
        """,
    )
    procs = [
        subprocess.Popen(
            [sys.executable, str(script)], env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert b"locked" not in err
    tracking = embedded_transport(Settings(home=home)).tracking
    page = tracking.search_runs("shared", limit=100)
    assert page.total == 6
    for run in page.runs:
        assert run.status == RunStatus.FINISHED
        assert run.metrics["a"].count == 20000 and run.metrics["b"].count == 20000
        assert run.summary == {"done": True}


class FailingTransport:
    """The transport seam with a store that stops accepting writes after ``ok_batches`` batches."""

    def __init__(self, inner: InProcessTransport, ok_batches: int) -> None:
        self.inner = inner
        self.ok_batches = ok_batches

    def log_metrics(self, run_id: str, batch: MetricsBatch) -> None:
        if self.ok_batches <= 0:
            raise StoreError("disk I/O error: database or disk is full")
        self.ok_batches -= 1
        self.inner.log_metrics(run_id, batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_store_failure_surfaces_at_finish(settings: Settings, tmp_path: Path) -> None:
    inner = embedded_transport(settings)
    failing = FailingTransport(inner, ok_batches=1)
    run = mltrail.init(project="p", capture=OFF, settings=settings, transport=failing)  # type: ignore[arg-type]
    run.log({"x": 1.0}, step=0)
    run.flush()
    for i in range(1, 100):
        run.log({"x": float(i)}, step=i)
    with pytest.raises(StoreError, match="99 metric points"):
        run.finish()
    assert inner.tracking.get_run(run.id).metrics["x"].count == 1


def test_full_disk_is_a_clear_error_at_finish(tmp_path: Path) -> None:
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tiny tmpfs here: {done.stderr.decode().strip()}")
    settings = Settings(home=mount / "store", flush_interval=0.05)
    transport = InProcessTransport(Services(settings))
    try:
        run = mltrail.init(project="p", capture=OFF, settings=settings, transport=transport)
        with pytest.raises(StoreError) as info:
            for i in range(400_000):
                run.log({"a_long_metric_name_to_fill_pages": float(i)}, step=i)
            run.finish()
        assert "could not be written" in str(info.value)
        assert "full" in str(info.value).lower()
    finally:
        transport.close()
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_no_git_repository_is_noted_and_the_run_proceeds(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = tmp_path / "plain"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    capture = {"git": True, "code": False, "environment": True, "system_metrics": False, "console": False}
    with mltrail.init(project="p", capture=capture, settings=settings) as run:
        run.log({"x": 1.0})
    stored = embedded_transport(settings).tracking.get_run(run.id)
    assert "skipped" in stored.context["git"]
    assert stored.context["environment"]["packages"]["pytest"]
    assert stored.status == RunStatus.FINISHED


def test_failing_store_keeps_memory_bounded_and_training_moving(settings: Settings) -> None:
    inner = embedded_transport(settings)
    failing = FailingTransport(inner, ok_batches=0)
    run = mltrail.init(project="p", capture=OFF, settings=settings, transport=failing)  # type: ignore[arg-type]
    run._writer.pending_limit = run._writer.max_pending_points = 1_000
    run.log({"x": 0.0}, step=0)
    deadline = time.monotonic() + 5
    while not run._writer.failures and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    for i in range(1, 50_000):
        run.log({"x": float(i)}, step=i)
    assert time.monotonic() - started < 5  # never stalls training
    assert run._writer.pending_points <= 1_000
    with pytest.raises(StoreError, match="dropped while the queue was full"):
        run.finish()


class FlakyTransport:
    """Fails the first ``failures`` metric batches, then recovers; records each (client_id, seq) tried."""

    def __init__(self, inner: InProcessTransport, failures: int) -> None:
        self.inner = inner
        self.failures = failures
        self.attempts: list[tuple[str, int, int]] = []

    def log_metrics(self, run_id: str, batch: MetricsBatch) -> None:
        self.attempts.append((batch.client_id, batch.seq, len(batch)))
        if self.failures > 0:
            self.failures -= 1
            raise StoreError("database is locked")
        self.inner.log_metrics(run_id, batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_failed_batch_is_retried_with_the_same_sequence_number(settings: Settings) -> None:
    flaky = FlakyTransport(embedded_transport(settings), failures=2)
    run = mltrail.init(project="p", capture=OFF, settings=settings, transport=flaky)  # type: ignore[arg-type]
    for i in range(1000):
        run.log({"x": float(i)}, step=i)
    run.finish()
    first = flaky.attempts[0]
    assert flaky.attempts[:3] == [first, first, first]  # the same batch, same (client_id, seq), three times
    assert all(seq > first[1] for _, seq, _ in flaky.attempts[3:])
    stored = embedded_transport(settings).tracking.get_run(run.id)
    assert stored.metrics["x"].count == 1000
