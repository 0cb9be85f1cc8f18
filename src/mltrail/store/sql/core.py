"""The base of the SQL store: one transaction per method, retried while SQLite is locked, errors mapped."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine

from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.engine import WRITE_OPTION, is_locked_error, redact, wrap_db_error

if TYPE_CHECKING:
    # Imported when a PostgreSQL store first writes: the dialect costs ~40 ms of imports an SQLite
    # process never needs.
    from sqlalchemy.dialects import postgresql

__all__ = ["IN_CHUNK", "SqlBase", "chunks", "reads", "writes"]

S = TypeVar("S", bound="SqlBase")
P = ParamSpec("P")
T = TypeVar("T")
X = TypeVar("X")

LOCK_RETRIES = 5
# Bound parameters per IN list: far below SQLite's limit (32766) and PostgreSQL's (65535).
IN_CHUNK = 500


# Statements run for every run (or batch), built once: executing the same statement object with new
# parameters skips SQLAlchemy's construction and reuses its compiled form.
_RUN_STATUS = sa.select(t.runs.c.status).where(t.runs.c.id == sa.bindparam("b_run_id"))
_RUN_STATUS_LOCKED = _RUN_STATUS.with_for_update()
_PROJECT_ID = sa.select(t.projects.c.id).where(t.projects.c.name == sa.bindparam("b_name"))


def chunks(items: Sequence[X], size: int = IN_CHUNK) -> Iterator[Sequence[X]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqlBase:
    """Engine, dialect and the transaction runner shared by the store's parts."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._url = redact(engine.url)
        self._dialect = engine.dialect.name
        self._sqlite = self._dialect == "sqlite"

    def _transaction(self, work: Callable[[Connection], T], *, write: bool) -> T:
        """Run ``work`` in one transaction; retry it a few times if a lock wait timed out or deadlocked."""
        for attempt in range(LOCK_RETRIES):
            try:
                with self._engine.connect() as conn:
                    if write:
                        conn.execution_options(**{WRITE_OPTION: True})
                    with conn.begin():
                        return work(conn)
            except sa.exc.OperationalError as exc:
                if is_locked_error(exc) and attempt + 1 < LOCK_RETRIES:
                    time.sleep(0.05 * 2**attempt)
                    continue
                raise wrap_db_error(exc, self._url) from exc
            except sa.exc.SQLAlchemyError as exc:
                raise wrap_db_error(exc, self._url) from exc
            except UnicodeEncodeError as exc:
                # A lone UTF-16 surrogate ("\ud800") that no database encoding holds: bad input, not a
                # failure. The services refuse it with the field's name first; this is the net below.
                raise InvalidInputError(
                    f"a text value holds a character no database can store ({exc.reason}: "
                    f"{exc.object[exc.start : exc.end]!r}); send valid UTF-8 text"
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _statement(self, name: str, build: Callable[[], X]) -> X:
        """A statement built once per store by ``build`` (it may depend on the dialect), cached by name."""
        cache: dict[str, Any] = self.__dict__.setdefault("_statements", {})
        found = cache.get(name)
        if found is None:
            found = cache[name] = build()
        return cast(X, found)

    def _insert(self, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
        """An INSERT that supports ON CONFLICT on this dialect."""
        if self._dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        return sqlite.insert(table)

    # -- lookups shared by every part -------------------------------------------------------------------
    @staticmethod
    def _require_run(conn: Connection, run_id: str, *, lock: bool = False) -> str:
        """The run's status; NotFoundError if there is no such run. ``lock`` locks the row (PostgreSQL)."""
        query = _RUN_STATUS_LOCKED if lock else _RUN_STATUS
        status = conn.execute(query, {"b_run_id": run_id}).scalar_one_or_none()
        if status is None:
            raise NotFoundError(f"no run {run_id!r}")
        return str(status)

    @staticmethod
    def _project_id(conn: Connection, name: str) -> int:
        found = conn.execute(_PROJECT_ID, {"b_name": name}).scalar_one_or_none()
        if found is None:
            raise NotFoundError(f"no project {name!r}")
        return int(found)

    def _ensure_project(self, conn: Connection, name: str) -> int:
        """The project's id; the project is created first if it does not exist (one SELECT when it does)."""
        found = conn.execute(_PROJECT_ID, {"b_name": name}).scalar_one_or_none()
        if found is not None:
            return int(found)
        stmt = (
            self._insert(t.projects)
            .values(name=name, created_at=time.time())
            .on_conflict_do_nothing(index_elements=["name"])
        )
        conn.execute(stmt)
        return self._project_id(conn, name)


def writes(fn: Callable[Concatenate[S, Connection, P], T]) -> Callable[Concatenate[S, P], T]:
    """The method runs in one write transaction; it receives the connection after ``self``."""

    @functools.wraps(fn)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._transaction(lambda conn: fn(self, conn, *args, **kwargs), write=True)

    return wrapper


def reads(fn: Callable[Concatenate[S, Connection, P], T]) -> Callable[Concatenate[S, P], T]:
    """The method runs in one read transaction (a consistent snapshot)."""

    @functools.wraps(fn)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._transaction(lambda conn: fn(self, conn, *args, **kwargs), write=False)

    return wrapper
