"""Metric points with their per-key summaries and rollups: batched upserts and history reads."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import MetricsBatch
from mltrail.errors import InvalidInputError
from mltrail.store.sql import schema as t
from mltrail.store.sql.core import SqlBase, chunks, writes
from mltrail.store.sql.small_batches import SmallBatch, SmallGroup, rollup_columns

_mk = t.metric_keys
# Built once: every batch runs them (see core._RUN_STATUS).
_KEY_STATES = (
    sa.select(_mk.c.id, _mk.c.key, _mk.c.last, _mk.c.last_step, _mk.c.min, _mk.c.max, _mk.c.count)
    .where(_mk.c.run_id == sa.bindparam("b_run_id"), _mk.c.key.in_(sa.bindparam("b_keys", expanding=True)))
    .order_by(_mk.c.key)  # one lock order for every writer: no deadlocks between batches
    .with_for_update()
)
_UPDATE_SUMMARY = (
    _mk.update()
    .where(_mk.c.id == sa.bindparam("b_id"))
    .values(
        last=sa.bindparam("b_last"),
        last_step=sa.bindparam("b_last_step"),
        min=sa.bindparam("b_min"),
        max=sa.bindparam("b_max"),
        count=sa.bindparam("b_count"),
    )
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# numpy, the rollups and the downsampling load with the first metric written or read, not with the store:
# a process that only opens runs (the CLI listing them, a run with nothing logged) never imports numpy.

__all__ = ["MetricsMixin"]

_COLUMNS = "metric_points (key_id, step, value, wall_time)"
_ON_CONFLICT = (
    " ON CONFLICT (key_id, step) DO UPDATE SET value = excluded.value, wall_time = excluded.wall_time"
)
# SQLite: many rows per INSERT runs ~2.5x faster than one row per executemany item; 200 rows are 800
# parameters, below the 999 of old SQLite builds.
_SQLITE_ROWS = 200
_SQLITE_ROW = "(?, ?, ?, ?)"


@dataclass(slots=True)
class _KeyState:
    id: int
    last: float | None
    last_step: int | None
    min: float | None
    max: float | None
    count: int


# One key's points in a batch; the same record for the numpy path and the small one.
_Group = SmallGroup


def _finite_or_none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _combine(old: float | None, new: float | None, pick: Any) -> float | None:
    if old is None:
        return new
    if new is None:
        return old
    return float(pick(old, new))


def _overlaps(group: _Group, state: _KeyState) -> bool:
    """Whether the batch may rewrite a stored step of this key (else it only appends after the last one)."""
    return state.last_step is not None and group.first_step <= state.last_step


class _Prepared:
    """A batch as deduplicated numpy columns grouped by key."""

    def __init__(self, batch: MetricsBatch) -> None:
        import numpy as np

        n = len(batch.keys)
        if not (len(batch.steps) == len(batch.values) == len(batch.wall_times) == n):
            raise InvalidInputError("metric batch columns differ in length", field="metrics")
        names = sorted(set(batch.keys))
        index = {name: i for i, name in enumerate(names)}
        try:
            kidx = np.fromiter(map(index.__getitem__, batch.keys), dtype=np.int64, count=n)
            steps = np.asarray(batch.steps, dtype=np.int64)
            values = np.asarray(batch.values, dtype=np.float64)
            walls = np.asarray(batch.wall_times, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidInputError(
                f"metric batch holds a value that is not a number: {exc}", "metrics"
            ) from exc
        if not np.isfinite(walls).all():  # SQLite would store NaN as NULL and refuse it
            raise InvalidInputError(
                "metric batch holds a wall time that is not a finite number", "wall_times"
            )
        # Sort by (key, step, arrival) and keep the last arrival of each (key, step).
        order = np.lexsort((np.arange(n), steps, kidx))
        k_sorted, s_sorted = kidx[order], steps[order]
        keep = np.ones(n, dtype=bool)
        keep[:-1] = (k_sorted[1:] != k_sorted[:-1]) | (s_sorted[1:] != s_sorted[:-1])
        chosen = order[keep]
        self.kidx: npt.NDArray[np.int64] = kidx[chosen]
        self.steps: npt.NDArray[np.int64] = steps[chosen]
        self.values: npt.NDArray[np.float64] = values[chosen]
        self.walls: npt.NDArray[np.float64] = walls[chosen]
        self.groups: list[_Group] = []
        if len(self.kidx) == 0:
            return
        starts = np.flatnonzero(np.r_[True, self.kidx[1:] != self.kidx[:-1]])
        ends = np.r_[starts[1:], len(self.kidx)]
        mins = np.fmin.reduceat(self.values, starts)
        maxs = np.fmax.reduceat(self.values, starts)
        for i, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            self.groups.append(
                _Group(
                    key=names[int(self.kidx[start])],
                    start=start,
                    end=end,
                    first_step=int(self.steps[start]),
                    last_step=int(self.steps[end - 1]),
                    last=_finite_or_none(float(self.values[end - 1])),
                    min=_finite_or_none(float(mins[i])),
                    max=_finite_or_none(float(maxs[i])),
                )
            )


class MetricsMixin(SqlBase):
    """Logging metric batches (their histories are read by ``sql.history``)."""

    # Small appending batches skip numpy (``small_batches``); tests switch it off to compare both paths.
    _small_batches = True

    @writes
    def log_metrics(self, conn: Connection, run_id: str, batch: MetricsBatch) -> bool:
        small = SmallBatch.of(batch) if self._small_batches else None
        prepared = _Prepared(batch) if small is None else None
        self._require_run(conn, run_id)
        if batch.client_id:
            stmt = self._statement("record_batch", self._record_batch)
            row = {"run_id": run_id, "client_id": batch.client_id, "seq": batch.seq}
            if self._sqlite:  # RETURNING needs SQLite 3.35; rowcount is exact there
                applied = conn.execute(stmt, row).rowcount > 0
            else:  # psycopg's rowcount is not reliable here; RETURNING says whether the row was new
                applied = conn.execute(stmt, row).first() is not None
            if not applied:
                return False
        groups = small.groups if small is not None else prepared.groups if prepared is not None else []
        if not groups:
            return True
        states = self._lock_keys(conn, run_id, [g.key for g in groups])
        if small is not None:
            if not any(_overlaps(g, states[g.key]) for g in small.groups):
                self._write_small(conn, small, states)
                return True
            prepared = _Prepared(batch)  # may overwrite stored steps: the rollups need recomputing
        assert prepared is not None
        self._write_prepared(conn, prepared, states)
        return True

    def _write_small(self, conn: Connection, small: SmallBatch, states: dict[str, _KeyState]) -> None:
        """An appending batch without numpy (``small_batches``): points, summaries, rollups."""
        from mltrail.store.sql.rollup_rows import MERGE, insert_rollups

        ids: list[int] = []
        for group in small.groups:
            ids += [states[group.key].id] * (group.end - group.start)
        values = [None if v != v else v for v in small.values]  # NaN is stored as NULL
        rows = list(zip(ids, small.steps, values, small.walls, strict=True))
        if self._sqlite:
            self._write_sqlite(conn, rows, False)
        else:
            self._write_postgres(conn, rows, False)
        self._update_summaries(conn, small, states)
        insert_rollups(conn, rollup_columns(ids, small.steps, small.values, small.walls), MERGE)

    def _write_prepared(self, conn: Connection, prepared: _Prepared, states: dict[str, _KeyState]) -> None:
        import numpy as np

        from mltrail.store.sql.rollups import write_rollups

        ids = np.empty(len(prepared.kidx), dtype=np.int64)
        rewrites = np.zeros(len(prepared.kidx), dtype=bool)
        for group in prepared.groups:
            ids[group.start : group.end] = states[group.key].id
            rewrites[group.start : group.end] = _overlaps(group, states[group.key])
        self._write_points(conn, prepared, ids, overwrite=bool(rewrites.any()))
        self._update_summaries(conn, prepared, states)
        write_rollups(conn, ids, prepared.steps, prepared.values, prepared.walls, rewrites)

    def _record_batch(self) -> Any:
        stmt = self._insert(t.batches).on_conflict_do_nothing(index_elements=["run_id", "client_id", "seq"])
        return stmt if self._sqlite else stmt.returning(t.batches.c.seq)

    def _lock_keys(self, conn: Connection, run_id: str, keys: list[str]) -> dict[str, _KeyState]:
        """The summary row of every key, created if new and locked (on PostgreSQL) until commit."""
        states: dict[str, _KeyState] = {}

        def load(names: list[str]) -> None:
            for part in chunks(names):
                params = {"b_run_id": run_id, "b_keys": list(part)}
                for key_id, key, last, last_step, low, high, count in conn.execute(_KEY_STATES, params):
                    states[key] = _KeyState(key_id, last, last_step, low, high, count)

        load(keys)
        missing = [k for k in keys if k not in states]
        if missing:
            stmt = self._statement(
                "insert_keys",
                lambda: self._insert(t.metric_keys).on_conflict_do_nothing(index_elements=["run_id", "key"]),
            )
            conn.execute(stmt, [{"run_id": run_id, "key": k, "count": 0} for k in missing])
            load(missing)
        return states

    def _write_points(
        self, conn: Connection, prepared: _Prepared, ids: npt.NDArray[np.int64], overwrite: bool
    ) -> None:
        """Insert the points; ``overwrite`` (some step may exist already) makes it an upsert."""
        import numpy as np

        values: list[float | None] = prepared.values.tolist()
        if np.isnan(prepared.values).any():
            values = [None if v != v else v for v in values]  # NaN is stored as NULL
        rows = list(zip(ids.tolist(), prepared.steps.tolist(), values, prepared.walls.tolist(), strict=True))
        if self._sqlite:
            self._write_sqlite(conn, rows, overwrite)
        else:
            self._write_postgres(conn, rows, overwrite)

    @staticmethod
    def _write_sqlite(
        conn: Connection, rows: list[tuple[int, int, float | None, float]], overwrite: bool
    ) -> None:
        tail = _ON_CONFLICT if overwrite else ""
        full = len(rows) - len(rows) % _SQLITE_ROWS
        if full:
            sql = f"INSERT INTO {_COLUMNS} VALUES {', '.join([_SQLITE_ROW] * _SQLITE_ROWS)}{tail}"  # noqa: S608
            flat = list(itertools.chain.from_iterable(rows[:full]))
            width = 4 * _SQLITE_ROWS
            conn.exec_driver_sql(sql, [tuple(flat[i : i + width]) for i in range(0, len(flat), width)])
        if full < len(rows):
            marks = ", ".join([_SQLITE_ROW] * (len(rows) - full))
            sql = f"INSERT INTO {_COLUMNS} VALUES {marks}{tail}"  # noqa: S608
            conn.exec_driver_sql(sql, tuple(itertools.chain.from_iterable(rows[full:])))

    @staticmethod
    def _write_postgres(
        conn: Connection, rows: list[tuple[int, int, float | None, float]], overwrite: bool
    ) -> None:
        # COPY is ~4x faster than INSERT here; it cannot upsert, so overwrites go through a temporary table.
        driver: Any = conn.connection.driver_connection
        target = "metric_points"
        if overwrite:
            target = "metric_points_incoming"
            conn.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {target} "
                "(key_id integer, step bigint, value float8, wall_time float8) ON COMMIT DROP"
            )
        with driver.cursor() as cursor:
            copy_sql = f"COPY {target} (key_id, step, value, wall_time) FROM STDIN (FORMAT BINARY)"
            with cursor.copy(copy_sql) as copy:
                copy.set_types(["int4", "int8", "float8", "float8"])
                for row in rows:
                    copy.write_row(row)
        if overwrite:
            conn.exec_driver_sql(f"INSERT INTO {_COLUMNS} SELECT * FROM {target}{_ON_CONFLICT}")  # noqa: S608
            conn.exec_driver_sql(f"DROP TABLE {target}")

    @staticmethod
    def _update_summaries(
        conn: Connection, prepared: _Prepared | SmallBatch, states: dict[str, _KeyState]
    ) -> None:
        incremental: list[dict[str, Any]] = []
        recompute: list[int] = []
        for group in prepared.groups:
            state = states[group.key]
            if _overlaps(group, state):
                recompute.append(state.id)  # a step may have been overwritten: ask the points themselves
                continue
            incremental.append(
                {
                    "b_id": state.id,
                    "b_last": group.last,
                    "b_last_step": group.last_step,
                    "b_min": _combine(state.min, group.min, min),
                    "b_max": _combine(state.max, group.max, max),
                    "b_count": state.count + (group.end - group.start),
                }
            )
        mk = t.metric_keys
        if incremental:
            conn.execute(_UPDATE_SUMMARY, incremental)
        p = t.metric_points.c
        for part in chunks(recompute):

            def agg(expr: Any) -> Any:
                return sa.select(expr).where(p.key_id == mk.c.id).scalar_subquery()

            last = sa.select(p.value).where(p.key_id == mk.c.id).order_by(p.step.desc()).limit(1)
            conn.execute(
                mk.update()
                .where(mk.c.id.in_(part))
                .values(
                    count=agg(sa.func.count()),
                    min=agg(sa.func.min(p.value)),
                    max=agg(sa.func.max(p.value)),
                    last_step=agg(sa.func.max(p.step)),
                    last=last.scalar_subquery(),
                )
            )
