"""Opening a store from a database URL, and applying or reading its schema migrations (Alembic)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mltrail.errors import MltrailError, StoreError
from mltrail.store.sql import SqlStore
from mltrail.store.sql.engine import WRITE_OPTION, create_engine, redact, sqlite_path, wrap_db_error

__all__ = ["current_revision", "head_revision", "open_store", "upgrade"]

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest file in migrations/versions (tests/store/test_store_migrations.py checks it). Knowing it
# without Alembic keeps Alembic, ~120 ms of imports, off every process start: it loads only to migrate.
HEAD_REVISION = "0021"
# Any constant: serializes migrations of several server replicas starting at once on PostgreSQL.
_PG_MIGRATION_LOCK = 0x6D6C7472


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    return HEAD_REVISION


def _current(engine: Engine) -> str | None:
    """The revision recorded in Alembic's own ``alembic_version`` table; None for an empty database."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            conn.rollback()
            return None
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
        conn.rollback()
    return None if revision is None else str(revision)


def _upgrade(engine: Engine) -> None:
    from alembic import command

    cfg = _config()
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL statement_timeout = 0")  # a migration may take its time
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")


@contextlib.contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    """An exclusive lock on ``<db>.lock``, so processes opening a brand-new file migrate it one at a time
    (``filelock``: ``flock`` on POSIX, ``LockFileEx`` on Windows; freed by the system if the process dies)."""
    if path is None:
        yield
        return
    # Imported here, as Alembic is: ~20 ms that only a process opening an embedded store pays.
    from filelock import FileLock

    # No soft fallback: on a filesystem without locks, fail (StoreError) rather than leave a marker file
    # that a killed process would never remove.
    with FileLock(path.with_name(path.name + ".lock"), fallback_to_soft=False):
        yield


@contextlib.contextmanager
def _errors(url: str) -> Iterator[None]:
    try:
        yield
    except MltrailError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise wrap_db_error(exc, url) from exc
    except OSError as exc:
        raise StoreError(f"cannot open the database {redact(url)}: {exc}") from exc


def _prepare(engine: Engine, url: str, migrate: bool) -> None:
    head = head_revision()
    path = sqlite_path(engine.url)
    with _errors(url):
        if not migrate:
            current = _current(engine)
            if current != head:
                raise StoreError(
                    f"the database {redact(url)} is at schema revision {current or '(empty)'}, this mltrail "
                    f"needs {head}: run `mltrail db upgrade`"
                )
            return
        if _current(engine) == head:  # the common case: no lock (nor the lock's import) needed
            return
        with _file_lock(path):
            if _current(engine) != head:  # another process may have migrated it meanwhile
                _upgrade(engine)


def open_store(url: str, *, migrate: bool = True, statement_timeout: float | None = None) -> SqlStore:
    """A store on ``url``; with ``migrate`` the schema is created or brought to the newest revision first.
    ``statement_timeout``: seconds after which PostgreSQL stops a statement (a 400 saying so)."""
    engine = create_engine(url, statement_timeout=statement_timeout)
    try:
        _prepare(engine, url, migrate)
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine)


def upgrade(url: str) -> str:
    """Migrate the database at ``url`` to the newest revision; returns that revision."""
    open_store(url, migrate=True).close()
    return head_revision()


def current_revision(url: str) -> str | None:
    """The schema revision of the database at ``url``; None when it has no schema yet."""
    parsed = sa.make_url(url)
    path = sqlite_path(parsed)
    if path is not None and not path.exists():
        return None
    engine = create_engine(parsed)
    try:
        with _errors(url):
            return _current(engine)
    finally:
        engine.dispose()
