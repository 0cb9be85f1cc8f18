"""Monitors following an alias, in the store (SQLite and PostgreSQL): the alias and version history kept,
a move as one compare-and-set (two processes seeing one move record it once), and the migration."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mltrail.entities import Monitor, MonitorVersion
from mltrail.errors import NotFoundError
from mltrail.store.factory import _config, open_store
from mltrail.store.sql import SqlStore


def _monitor(store: SqlStore, project: str, **overrides: Any) -> Monitor:
    options: dict[str, Any] = {
        "name": f"mon-{uuid.uuid4().hex[:8]}",
        "project": project,
        "model": "churn",
        "version": 3,
        "run_id": "run-3",
        "features": ["age"],
        "prediction": "prediction",
        "task": "classification",
        "granularity": "day",
        "segments": ["country"],
        "schema": {"columns": {"age": {"kind": "numeric"}}},
        "drift": {"drift_share": 0.3},
        "training_metrics": {"val/acc": 0.9},
        "reference": b"profile-of-v3",
        "reference_source": "train dataset train v3",
        "created_at": 100.0,
        "created_by": "ana",
        "alias": "production",
    }
    options.update(overrides)
    return store.create_monitor(**options)


def _move(store: SqlStore, name: str, **overrides: Any) -> tuple[Monitor, bool]:
    options: dict[str, Any] = {
        "expected_version": 3,
        "version": 4,
        "run_id": "run-4",
        "training_metrics": {"val/acc": 0.95},
        "since": 200.0,
        "reference": b"profile-of-v4",
        "reference_source": "train dataset train v4",
    }
    options.update(overrides)
    return store.rebind_monitor(name, **options)


def test_a_monitor_keeps_its_alias_and_history(store: SqlStore, project: str) -> None:
    mon = _monitor(store, project)
    assert mon.alias == "production"
    assert mon.versions == (MonitorVersion(3, "run-3", 100.0, "train dataset train v3"),)
    assert store.get_monitor(mon.name) == mon
    fixed = _monitor(store, project, alias=None)
    assert fixed.alias is None and len(fixed.versions) == 1
    modelless = _monitor(store, project, model=None, version=None, run_id=None, alias=None)
    assert modelless.versions == ()
    assert {m.name for m in store.list_monitors(projects=[project])} == {mon.name, fixed.name, modelless.name}


def test_a_move_changes_the_binding_and_appends_to_the_history(store: SqlStore, project: str) -> None:
    mon = _monitor(store, project)
    moved, switched = _move(store, mon.name)
    assert switched
    assert (moved.version, moved.run_id, moved.training_metrics) == (4, "run-4", {"val/acc": 0.95})
    assert (moved.reference, moved.reference_source) == (b"profile-of-v4", "train dataset train v4")
    assert (moved.features, moved.segments, moved.schema, moved.drift, moved.alias) == (
        mon.features,
        mon.segments,
        mon.schema,
        mon.drift,
        "production",
    )
    assert moved.versions == (*mon.versions, MonitorVersion(4, "run-4", 200.0, "train dataset train v4"))
    assert store.get_monitor(mon.name) == moved
    # seen again (a stale view of v3, or the same move): nothing changes
    again, switched = _move(store, mon.name, since=300.0)
    assert not switched and again == moved
    same, switched = _move(store, mon.name, expected_version=4, since=300.0)
    assert not switched and same == moved


def test_a_move_without_a_reference_keeps_it(store: SqlStore, project: str) -> None:
    mon = _monitor(store, project, reference_source="given")
    moved, switched = _move(store, mon.name, reference=None, reference_source=None)
    assert switched and moved.reference == mon.reference and moved.reference_source == "given"
    assert moved.versions[-1] == MonitorVersion(4, "run-4", 200.0, "given")


def test_a_move_of_an_unknown_monitor_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        _move(store, f"nope-{uuid.uuid4().hex[:8]}")


def test_concurrent_moves_of_one_switch_record_one_entry(store: SqlStore, project: str) -> None:
    mon = _monitor(store, project)
    workers = 6
    barrier = threading.Barrier(workers)
    results: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def move() -> None:
        try:
            barrier.wait()
            _, switched = _move(store, mon.name)
            with lock:
                results.append(switched)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=move) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False] * (workers - 1) + [True]
    assert [v.version for v in store.get_monitor(mon.name).versions] == [3, 4]


def test_the_migration_gives_existing_monitors_their_history(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
        conn.execute(sa.text("INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 1.0)"))
        for name, version, run in (("old", 2, "'run-2'"), ("bare", "NULL", "NULL")):
            conn.execute(
                sa.text(
                    "INSERT INTO monitors (name, project_id, model, version, run_id, config, reference,"
                    " reference_source, unmatched_labels, created_at, created_by)"
                    f" VALUES ('{name}', 1, 'churn', {version}, {run}, '{{}}', x'00', 'given', 0, 50.0, NULL)"
                )
            )
    engine.dispose()
    store = open_store(url)
    try:
        old = store.get_monitor("old")
        assert old.alias is None and old.versions == (MonitorVersion(2, "run-2", 50.0, "given"),)
        assert store.get_monitor("bare").versions == ()
    finally:
        store.close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
        columns = {c["name"] for c in sa.inspect(conn).get_columns("monitors")}
    engine.dispose()
    assert "alias" not in columns and "versions" not in columns
