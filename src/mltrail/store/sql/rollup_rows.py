"""Writing ``metric_rollups`` rows: the upserts shared by the numpy path (``rollups``) and the small-batch
path (``small_batches``); no numpy here."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.engine import Connection

__all__ = ["MERGE", "REPLACE", "insert_rollups"]

# "AS r" names the stored row in ON CONFLICT clauses, on both SQLite and PostgreSQL.
_TARGET = (
    "metric_rollups AS r (key_id, level, bucket, min_step, min_value, min_wall_time,"
    " max_step, max_value, max_wall_time, count, nan_count)"
)
_WIDTH = 11  # columns
# The batch only appends after the stored steps: the smaller minimum (the larger maximum) wins and keeps its
# step; a tie keeps the stored one, whose step is earlier. NULL (only NaN so far) loses to any number.
_LOWER = "excluded.min_value < r.min_value OR (r.min_value IS NULL AND excluded.min_value IS NOT NULL)"
_HIGHER = "excluded.max_value > r.max_value OR (r.max_value IS NULL AND excluded.max_value IS NOT NULL)"
MERGE = (
    " ON CONFLICT (key_id, level, bucket) DO UPDATE SET"
    f" min_step = CASE WHEN {_LOWER} THEN excluded.min_step ELSE r.min_step END,"
    f" min_value = CASE WHEN {_LOWER} THEN excluded.min_value ELSE r.min_value END,"
    f" min_wall_time = CASE WHEN {_LOWER} THEN excluded.min_wall_time ELSE r.min_wall_time END,"
    f" max_step = CASE WHEN {_HIGHER} THEN excluded.max_step ELSE r.max_step END,"
    f" max_value = CASE WHEN {_HIGHER} THEN excluded.max_value ELSE r.max_value END,"
    f" max_wall_time = CASE WHEN {_HIGHER} THEN excluded.max_wall_time ELSE r.max_wall_time END,"
    " count = r.count + excluded.count, nan_count = r.nan_count + excluded.nan_count"
)
REPLACE = (
    " ON CONFLICT (key_id, level, bucket) DO UPDATE SET"
    " min_step = excluded.min_step, min_value = excluded.min_value, min_wall_time = excluded.min_wall_time,"
    " max_step = excluded.max_step, max_value = excluded.max_value, max_wall_time = excluded.max_wall_time,"
    " count = excluded.count, nan_count = excluded.nan_count"
)
# Rows per INSERT: 90 rows are 990 parameters, below the 999 of old SQLite builds.
_ROWS_PER_INSERT = 90
# PostgreSQL: above this many rows, COPY through a temporary table beats binding parameters (measured:
# the table costs ~3 ms, a bound row ~15 µs).
_COPY_ABOVE = 300


def insert_rollups(conn: Connection, columns: list[list[Any]], on_conflict: str) -> None:
    """Upsert rollup rows given as one list per column: ``MERGE`` folds them into stored rows (appended
    points), ``REPLACE`` overwrites them (recomputed buckets)."""
    if not columns[0]:
        return
    if conn.dialect.name == "postgresql" and len(columns[0]) > _COPY_ABOVE:
        _insert_postgres(conn, columns, on_conflict)
        return
    rows = list(zip(*columns, strict=True))
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    row = f"({', '.join([mark] * _WIDTH)})"
    head = f"INSERT INTO {_TARGET} VALUES "  # noqa: S608 (placeholders only)
    full = len(rows) - len(rows) % _ROWS_PER_INSERT
    if full:
        sql = head + ", ".join([row] * _ROWS_PER_INSERT) + on_conflict
        flat = list(itertools.chain.from_iterable(rows[:full]))
        size = _WIDTH * _ROWS_PER_INSERT
        conn.exec_driver_sql(sql, [tuple(flat[i : i + size]) for i in range(0, len(flat), size)])
    if full < len(rows):
        sql = head + ", ".join([row] * (len(rows) - full)) + on_conflict
        conn.exec_driver_sql(sql, tuple(itertools.chain.from_iterable(rows[full:])))


def _insert_postgres(conn: Connection, columns: list[list[Any]], on_conflict: str) -> None:
    # For many rows COPY is ~8x faster than parameters (psycopg adapts each one); it cannot upsert, hence
    # the temporary table, whose creation costs a few ms: small batches bind parameters instead.
    driver: Any = conn.connection.driver_connection
    incoming = "metric_rollups_incoming"
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {incoming} (key_id integer, level smallint, bucket bigint, min_step bigint,"
        " min_value float8, min_wall_time float8, max_step bigint, max_value float8, max_wall_time float8,"
        " count bigint, nan_count bigint) ON COMMIT DROP"
    )
    with driver.cursor() as cursor, cursor.copy(f"COPY {incoming} FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(
            ["int4", "int2", "int8", "int8", "float8", "float8", "int8", "float8", "float8", "int8", "int8"]
        )
        for row in zip(*columns, strict=True):
            copy.write_row(row)
    conn.exec_driver_sql(f"INSERT INTO {_TARGET} SELECT * FROM {incoming}{on_conflict}")  # noqa: S608
    conn.exec_driver_sql(f"DROP TABLE {incoming}")
