"""Idempotency keys of prediction batches (SQLite and PostgreSQL): a key merges once, is kept a week,
and goes with its monitor."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from mltrail.store.monitoring import WindowDelta
from mltrail.store.sql import SqlStore

DAY = 86400.0


def _monitor_id(store: SqlStore, project: str) -> tuple[int, str]:
    name = f"mon-{uuid.uuid4().hex[:8]}"
    monitor = store.create_monitor(
        name=name,
        project=project,
        model=None,
        version=None,
        run_id=None,
        features=["age"],
        prediction="prediction",
        task="classification",
        granularity="day",
        segments=[],
        schema={},
        drift={},
        training_metrics={},
        reference=b"",
        reference_source="test",
        created_at=0.0,
        created_by=None,
    )
    return monitor.id, name


def _delta(rows: int) -> list[WindowDelta]:
    return [WindowDelta("", "day", 0.0, rows, b"p", {})]


def _concat(stored: bytes, delta: bytes) -> bytes:
    return stored + delta


def test_a_key_merges_once_and_is_kept_a_week(store: SqlStore, project: str) -> None:
    monitor_id, name = _monitor_id(store, project)
    assert store.merge_windows(monitor_id, _delta(10), _concat, now=1000.0, batch_key="a")
    assert not store.merge_windows(monitor_id, _delta(10), _concat, now=1001.0, batch_key="a")
    assert store.merge_windows(monitor_id, _delta(5), _concat, now=1002.0, batch_key="b")
    assert store.merge_windows(monitor_id, _delta(1), _concat, now=1003.0)  # no key: always merged
    (window,) = store.list_windows(monitor_id, "day")
    assert window.rows == 16 and window.profile == b"ppp"
    # Another monitor has its own keys.
    other_id, _ = _monitor_id(store, project)
    assert store.merge_windows(other_id, _delta(3), _concat, now=1004.0, batch_key="a")
    # A week later "a" is forgotten (keys older than a week go when a new one is written).
    assert store.merge_windows(monitor_id, _delta(2), _concat, now=1000.0 + 8 * DAY, batch_key="c")
    assert store.merge_windows(monitor_id, _delta(2), _concat, now=1000.0 + 8 * DAY, batch_key="a")
    store.delete_monitor(name)  # its keys go with it


def _sum(stored: Mapping[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    return {"n": stored.get("n", 0) + delta["n"]}


def test_performance_with_a_key_merges_once_in_every_granularity(store: SqlStore, project: str) -> None:
    monitor_id, name = _monitor_id(store, project)
    store.merge_windows(
        monitor_id, [*_delta(10), WindowDelta("", "hour", 0.0, 10, b"p", {})], _concat, now=1000.0
    )
    updates = {"hour": {("", 0.0): {"n": 3}}, "day": {("", 0.0): {"n": 3}, ("", DAY): {"n": 3}}}
    assert store.add_performance(monitor_id, updates, _sum, now=1001.0, batch_key="perf-1")
    assert not store.add_performance(monitor_id, updates, _sum, now=1002.0, batch_key="perf-1")
    assert not store.merge_windows(monitor_id, _delta(1), _concat, now=1003.0, batch_key="perf-1")  # one set
    assert store.add_performance(monitor_id, updates, _sum, now=1004.0)  # no key: always merged
    for granularity in ("hour", "day"):
        (window,) = store.list_windows(monitor_id, granularity, profiles=False)  # day 1 was never profiled
        assert window.performance == {"n": 6}, granularity
    store.delete_monitor(name)
