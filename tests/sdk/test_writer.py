"""The shared flusher: one writer thread per transport serves every live run; finish flushes in the caller."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest

import mltrail
from mltrail.sdk.tracking import writer
from mltrail.sdk.tracking.embedded import InProcessTransport
from mltrail.settings import Settings

OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}


def _writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("mltrail-writer-") and t.is_alive()]


def test_live_runs_share_one_thread_and_points_land_while_they_run(
    settings: Settings, embedded: InProcessTransport
) -> None:
    before = len(_writer_threads())
    runs = [mltrail.init(project="p", capture=OFF, settings=settings, transport=embedded) for _ in range(5)]
    assert len(_writer_threads()) <= before + 1
    for i, run in enumerate(runs):
        run.log({"x": float(i)}, step=0)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # durable within a flush interval or so, without finish()
        counts = [embedded.tracking.get_run(r.id).metrics.get("x") for r in runs]
        if all(c is not None and c.count == 1 for c in counts):
            break
        time.sleep(0.02)
    else:
        pytest.fail("points were not written while the runs were live")
    for run in reversed(runs):  # latest first, so the active run goes back to none
        run.finish()
    assert [embedded.tracking.get_run(r.id).status.value for r in runs] == ["finished"] * 5


def test_finish_sends_the_rest_from_the_callers_thread(
    settings: Settings, embedded: InProcessTransport
) -> None:
    run = mltrail.init(project="p", capture=OFF, settings=settings, transport=embedded)
    seen: list[str] = []
    original = embedded.log_metrics

    def recording(run_id: str, batch: Any) -> None:
        seen.append(threading.current_thread().name)
        original(run_id, batch)

    embedded.log_metrics = recording  # type: ignore[method-assign]
    try:
        for step in range(10):
            run.log({"x": float(step)}, step=step)
        run.finish()
    finally:
        del embedded.log_metrics
    assert embedded.tracking.get_run(run.id).metrics["x"].count == 10
    assert threading.current_thread().name in seen


def test_the_flusher_thread_ends_when_idle_and_a_new_run_starts_another(
    settings: Settings, embedded: InProcessTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "IDLE_EXIT", 0.1)
    monkeypatch.setattr(writer, "_IDLE_POLL", 0.05)
    mltrail.init(project="p", capture=OFF, settings=settings, transport=embedded).finish()
    deadline = time.monotonic() + 5
    while (id(embedded), os.getpid()) in writer._flushers and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (id(embedded), os.getpid()) not in writer._flushers
    with mltrail.init(project="p", capture=OFF, settings=settings, transport=embedded) as run:
        run.log({"x": 1.0})
    assert embedded.tracking.get_run(run.id).metrics["x"].count == 1


class _BrokenHeartbeat:
    """A transport whose heartbeat raises something unexpected; everything else goes to the real one."""

    def __init__(self, inner: InProcessTransport) -> None:
        self.inner = inner

    def heartbeat(self, run_id: str) -> None:
        raise TypeError("unexpected")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_one_runs_unexpected_error_does_not_stop_the_others(
    settings: Settings, embedded: InProcessTransport
) -> None:
    broken = _BrokenHeartbeat(embedded)
    bad = mltrail.init(project="p", capture=OFF, settings=settings, transport=broken)  # type: ignore[arg-type]
    good = mltrail.init(project="p", capture=OFF, settings=settings, transport=broken)  # type: ignore[arg-type]
    time.sleep(settings.heartbeat_interval + 3 * settings.flush_interval)  # a heartbeat came due and raised
    good.log({"x": 1.0})
    deadline = time.monotonic() + 5
    while "x" not in embedded.tracking.get_run(good.id).metrics and time.monotonic() < deadline:
        time.sleep(0.02)
    assert embedded.tracking.get_run(good.id).metrics["x"].count == 1
    good.finish()
    bad.finish()
