"""A page of runs sorted by one metric's last value, walking the ``metric_keys (key, last)`` index.

The general sort of ``search`` outer-joins every run of the project to its value of the key and sorts them all
(missing values last): over 10,000 runs that read 10,000 index entries and their rows for each page, the
slowest query behind the runs table's sort. Runs with a value come first in the order of the value, and the
index holds exactly those in that order, so the page is read from it: about ``offset + limit`` entries, each
checked against the run's project. Only when the page reaches past the runs with a value does a second query
add the runs without one (no value, or NaN, which is stored as NULL), newest first, as the general sort orders
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.store.sql import schema as t
from mltrail.store.sql.loading import RUN_COLUMNS

__all__ = ["metric_sorted_rows"]


def metric_sorted_rows(
    conn: Connection, project_id: int, key: str, descending: bool, offset: int, limit: int
) -> Sequence[Any]:
    """The run rows (``RUN_COLUMNS``) of one page of the project's runs sorted by ``metrics.<key>`` (last
    value): the ones with a value by value, then start time (newest first) and id; then the others."""
    r = t.runs.c
    mk = t.metric_keys.alias("sort_0")
    value = mk.c["last"]
    source = mk.join(t.runs, r.id == mk.c.run_id).join(t.projects, t.projects.c.id == r.project_id)
    present = [mk.c.key == key, value.is_not(None), r.project_id == project_id]
    query = (
        sa.select(*RUN_COLUMNS)
        .select_from(source)
        .where(*present)
        .order_by(value.desc() if descending else value.asc(), r.start_time.desc(), r.id)
    )
    rows = list(conn.execute(query.offset(offset).limit(limit)).all())
    if len(rows) == limit:
        return rows
    if rows or offset == 0:
        with_value = offset + len(rows)
    else:  # the page starts past the runs with a value: count them to know where in the others it starts
        counted = sa.select(sa.func.count()).select_from(mk.join(t.runs, r.id == mk.c.run_id)).where(*present)
        with_value = int(conn.execute(counted).scalar_one())
    has_value = sa.exists().where(
        t.metric_keys.c.run_id == r.id, t.metric_keys.c.key == key, t.metric_keys.c["last"].is_not(None)
    )
    rest = (
        sa.select(*RUN_COLUMNS)
        .select_from(t.runs.join(t.projects, t.projects.c.id == r.project_id))
        .where(r.project_id == project_id, sa.not_(has_value))
        .order_by(r.start_time.desc(), r.id)
        .offset(max(0, offset - with_value))
        .limit(limit - len(rows))
    )
    return [*rows, *conn.execute(rest).all()]
