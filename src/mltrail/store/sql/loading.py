"""Reading whole runs: run rows plus their params, tags, summaries and metrics in a few IN-queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from mltrail.entities import MetricSummary, Run, RunStatus, Value
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import decode_value, from_db_float, load_json
from mltrail.store.sql.core import chunks

__all__ = ["RUN_COLUMNS", "load_runs"]

RUN_COLUMNS = (
    t.runs.c.id,
    t.projects.c.name.label("project"),
    t.runs.c.name,
    t.runs.c.status,
    t.runs.c.user,
    t.runs.c.start_time,
    t.runs.c.end_time,
    t.runs.c.heartbeat_at,
    t.runs.c.notes,
    t.runs.c.error,
    t.runs.c.context,
)


def _run_from_row(row: Any) -> Run:
    m = row._mapping
    return Run(
        id=m["id"],
        project=m["project"],
        name=m["name"],
        status=RunStatus(m["status"]),
        user=m["user"],
        start_time=m["start_time"],
        end_time=m["end_time"],
        heartbeat_at=m["heartbeat_at"],
        notes=m["notes"],
        error=load_json(m["error"]),
        context=load_json(m["context"]) or {},
    )


def load_runs(conn: Connection, rows: Sequence[Any]) -> list[Run]:
    """Runs for rows selected with RUN_COLUMNS, in the same order, with their keyed values filled in."""
    from mltrail.store.sql.rollups import fetch_tuples

    result = [_run_from_row(row) for row in rows]
    by_id = {run.id: run for run in result}
    ids = list(by_id)
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    # Plain DBAPI tuples: a page of 100 runs × 30 keys is 3,000 rows, and a SQLAlchemy Row per row was a
    # third of the time of a runs page (benchmarks/ui_sort_query.py).
    for part in chunks(ids):
        marks = ", ".join([mark] * len(part))
        for table, target in (("params", "params"), ("summaries", "summary")):
            sql = f"SELECT run_id, key, value_type, value_json FROM {table} WHERE run_id IN ({marks})"  # noqa: S608 (placeholders)
            for run_id, key, value_type, value_json in fetch_tuples(conn, sql, part):
                values: dict[str, Value] = getattr(by_id[run_id], target)
                values[key] = decode_value(value_type, value_json)
        sql = f"SELECT run_id, key, value FROM tags WHERE run_id IN ({marks})"  # noqa: S608 (placeholders)
        for run_id, key, value in fetch_tuples(conn, sql, part):
            by_id[run_id].tags[key] = value
        sql = (
            'SELECT run_id, key, "last", last_step, "min", "max", "count" FROM metric_keys'  # noqa: S608
            f" WHERE run_id IN ({marks})"
        )
        for run_id, key, last, last_step, low, high, count in fetch_tuples(conn, sql, part):
            by_id[run_id].metrics[key] = MetricSummary(
                key=key,
                last=from_db_float(last),
                last_step=int(last_step) if last_step is not None else 0,
                min=low,
                max=high,
                count=int(count),
            )
    for run in result:
        # Deterministic order for readers: keys sorted.
        run.params = dict(sorted(run.params.items()))
        run.tags = dict(sorted(run.tags.items()))
        run.summary = dict(sorted(run.summary.items()))
        run.metrics = dict(sorted(run.metrics.items()))
    return result
