"""``JournalingTransport``: what a run does through a server is journaled first and delivered in the
background — offline mode, a record the server refuses, a server that cannot be reached (and the next run
uploading what was left), transient failures the writer never sees, and ``create_run``'s refusals."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

import mltrail
from mltrail.entities import MetricsBatch, RunStatus
from mltrail.errors import ConflictError, InvalidInputError, StoreError
from mltrail.sdk.client.connection import embedded_transport
from mltrail.sdk.tracking.embedded import InProcessTransport
from mltrail.sdk.tracking.http import HttpTransport
from mltrail.sdk.tracking.journal import Journal
from mltrail.sdk.tracking.journal_transport import (
    JournalingTransport,
    close_journaling_transports,
    journaling_transport,
)
from mltrail.settings import Settings

OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}


def _wait_gone(folder: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_without_a_server_the_embedded_store_keeps_no_journal(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "store", journal_dir=tmp_path / "journal", flush_interval=0.05)
    with mltrail.init(project="p", capture=OFF, settings=settings) as run:
        run.log({"x": 1.0})
    assert isinstance(run._transport, InProcessTransport)
    assert not settings.journal_dir.exists()


def test_mode_must_be_online_or_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_MODE", "sometimes")
    with pytest.raises(InvalidInputError) as info:
        Settings.from_env()
    assert info.value.field == "MLTRAIL_MODE"
    monkeypatch.setenv("MLTRAIL_MODE", " Offline ")
    assert Settings.from_env().mode == "offline"


def test_offline_mode_journals_every_call_and_sends_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        home=tmp_path / "store",
        journal_dir=tmp_path / "journal",
        mode="offline",
        flush_interval=0.02,
        heartbeat_interval=0.02,
    )
    # A server is configured, but offline wins: nothing goes to it (nothing listens there anyway).
    with (
        caplog.at_level(logging.WARNING, logger="mltrail"),
        mltrail.init(
            project="off", capture=OFF, settings=settings, server="http://127.0.0.1:9", config={"lr": 0.1}
        ) as run,
    ):
        for step in range(300):
            run.log({"x": float(step)}, step=step)
            time.sleep(0.001)  # long enough for the writer to want several heartbeats
        run.set_tags(team="a")
        run.summary["best"] = float("nan")
        run.update_config({"k": 2})
        run.set_notes("offline")
        run.log_text("notes/a.txt", "hi")
        with pytest.raises(StoreError, match="offline"):
            run._transport.get_run(run.id)
    assert not settings.home.exists()
    journal = Journal.open(settings.journal_dir / run.id)  # released at finish: `mltrail sync` may take it
    assert journal is not None
    ops = [record.op for record in journal.records()]
    journal.release()
    assert ops[0] == "create_run" and ops[-1] == "finish_run"
    assert set(ops) == {
        "create_run",
        "log_metrics",
        "set_tags",
        "set_summary",
        "set_params",
        "set_notes",
        "log_artifact_bytes",
        "finish_run",
    }
    assert journal.meta["server"] == "http://127.0.0.1:9" and journal.meta["project"] == "off"
    assert any("mltrail sync" in r.getMessage() and run.id in r.getMessage() for r in caplog.records)


@pytest.fixture(scope="module")
def small_upload_server(tmp_path_factory: pytest.TempPathFactory, live_server: Any) -> Iterator[Any]:
    server = live_server.start_server(tmp_path_factory.mktemp("limited") / "mltrail", "--max-upload-mb", "1")
    yield server
    server.stop()


def test_a_record_the_server_refuses_is_kept_aside_and_the_rest_is_delivered(
    small_upload_server: Any, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "unused", journal_dir=tmp_path / "journal", flush_interval=0.05)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(2 << 20))  # over the server's 1 MiB limit: a 413, for good
    small = tmp_path / "small.txt"
    small.write_text("fits")
    with mltrail.init(project="rej", capture=OFF, settings=settings, server=small_upload_server.url) as run:
        for step in range(1000):
            run.log({"x": float(step)}, step=step)
        run.log_artifact(big)
        run.log_artifact(small)
        for step in range(1000, 2000):
            run.log({"x": float(step)}, step=step)
        run.summary["done"] = True
    assert not (settings.journal_dir / run.id).exists()
    kept = settings.journal_dir / "rejected" / run.id
    lines = [orjson.loads(line) for line in (kept / "rejected.jsonl").read_bytes().splitlines()]
    assert [line["op"] for line in lines] == ["log_artifact"]
    assert lines[0]["record"]["file"].endswith("/big.bin") and lines[0]["error_type"] != "StoreError"

    server_side = embedded_transport(Settings(home=small_upload_server.home))
    stored = server_side.tracking.get_run(run.id)
    assert stored.status == RunStatus.FINISHED and stored.summary == {"done": True}
    assert stored.metrics["x"].count == 2000
    assert [a.path for a in server_side.artifacts.list(run.id)] == ["small.txt"]


def test_an_unreachable_server_journals_the_run_and_the_next_run_uploads_it(
    tmp_path: Path, live_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    port = live_server.free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        home=tmp_path / "unused", journal_dir=tmp_path / "journal", flush_interval=0.05, sync_timeout=0.3
    )
    with caplog.at_level(logging.WARNING, logger="mltrail"):
        run = mltrail.init(project="later", capture=OFF, settings=settings, server=url, config={"lr": 0.1})
        for step in range(5000):
            run.log({"x": float(step)}, step=step)
        run.summary["best"] = 0.5
        run.finish()  # warns, does not raise: the data is safe on disk
    assert run.status == RunStatus.FINISHED
    folder = settings.journal_dir / run.id
    assert (folder / "journal.log").stat().st_size > 0
    left = [r.getMessage() for r in caplog.records if "`mltrail sync`" in r.getMessage()]
    assert len(left) == 1 and str(folder) in left[0] and run.id in left[0]

    close_journaling_transports()  # the training process ends: its lock is released
    server = live_server.start_server(tmp_path / "server", port=port)
    try:
        journaling_transport(settings.journal_dir, url)  # the next run's transport adopts the journal
        _wait_gone(folder)
        assert not folder.exists()
        stored = embedded_transport(Settings(home=server.home)).tracking.get_run(run.id)
        assert stored.status == RunStatus.FINISHED  # its own finish, not "crashed"
        assert stored.metrics["x"].count == 5000 and stored.params == {"lr": 0.1}
        assert stored.summary == {"best": 0.5}
    finally:
        server.stop()


class FlakyTarget:
    """The embedded store behind a link that fails the first ``failures`` metric batches."""

    def __init__(self, inner: InProcessTransport, failures: int) -> None:
        self.inner = inner
        self.failures = failures
        self.batches: list[tuple[str, int]] = []

    def log_metrics(self, run_id: str, batch: MetricsBatch) -> None:
        self.batches.append((batch.client_id, batch.seq))
        if self.failures > 0:
            self.failures -= 1
            raise StoreError("cannot reach the mltrail server: connection refused")
        self.inner.log_metrics(run_id, batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_transient_failures_are_retried_in_the_background_and_never_reach_the_writer(
    settings: Settings,
) -> None:
    inner = embedded_transport(settings)
    flaky = FlakyTarget(inner, failures=5)
    transport = JournalingTransport(flaky, settings.journal_dir, adopt=False)  # type: ignore[arg-type]
    try:
        run = mltrail.init(project="p", capture=OFF, settings=settings, transport=transport)
        for step in range(3000):
            run.log({"x": float(step)}, step=step)
        run.finish()
    finally:
        transport.close()
    assert run._writer.failures == 0 and run._writer.last_error is None
    first = flaky.batches[0]
    assert flaky.batches[:6] == [first] * 6  # the same batch, (client_id, seq) kept, until it went through
    stored = inner.tracking.get_run(run.id)
    assert stored.status == RunStatus.FINISHED and stored.metrics["x"].count == 3000
    assert not (settings.journal_dir / run.id).exists()


def test_create_run_refused_by_the_server_raises_at_once_and_leaves_nothing(
    http_server: Any, tmp_path: Path
) -> None:
    run_id = uuid.uuid4().hex
    fields: dict[str, Any] = {
        "project": "refused",
        "user": None,
        "config": {},
        "tags": {},
        "notes": None,
        "context": {},
    }
    with HttpTransport(http_server.url) as http:
        http.create_run(run_id=run_id, name="first", start_time=1.0, **fields)
    journal_dir = tmp_path / "journal"
    transport = journaling_transport(journal_dir, http_server.url)
    with pytest.raises(ConflictError):  # a 409 from the server, not a journaled run
        transport.create_run(run_id=run_id, name="second", start_time=2.0, **fields)
    assert list(journal_dir.iterdir()) == []
    settings = Settings(home=tmp_path / "unused", journal_dir=journal_dir)
    with pytest.raises(InvalidInputError):  # refused before anything is written or sent
        mltrail.init(project="bad\x01name", capture=OFF, settings=settings, server=http_server.url)
    assert list(journal_dir.iterdir()) == []


def test_log_dataset_returns_the_server_version_online_and_a_provisional_one_offline(
    http_server: Any, tmp_path: Path
) -> None:
    settings = Settings(home=http_server.home, journal_dir=tmp_path / "journal", flush_interval=0.05)
    table = pa.table({"x": [1.0, float("nan"), 3.0]})
    with mltrail.init(project="ds", capture=OFF, settings=settings, server=http_server.url) as run:
        online = run.log_dataset(table, name="tbl")
        with pytest.raises(InvalidInputError) as info:
            run.log_dataset(table, role="training")
        assert info.value.field == "role"
    assert online.dataset.version >= 1 and online.dataset.id > 0
    offline = dataclasses.replace(settings, mode="offline")
    with mltrail.init(project="ds", capture=OFF, settings=offline) as run:
        link = run.log_dataset(table, name="tbl")
    assert link.dataset.version == 0 and link.dataset.digest == online.dataset.digest


def test_an_artifact_copy_is_freed_once_delivered_and_the_original_may_change(
    settings: Settings, tmp_path: Path
) -> None:
    inner = embedded_transport(settings)
    transport = JournalingTransport(inner, settings.journal_dir, adopt=False)
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"epoch 1" * 1000)
    try:
        run = mltrail.init(project="p", capture=OFF, settings=settings, transport=transport)
        (logged,) = run.log_artifact(weights)
        weights.write_bytes(b"epoch 2")  # the journal copied it when it was logged
        run.flush()
        assert list((settings.journal_dir / run.id / "files").iterdir()) == []  # the run is still open
        run.finish()
    finally:
        transport.close()
    stored, stream = inner.artifacts.open(run.id, "weights.bin")
    with stream:
        assert stream.read() == b"epoch 1" * 1000
    assert (stored.digest, stored.size) == (logged.digest, logged.size)
