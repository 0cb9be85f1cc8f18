"""Reading whole runs: run rows plus their params, tags, summaries and metrics in a few IN-queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
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
    result = [_run_from_row(row) for row in rows]
    by_id = {run.id: run for run in result}
    ids = list(by_id)
    for part in chunks(ids):
        for table, target in ((t.params, "params"), (t.summaries, "summary")):
            query = sa.select(table.c.run_id, table.c.key, table.c.value_type, table.c.value_json).where(
                table.c.run_id.in_(part)
            )
            for run_id, key, value_type, value_json in conn.execute(query):
                values: dict[str, Value] = getattr(by_id[run_id], target)
                values[key] = decode_value(value_type, value_json)
        query_tags = sa.select(t.tags.c.run_id, t.tags.c.key, t.tags.c.value).where(t.tags.c.run_id.in_(part))
        for run_id, key, value in conn.execute(query_tags):
            by_id[run_id].tags[key] = value
        mk = t.metric_keys.c
        query_metrics = sa.select(mk.run_id, mk.key, mk.last, mk.last_step, mk.min, mk.max, mk.count).where(
            mk.run_id.in_(part)
        )
        for run_id, key, last, last_step, low, high, count in conn.execute(query_metrics):
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
