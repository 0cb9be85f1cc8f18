"""Contract tests of metric logging: NaN/inf, duplicate steps, summaries, at-most-once batches, histories."""

from __future__ import annotations

import math
import multiprocessing
import time
import uuid
from pathlib import Path

import pytest

from mltrail.entities import MetricsBatch
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore


def new_run(store: SqlStore, project: str) -> str:
    run_id = uuid.uuid4().hex
    store.create_run(run_id=run_id, project=project, name="m", user=None, start_time=time.time())
    return run_id


def batch(key: str, steps: list[int], values: list[float], **kw: object) -> MetricsBatch:
    return MetricsBatch([key] * len(steps), steps, values, [float(s) for s in steps], **kw)  # type: ignore[arg-type]


def same(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b, strict=True)
    )


def test_nan_and_inf_round_trip(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    values = [1.0, math.nan, math.inf, -math.inf, -0.5]
    assert store.log_metrics(run_id, batch("x", [0, 1, 2, 3, 4], values))
    history = store.get_metric_history(run_id, "x")
    assert history.steps == [0, 1, 2, 3, 4]
    assert same(history.values, values)
    assert history.wall_times == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert history.total_points == 5
    summary = store.get_run(run_id).metrics["x"]
    assert summary.last == -0.5
    assert summary.last_step == 4
    assert summary.min == -math.inf
    assert summary.max == math.inf
    assert summary.count == 5


def test_nan_summary(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    store.log_metrics(run_id, batch("all_nan", [0, 1], [math.nan, math.nan]))
    store.log_metrics(run_id, batch("ends_nan", [0, 1], [2.0, 1.0]))
    store.log_metrics(run_id, batch("ends_nan", [2], [math.nan]))
    metrics = store.get_run(run_id).metrics
    assert math.isnan(metrics["all_nan"].last)
    assert metrics["all_nan"].min is None and metrics["all_nan"].max is None
    assert math.isnan(metrics["ends_nan"].last)
    assert (metrics["ends_nan"].min, metrics["ends_nan"].max, metrics["ends_nan"].count) == (1.0, 2.0, 3)


def test_incremental_summaries_across_batches(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    store.log_metrics(run_id, MetricsBatch(["a", "b", "a"], [0, 0, 1], [5.0, 1.0, 3.0], [0.0, 0.0, 1.0]))
    store.log_metrics(run_id, MetricsBatch(["a", "b"], [2, 1], [4.0, -1.0], [2.0, 1.0]))
    metrics = store.get_run(run_id).metrics
    a, b = metrics["a"], metrics["b"]
    assert (a.last, a.last_step, a.min, a.max, a.count) == (4.0, 2, 3.0, 5.0, 3)
    assert (b.last, b.last_step, b.min, b.max, b.count) == (-1.0, 1, -1.0, 1.0, 2)


def test_duplicate_steps_last_write_wins(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    # Within one batch…
    store.log_metrics(run_id, batch("x", [0, 1, 1, 2], [1.0, 9.0, 2.0, 3.0]))
    assert store.get_metric_history(run_id, "x").values == [1.0, 2.0, 3.0]
    # …and across batches: overwriting the max and the last step recomputes the summary.
    store.log_metrics(run_id, batch("x", [2, 0], [0.5, 0.25]))
    history = store.get_metric_history(run_id, "x")
    assert history.steps == [0, 1, 2]
    assert history.values == [0.25, 2.0, 0.5]
    summary = store.get_run(run_id).metrics["x"]
    assert (summary.last, summary.last_step, summary.min, summary.max, summary.count) == (
        0.5,
        2,
        0.25,
        2.0,
        3,
    )
    # A batch that goes back and then past the end.
    store.log_metrics(run_id, batch("x", [1, 5], [7.0, math.nan]))
    summary = store.get_run(run_id).metrics["x"]
    assert math.isnan(summary.last)
    assert (summary.last_step, summary.min, summary.max, summary.count) == (5, 0.25, 7.0, 4)


def test_batches_applied_at_most_once(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    other = new_run(store, project)
    assert store.log_metrics(run_id, batch("x", [0], [1.0], client_id="c1", seq=1))
    assert not store.log_metrics(run_id, batch("x", [1], [2.0], client_id="c1", seq=1))
    assert store.log_metrics(run_id, batch("x", [1], [3.0], client_id="c1", seq=2))
    assert store.log_metrics(run_id, batch("x", [2], [4.0], client_id="c2", seq=1))
    assert store.log_metrics(other, batch("x", [0], [5.0], client_id="c1", seq=1))  # other run: own sequence
    # An empty client id disables the check.
    assert store.log_metrics(run_id, batch("x", [3], [6.0]))
    assert store.log_metrics(run_id, batch("x", [3], [7.0]))
    assert store.get_metric_history(run_id, "x").values == [1.0, 3.0, 4.0, 7.0]
    assert store.get_run(run_id).metrics["x"].count == 4


def test_history_step_range(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    store.log_metrics(run_id, batch("x", list(range(10)), [float(i) for i in range(10)]))
    assert store.get_metric_history(run_id, "x", min_step=3, max_step=5).steps == [3, 4, 5]
    assert store.get_metric_history(run_id, "x", min_step=8).steps == [8, 9]
    assert store.get_metric_history(run_id, "x", max_step=1).steps == [0, 1]
    assert store.get_metric_history(run_id, "x", min_step=20).steps == []


def test_missing_run_or_key(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    with pytest.raises(NotFoundError):
        store.get_metric_history(run_id, "nope")
    with pytest.raises(NotFoundError):
        store.get_metric_history(uuid.uuid4().hex, "x")
    with pytest.raises(NotFoundError):
        store.log_metrics(uuid.uuid4().hex, batch("x", [0], [1.0]))


def test_bad_batches_change_nothing(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    with pytest.raises(InvalidInputError):
        store.log_metrics(run_id, MetricsBatch(["x", "y"], [0], [1.0], [0.0]))
    with pytest.raises(InvalidInputError):
        store.log_metrics(run_id, MetricsBatch(["x"], [0], ["nope"], [0.0], client_id="c", seq=1))  # type: ignore[list-item]
    assert store.get_run(run_id).metrics == {}
    assert store.log_metrics(run_id, batch("x", [0], [1.0], client_id="c", seq=1))


def test_many_keys_and_large_batch(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    keys = [f"k/{i} ✓" for i in range(700) for _ in range(3)]
    steps = [s for _ in range(700) for s in range(3)]
    store.log_metrics(run_id, MetricsBatch(keys, steps, [float(s) for s in steps], [0.0] * len(keys)))
    metrics = store.get_run(run_id).metrics
    assert len(metrics) == 700
    assert all(m.count == 3 and m.last == 2.0 for m in metrics.values())
    # A batch that overwrites some of those keys goes the upsert path.
    store.log_metrics(run_id, MetricsBatch(keys[:600], steps[:600], [-1.0] * 600, [0.0] * 600))
    assert store.get_metric_history(run_id, "k/0 ✓").values == [-1.0, -1.0, -1.0]
    assert store.get_run(run_id).metrics["k/0 ✓"].max == -1.0


def _write_points(url: str, run_id: str, points: int) -> None:
    store = open_store(url)
    try:
        for start in range(0, points, 1000):
            steps = list(range(start, start + 1000))
            store.log_metrics(
                run_id, MetricsBatch(["loss"] * 1000, steps, [float(s) for s in steps], [0.0] * 1000)
            )
    finally:
        store.close()


def test_two_processes_write_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared' / 'mltrail.db'}"
    store = open_store(url)
    run_ids = [uuid.uuid4().hex, uuid.uuid4().hex]
    for run_id in run_ids:
        store.create_run(run_id=run_id, project="p", name="c", user=None, start_time=time.time())
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_points, args=(url, run_id, 20_000)) for run_id in run_ids]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    try:
        assert [w.exitcode for w in workers] == [0, 0]
        for run_id in run_ids:
            history = store.get_metric_history(run_id, "loss")
            assert history.steps == list(range(20_000))
            assert store.get_run(run_id).metrics["loss"].count == 20_000
    finally:
        store.close()


def _open_and_write(url: str, index: int) -> None:
    store = open_store(url)
    try:
        run_id = uuid.uuid4().hex
        store.create_run(run_id=run_id, project="p", name=f"r{index}", user=None, start_time=time.time())
        store.log_metrics(run_id, MetricsBatch(["x"], [0], [1.0], [0.0]))
    finally:
        store.close()


def test_processes_opening_a_new_sqlite_file_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'mltrail.db'}"
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_open_and_write, args=(url, i)) for i in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    store = open_store(url)
    try:
        assert store.get_project("p").run_count == 3
    finally:
        store.close()


def test_sqlite_writer_waits_for_another_writers_lock(tmp_path: Path) -> None:
    import sqlite3
    import threading

    db = tmp_path / "locked.db"
    store = open_store(f"sqlite:///{db}")
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock for a while
        threading.Timer(0.5, lambda: other.execute("COMMIT")).start()
        start = time.perf_counter()
        store.create_run(run_id=uuid.uuid4().hex, project="p", name="w", user=None, start_time=1.0)
        assert time.perf_counter() - start >= 0.4
        assert store.get_project("p").run_count == 1
    finally:
        other.close()
        store.close()
