"""The reference's per-segment profiles kept with a monitor (SQLite and PostgreSQL, migration 0008)."""

from __future__ import annotations

import uuid

import pytest

from mltrail.errors import NotFoundError
from mltrail.store.monitoring import SegmentReferences
from mltrail.store.sql import SqlStore


def _create(store: SqlStore, project: str, refs: SegmentReferences | None) -> tuple[int, str]:
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
        segments=["country", "age < 25", 'plan == "a=b"'],
        schema={},
        drift={},
        training_metrics={},
        reference=b"",
        reference_source="test",
        created_at=0.0,
        created_by=None,
        segment_references=refs,
    )
    return monitor.id, name


def test_segment_references_are_kept_and_go_with_their_monitor(store: SqlStore, project: str) -> None:
    refs = SegmentReferences(
        frozenset({"country", "age < 25", 'plan == "a=b"'}),
        {"country=DE": b"de", "country=FR": b"fr", "country=LU": None, "age < 25": b"young"},
    )
    monitor_id, name = _create(store, project, refs)
    assert store.get_segment_references(monitor_id) == refs  # the rule without rows: split, no segment
    other_id, _ = _create(store, project, None)
    assert store.get_segment_references(other_id) == SegmentReferences()
    store.delete_monitor(name)
    assert store.get_segment_references(monitor_id) == SegmentReferences()
    with pytest.raises(NotFoundError):
        store.get_monitor(name)
