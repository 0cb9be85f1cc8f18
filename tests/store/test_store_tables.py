"""Run table records on SQLite and PostgreSQL: steps, replacement, listing, deletion with the run."""

from __future__ import annotations

import uuid

import pytest

from mltrail.entities import TableColumn
from mltrail.errors import NotFoundError
from mltrail.store.sql import SqlStore

DIGEST = "ab" * 32


def _add(store: SqlStore, run_id: str, name: str, step: int | None, rows: int = 3) -> int:
    found = store.add_run_table(
        run_id,
        name,
        step,
        kind="predictions",
        digest=DIGEST,
        size=10,
        rows=rows,
        columns=[TableColumn("id", "int64"), TableColumn("naïve ✓", "string")],
        summary={"task": "classification", "nan": float("nan")},
    )
    return found.step


def test_steps_listing_and_replacement(store: SqlStore, project: str) -> None:
    run_id = uuid.uuid4().hex
    store.create_run(run_id=run_id, project=project, name="r", user=None, start_time=1.0)
    assert [_add(store, run_id, "val", None) for _ in range(2)] == [0, 1]
    assert _add(store, run_id, "val", 7) == 7
    assert _add(store, run_id, "val", None) == 8
    _add(store, run_id, "val", 7, rows=99)  # the same step again replaces it
    assert store.get_run_table(run_id, "val", 7).rows == 99
    latest = store.get_run_table(run_id, "val")
    assert latest.step == 8 and latest.columns[1] == TableColumn("naïve ✓", "string")
    assert latest.summary["task"] == "classification"
    listed = store.list_run_tables(run_id)
    assert [(t.name, t.step) for t in listed] == [("val", 0), ("val", 1), ("val", 7), ("val", 8)]
    assert listed[0].columns == [] and listed[0].summary == {}
    with pytest.raises(NotFoundError, match="no table 'test'"):
        store.get_run_table(run_id, "test")
    with pytest.raises(NotFoundError, match="at step 3"):
        store.get_run_table(run_id, "val", 3)
    store.delete_run(run_id)
    with pytest.raises(NotFoundError, match="no run"):
        store.list_run_tables(run_id)


def test_a_missing_run_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        _add(store, "f" * 32, "val", None)
    with pytest.raises(NotFoundError):
        store.get_run_table("f" * 32, "val")
