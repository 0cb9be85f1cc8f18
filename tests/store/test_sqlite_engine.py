"""The SQLite engine's connection set-up under contention from other connections and processes."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from mltrail.store.sql.engine import create_engine


def _rollback_mode_file(path: Path) -> None:
    """A database file still in the default (rollback journal) mode, as a new store's first moments."""
    first = sqlite3.connect(path, isolation_level=None)
    first.execute("CREATE TABLE early (x)")
    first.close()


def test_switch_to_wal_waits_for_a_writer_instead_of_failing(tmp_path: Path) -> None:
    """A second process switching a new file to WAL while the first holds its write lock (as the first's own
    switch does) got SQLITE_BUSY at once: SQLite skips the busy handler there to avoid a deadlock, so
    ``busy_timeout`` never applied and ``mltrail.init`` in two processes could fail with "database is
    locked". The switch is now retried until the busy timeout."""
    path = tmp_path / "store.db"
    _rollback_mode_file(path)
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # the RESERVED lock a converting or writing connection holds
    writer.execute("INSERT INTO early VALUES (1)")
    release = threading.Timer(0.5, lambda: writer.execute("COMMIT"))
    release.start()
    try:
        engine = create_engine(f"sqlite:///{path}")
        started = time.monotonic()
        with engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        waited = time.monotonic() - started
    finally:
        release.join()
        writer.close()
    assert mode == "wal"
    assert waited >= 0.3  # it waited for the writer rather than skipping the switch


def test_connecting_to_a_wal_file_leaves_it_in_wal(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
    again = create_engine(f"sqlite:///{path}")
    with again.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
