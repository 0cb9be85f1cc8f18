"""Engines for SQLite (WAL, busy timeout, BEGIN IMMEDIATE for writes) and PostgreSQL; driver error mapping."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine

from mltrail.errors import ConflictError, InvalidInputError, MltrailError, StoreError

__all__ = [
    "WRITE_OPTION",
    "create_engine",
    "is_locked_error",
    "redact",
    "sqlite_path",
    "wrap_db_error",
]

# Execution option set on connections that will write: on SQLite their transaction starts with
# BEGIN IMMEDIATE, so the write lock is taken (waiting up to busy_timeout) before anything is read,
# and never upgraded later.
WRITE_OPTION = "mltrail_write"
BUSY_TIMEOUT_S = 30.0


def redact(url: str | URL) -> str:
    """The URL as text with its password hidden, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable database URL>"


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory databases and other backends."""
    if url.get_backend_name() != "sqlite":
        return None
    db = url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 module: the "begin" hook below emits it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode = WAL``, retried until ``BUSY_TIMEOUT_S``: while another connection holds the
    write lock of a file still in rollback mode (its own switch to WAL does), SQLite answers SQLITE_BUSY at
    once without calling the busy handler (it would risk a deadlock), so ``busy_timeout`` does not apply."""
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not is_locked_error(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _on_sqlite_begin(conn: Connection) -> None:
    writes = bool(conn.get_execution_options().get(WRITE_OPTION, False))
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def create_engine(url: str | URL, *, statement_timeout: float | None = None) -> Engine:
    """An engine for ``url``; for a SQLite file its folder is created. Raises StoreError when that fails.
    ``statement_timeout`` (seconds, PostgreSQL) ends any statement that runs longer, so a query that went
    wrong cannot keep running after its client gave up (the team server sets it)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder of database {redact(parsed)}: {exc}") from exc
        engine = sa.create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        connect_args: dict[str, object] = {"connect_timeout": 10}
        if statement_timeout:
            connect_args["options"] = f"-c statement_timeout={int(statement_timeout * 1000)}"
        return sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    raise InvalidInputError(
        f"unsupported database URL {redact(parsed)}: use sqlite:///path or postgresql+psycopg://…", field="db"
    )


def is_locked_error(exc: BaseException) -> bool:
    """Whether a driver error is transient: SQLite's "database is locked/busy", PostgreSQL's deadlock."""
    text = str(getattr(exc, "orig", exc)).lower()
    return any(sign in text for sign in ("database is locked", "database is busy", "deadlock detected"))


def wrap_db_error(exc: sa.exc.SQLAlchemyError, url: str) -> MltrailError:
    """The mltrail error for a driver error: conflicts, bad values, or the store being unusable."""
    detail = (
        str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
    )
    if isinstance(exc, sa.exc.IntegrityError):
        return ConflictError(f"the change conflicts with stored data: {detail}")
    if isinstance(exc, sa.exc.DataError):
        return InvalidInputError(f"a value does not fit the database: {detail}")
    if getattr(getattr(exc, "orig", None), "sqlstate", None) == "57014":  # query_canceled: the timeout
        return InvalidInputError(
            "the query ran past the server's statement timeout (MLTRAIL_STATEMENT_TIMEOUT) and was stopped:"
            " narrow the filter or the range"
        )
    lowered = detail.lower()
    if "readonly" in lowered or "read-only" in lowered:
        reason = "the database is read-only"
    elif "disk is full" in lowered or "no space" in lowered:
        reason = "the disk is full"
    elif "unable to open" in lowered:
        reason = "the database file cannot be opened"
    elif "connection refused" in lowered or "could not connect" in lowered or "connection failed" in lowered:
        reason = "the database server cannot be reached"
    elif is_locked_error(exc):
        reason = "the database stayed locked by another writer"
    else:
        reason = "the database failed"
    return StoreError(f"{reason} ({redact(url)}): {detail}")
