"""TrackingService rules over the real SQLite store: run references, crashes, search bounds, histories."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.entities import MetricsBatch, RunStatus
from mltrail.errors import ConflictError, InvalidInputError, NotFoundError, RunFinishedError
from mltrail.services.tracking.service import TrackingService
from mltrail.store.factory import open_store


@pytest.fixture
def tracking(tmp_path: Path) -> Iterator[TrackingService]:
    store = open_store(f"sqlite:///{tmp_path / 't.db'}")
    yield TrackingService(store, heartbeat_timeout=0.5)
    store.close()


def _start(tracking: TrackingService, name: str, run_id: str | None = None, project: str = "p") -> str:
    run_id = run_id or uuid.uuid4().hex
    tracking.start_run(run_id=run_id, project=project, name=name, user="ana")
    return run_id


def test_resolve_by_id_prefix_and_name(tracking: TrackingService) -> None:
    a = _start(tracking, "alpha", run_id="abcd0" + "0" * 27)
    b = _start(tracking, "beta", run_id="abcd1" + "1" * 27)
    assert tracking.resolve_run(a) == a
    assert tracking.resolve_run("abcd0") == a
    assert tracking.resolve_run("beta") == b
    with pytest.raises(ConflictError, match="matches 2 runs"):
        tracking.resolve_run("abcd")
    with pytest.raises(NotFoundError):
        tracking.resolve_run("abc")  # 3 characters: too short for a prefix, and no run is named so
    with pytest.raises(NotFoundError):
        tracking.resolve_run("a")
    with pytest.raises(InvalidInputError):
        tracking.resolve_run("  ")
    with pytest.raises(NotFoundError):
        tracking.resolve_run("alpha", project="other")


def test_short_reference_only_matches_exact_names(tracking: TrackingService) -> None:
    run = _start(tracking, "x1")
    assert tracking.resolve_run("x1") == run
    with pytest.raises(NotFoundError):
        tracking.resolve_run(run[:2])


def test_stale_heartbeat_reads_crashed_and_recovers(tracking: TrackingService) -> None:
    run = _start(tracking, "r")
    tracking.heartbeat(run, at=time.time() - 10)
    assert tracking.get_run(run).status == RunStatus.CRASHED
    tracking.heartbeat(run)
    assert tracking.get_run(run).status == RunStatus.RUNNING
    tracking.finish_run(run)
    with pytest.raises(RunFinishedError):
        tracking.heartbeat(run)


def test_a_finished_run_is_not_finished_again(tracking: TrackingService) -> None:
    run = _start(tracking, "r")
    tracking.finish_run(run, RunStatus.FINISHED, end_time=1_000_000.0)
    tracking.finish_run(run, RunStatus.FINISHED, end_time=1_000_000.0)  # the same finish retried: a no-op
    for status, end in ((RunStatus.CRASHED, 1.0), (RunStatus.FAILED, None), (RunStatus.FINISHED, 5.0)):
        with pytest.raises(RunFinishedError):
            tracking.finish_run(run, status, end_time=end)
    stored = tracking.get_run(run)
    assert stored.status == RunStatus.FINISHED and stored.end_time == 1_000_000.0


def test_listeners_hear_each_finish_once_and_cannot_fail_it(tracking: TrackingService) -> None:
    heard: list[str] = []

    def broken(run_id: str) -> None:
        raise RuntimeError("the budget check is down")

    tracking.on_run_finished.extend([broken, heard.append])
    finished, failed = _start(tracking, "ok"), _start(tracking, "bad")
    tracking.finish_run(finished, end_time=1_000_000.0)
    tracking.finish_run(finished, end_time=1_000_000.0)  # a retried finish: already heard
    tracking.finish_run(failed, RunStatus.FAILED, error={"type": "KILLED", "message": "killed"})
    assert heard == [finished, failed]
    assert tracking.get_run(finished).status == RunStatus.FINISHED


def test_finish_cannot_set_running_and_search_bounds(tracking: TrackingService) -> None:
    run = _start(tracking, "r")
    with pytest.raises(InvalidInputError):
        tracking.finish_run(run, status=RunStatus.RUNNING)
    with pytest.raises(InvalidInputError, match="limit"):
        tracking.search_runs("p", limit=0)
    with pytest.raises(InvalidInputError, match="offset"):
        tracking.search_runs("p", offset=-1)
    with pytest.raises(NotFoundError):
        tracking.search_runs("no-such-project")


def test_history_downsampling_keeps_spikes(tracking: TrackingService) -> None:
    run = _start(tracking, "r")
    n = 20_000
    values = [0.0] * n
    values[12_345] = 99.0
    values[777] = -5.0
    batch = MetricsBatch(keys=["x"] * n, steps=list(range(n)), values=values, wall_times=[1.0] * n)
    tracking.log_metrics(run, batch)
    history = tracking.metric_history(run, "x", max_points=200)
    assert history.downsampled and history.total_points == n
    assert len(history.steps) <= 200
    assert 12_345 in history.steps and 777 in history.steps
    assert max(history.values) == 99.0 and min(history.values) == -5.0
    assert history.steps == sorted(history.steps)
    window = tracking.metric_history(run, "x", min_step=100, max_step=199)
    assert window.steps == list(range(100, 200))
    with pytest.raises(InvalidInputError):
        tracking.metric_history(run, "x", max_points=1)
    with pytest.raises(NotFoundError):
        tracking.metric_history(run, "nope")


def test_metric_batch_with_ragged_columns_is_rejected(tracking: TrackingService) -> None:
    run = _start(tracking, "r")
    bad = MetricsBatch(keys=["x", "y"], steps=[0], values=[1.0, 2.0], wall_times=[0.0, 0.0])
    with pytest.raises(InvalidInputError):
        tracking.log_metrics(run, bad)


def test_keys_with_control_characters_are_refused_and_unicode_is_kept() -> None:
    from mltrail.services.tracking.validation import validate_key

    for bad in ("a\x00b", "tab\there", "new\nline", "del\x7f", "a\x1fb"):
        with pytest.raises(InvalidInputError, match="control character"):
            validate_key(bad, "metrics")
    for good in ("val/loss", "top 5 acc", "точность", "ü\u00a0x", "~"):
        assert validate_key(good, "metrics") == good
