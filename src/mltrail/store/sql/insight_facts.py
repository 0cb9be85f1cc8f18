"""``run_facts`` rows: built from a run when it is created, and kept current by the writes that change
what they copy (its times, its context, its dataset links). Called inside those writes' transactions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities.insights import run_facts
from mltrail.store.sql import schema as t

__all__ = ["INSERT_FACTS", "WEEK", "WEEK_ORIGIN", "fact_row", "hardware_values", "refresh_seconds", "week_of"]

WEEK = 7 * 86400
WEEK_ORIGIN = 4 * 86400  # 1970-01-05, the first Monday of the epoch


def week_of(start_time: float) -> int:
    return math.floor((start_time - WEEK_ORIGIN) / WEEK)


def hardware_values(context: Mapping[str, Any]) -> dict[str, Any]:
    facts = run_facts(context)
    return {
        "cpu_count": facts.cpu_count,
        "gpu_count": facts.gpu_count,
        "gpu_kind": facts.gpu_kind,
        "code_state": facts.code_state,
    }


def fact_row(
    run_id: str, project_id: int, user: str | None, start_time: float, context: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "project_id": project_id,
        "user": user,
        "start_time": start_time,
        "week": week_of(start_time),
        "seconds": 0.0,
        "has_data": False,
        **hardware_values(context),
    }


_F = t.run_facts.c
_R = t.runs.c

# Built once: these run with every run's creation, heartbeat and end, so their construction is not repeated.
INSERT_FACTS = t.run_facts.insert()
_SET_END = (
    t.run_facts.update()
    .where(_F.run_id == sa.bindparam("b_run_id"))
    .values(
        seconds=sa.case(
            (_F.start_time < sa.bindparam("b_end"), sa.bindparam("b_end") - _F.start_time), else_=0.0
        )
    )
)
_SET_HEARTBEAT = (
    t.run_facts.update()
    .where(
        _F.run_id == sa.bindparam("b_run_id"),
        _F.start_time < sa.bindparam("b_at"),
        sa.select(_R.end_time).where(_R.id == sa.bindparam("b_run_id")).scalar_subquery().is_(None),
    )
    .values(seconds=sa.bindparam("b_at") - _F.start_time)
)


def refresh_seconds(
    conn: Connection, run_id: str, *, end_time: float | None, heartbeat_at: float | None
) -> None:
    """After ``update_run``/``reopen_run``: the end time sets the duration; a heartbeat extends that of a
    run without one."""
    if end_time is not None:
        conn.execute(_SET_END, {"b_run_id": run_id, "b_end": float(end_time)})
    elif heartbeat_at is not None:
        conn.execute(_SET_HEARTBEAT, {"b_run_id": run_id, "b_at": float(heartbeat_at)})
