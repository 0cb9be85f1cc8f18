"""A project's runs counted per ISO week (Monday 00:00 UTC) and user: the team activity page's figures."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import ActivityCell
from mltrail.store.sql import schema as t
from mltrail.store.sql.core import SqlBase, reads

__all__ = ["WEEK", "WEEK_ORIGIN", "ProjectActivityMixin"]

WEEK = 7 * 86400
WEEK_ORIGIN = 4 * 86400  # 1970-01-05, the first Monday of the epoch


class ProjectActivityMixin(SqlBase):
    """``project_activity``: one GROUP BY over the project's runs (its ``(project_id, start_time)`` index)."""

    @reads
    def project_activity(
        self, conn: Connection, project: str, since: float | None = None
    ) -> list[ActivityCell]:
        project_id = self._project_id(conn, project)
        r = t.runs.c
        weeks = (r.start_time - WEEK_ORIGIN) / WEEK
        # SQLite's CAST truncates (and floor() is optional there): a start before 1970-01-05 counts in that
        # first week. PostgreSQL's CAST rounds, so it floors first.
        week = sa.cast(weeks if self._sqlite else sa.func.floor(weeks), sa.BigInteger)
        seconds = sa.func.coalesce(r.end_time, r.heartbeat_at) - r.start_time
        failed = sa.case((r.status.in_(("failed", "crashed")), 1), else_=0)
        where = [r.project_id == project_id]
        if since is not None:
            where.append(r.start_time >= since)
        query = (
            sa.select(
                week.label("week"),
                r.user,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(sa.case((seconds > 0, seconds), else_=0.0)), 0.0),
                sa.func.sum(failed),
            )
            .where(*where)
            .group_by(week, r.user)
            .order_by(week.desc(), r.user)
        )
        return [
            ActivityCell(
                week_start=float(WEEK_ORIGIN + int(w) * WEEK),
                user=user,
                runs=int(n),
                seconds=float(secs or 0.0),
                failed=int(bad or 0),
            )
            for w, user, n, secs, bad in conn.execute(query)
        ]
