"""Team insights' aggregates: usage per project, user, week and hardware; production moves; runs by
what they captured; monitor coverage. Each is one or two grouped queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import MonitorCoverage, ProductionEvent, ReproCounts, RunUsage, UsageCell
from mltrail.store.sql import schema as t
from mltrail.store.sql.core import SqlBase, reads
from mltrail.store.sql.project_activity import WEEK, WEEK_ORIGIN

__all__ = ["InsightAggregatesMixin"]

_TO_PRODUCTION = '%"to":"production"%'
_VIA_REQUEST = '%"request":%'


class InsightAggregatesMixin(SqlBase):
    def _week(self, start: Any) -> Any:
        weeks = (start - WEEK_ORIGIN) / WEEK
        return sa.cast(weeks if self._sqlite else sa.func.floor(weeks), sa.BigInteger)

    @staticmethod
    def _run_filters(projects: Sequence[str] | None, since: float | None, until: float | None) -> list[Any]:
        r, p = t.runs.c, t.projects.c
        where: list[Any] = []
        if projects is not None:
            where.append(p.name.in_(list(projects)))
        if since is not None:
            where.append(r.start_time >= since)
        if until is not None:
            where.append(r.start_time < until)
        return where

    @reads
    def usage(
        self,
        conn: Connection,
        projects: Sequence[str] | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
    ) -> list[UsageCell]:
        r, p, f = t.runs.c, t.projects.c, t.run_facts.c
        seconds = sa.func.coalesce(r.end_time, r.heartbeat_at) - r.start_time
        hours = sa.case((seconds > 0, seconds), else_=0.0) / 3600.0
        week = self._week(r.start_time)
        query = (
            sa.select(
                p.name,
                r.user,
                week.label("week"),
                f.gpu_kind,
                sa.func.count(),
                sa.func.sum(hours),
                sa.func.sum(hours * sa.func.coalesce(f.cpu_count, 1)),
                sa.func.sum(hours * sa.func.coalesce(f.gpu_count, 0)),
            )
            .select_from(t.runs)
            .join(t.projects, p.id == r.project_id)
            .outerjoin(t.run_facts, f.run_id == r.id)
            .where(*self._run_filters(projects, since, until))
            .group_by(p.name, r.user, week, f.gpu_kind)
            .order_by(week, p.name, r.user)
        )
        return [
            UsageCell(
                project=name,
                user=user,
                week_start=float(WEEK_ORIGIN + int(w) * WEEK),
                gpu_kind=gpu_kind,
                runs=int(n),
                hours=float(h or 0.0),
                cpu_hours=float(c or 0.0),
                gpu_hours=float(g or 0.0),
            )
            for name, user, w, gpu_kind, n, h, c, g in conn.execute(query)
        ]

    @reads
    def costly_runs(
        self,
        conn: Connection,
        projects: Sequence[str] | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        cpu_price: float,
        gpu_prices: Mapping[str, float],
        gpu_price: float,
        limit: int = 20,
    ) -> list[RunUsage]:
        r, p, f = t.runs.c, t.projects.c, t.run_facts.c
        seconds = sa.func.coalesce(r.end_time, r.heartbeat_at) - r.start_time
        hours = sa.case((seconds > 0, seconds), else_=0.0) / 3600.0
        cores = hours * sa.func.coalesce(f.cpu_count, 1)
        gpus = hours * sa.func.coalesce(f.gpu_count, 0)
        per_gpu: Any = sa.literal(float(gpu_price))
        if gpu_prices:
            per_gpu = sa.case(
                *((f.gpu_kind == name, sa.literal(float(v))) for name, v in gpu_prices.items()),
                else_=sa.literal(float(gpu_price)),
            )
        cost = (cores * sa.literal(float(cpu_price)) + gpus * per_gpu).label("cost")
        query = (
            sa.select(r.id, p.name, r.name, r.user, r.start_time, f.gpu_kind, hours, cores, gpus, cost)
            .select_from(t.runs)
            .join(t.projects, p.id == r.project_id)
            .outerjoin(t.run_facts, f.run_id == r.id)
            .where(*self._run_filters(projects, since, until))
            .order_by(sa.desc("cost"), r.start_time.desc(), r.id)
            .limit(limit)
        )
        return [
            RunUsage(
                run_id=run_id,
                project=project,
                name=name,
                user=user,
                start_time=float(start),
                gpu_kind=gpu_kind,
                hours=float(h or 0.0),
                cpu_hours=float(c or 0.0),
                gpu_hours=float(g or 0.0),
                cost=float(total or 0.0),
            )
            for run_id, project, name, user, start, gpu_kind, h, c, g, total in conn.execute(query)
        ]

    @reads
    def production_events(
        self, conn: Connection, projects: Sequence[str] | None = None
    ) -> list[ProductionEvent]:
        e, m, v = t.registry_events.c, t.registered_models.c, t.model_versions.c
        query = (
            sa.select(
                e.model, e.project, e.version, e.time, e.details.like(_VIA_REQUEST), v.created_at, v.run_id
            )
            .select_from(t.registry_events)
            .outerjoin(t.registered_models, m.name == e.model)
            .outerjoin(t.model_versions, sa.and_(v.model_id == m.id, v.version == e.version))
            .where(e.action == "stage_changed", e.details.like(_TO_PRODUCTION), e.version.is_not(None))
            .order_by(e.time, e.id)
        )
        if projects is not None:
            query = query.where(e.project.in_(list(projects)))
        return [
            ProductionEvent(
                model=model,
                project=project,
                version=int(version),
                time=float(time),
                via_request=bool(via),
                registered_at=None if created is None else float(created),
                run_id=run_id,
            )
            for model, project, version, time, via, created, run_id in conn.execute(query)
        ]

    @reads
    def repro_counts(
        self,
        conn: Connection,
        projects: Sequence[str] | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
    ) -> list[ReproCounts]:
        r, p, f, d = t.runs.c, t.projects.c, t.run_facts.c, t.run_datasets.c
        code = sa.case((f.code_state.in_(("clean", "diff")), 1), else_=0)
        has_data = sa.exists().where(d.run_id == r.id)
        data = sa.case((has_data, 1), else_=0)
        both = sa.case((sa.and_(f.code_state.in_(("clean", "diff")), has_data), 1), else_=0)
        environment = sa.case((f.cpu_count.is_not(None), 1), else_=0)
        query = (
            sa.select(
                p.name,
                sa.func.count(),
                sa.func.sum(code),
                sa.func.sum(data),
                sa.func.sum(both),
                sa.func.sum(environment),
            )
            .select_from(t.runs)
            .join(t.projects, p.id == r.project_id)
            .outerjoin(t.run_facts, f.run_id == r.id)
            .where(*self._run_filters(projects, since, until))
            .group_by(p.name)
        )
        counted = {row[0]: row for row in conn.execute(query)}
        # The first run over all time (the (project_id, start_time) index answers each min).
        first_query = (
            sa.select(p.name, sa.func.min(r.start_time))
            .select_from(t.runs)
            .join(t.projects, p.id == r.project_id)
            .where(*self._run_filters(projects, None, None))
            .group_by(p.name)
        )
        firsts = {name: float(first) for name, first in conn.execute(first_query)}
        out = []
        for name in sorted(set(counted) | set(firsts)):
            row = counted.get(name)
            n, c, da, b, env = (0, 0, 0, 0, 0) if row is None else row[1:]
            out.append(
                ReproCounts(
                    project=name,
                    runs=int(n),
                    first_run=firsts.get(name),
                    code=int(c or 0),
                    data=int(da or 0),
                    both=int(b or 0),
                    environment=int(env or 0),
                )
            )
        return out

    @reads
    def monitor_coverage(
        self, conn: Connection, projects: Sequence[str] | None = None
    ) -> list[MonitorCoverage]:
        mon, p, rule, alert = t.monitors.c, t.projects.c, t.alert_rules.c, t.alerts.c
        with_rules = sa.exists().where(rule.monitor_id == mon.id, rule.active.is_(True))
        query = (
            sa.select(mon.model, p.name, mon.name, with_rules)
            .join_from(t.monitors, t.projects, p.id == mon.project_id)
            .where(mon.model.is_not(None))
            .order_by(mon.model, mon.name)
        )
        if projects is not None:
            query = query.where(p.name.in_(list(projects)))
        models: dict[str, tuple[str, list[str], list[str]]] = {}
        for model, project, name, ruled in conn.execute(query):
            _, names, ruled_names = models.setdefault(model, (project, [], []))
            names.append(name)
            if ruled:
                ruled_names.append(name)
        opened: dict[str, list[float]] = {}
        if models:
            alerts_query = (
                sa.select(mon.model, alert.opened_at)
                .join_from(t.alerts, t.monitors, mon.id == alert.monitor_id)
                .where(mon.model.in_(list(models)))
                .order_by(alert.opened_at)
            )
            for model, at in conn.execute(alerts_query):
                opened.setdefault(model, []).append(float(at))
        return [
            MonitorCoverage(
                model=model,
                project=project,
                monitors=tuple(names),
                monitors_with_rules=tuple(ruled),
                alerts_opened=tuple(opened.get(model, ())),
            )
            for model, (project, names, ruled) in sorted(models.items())
        ]
