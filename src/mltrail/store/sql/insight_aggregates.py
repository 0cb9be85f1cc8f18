"""Team insights' aggregates: usage per group and hardware, the costliest runs, runs by what they
captured (all over the narrow ``run_facts`` table, never the wide runs rows); production moves; monitor
coverage. Each is one or two grouped queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import MonitorCoverage, ProductionEvent, ReproCounts, RunUsage, UsageCell
from mltrail.errors import InvalidInputError
from mltrail.store.sql import schema as t
from mltrail.store.sql.core import SqlBase, reads
from mltrail.store.sql.insight_facts import WEEK, WEEK_ORIGIN

__all__ = ["InsightAggregatesMixin"]

_TO_PRODUCTION = '%"to":"production"%'
_VIA_REQUEST = '%"request":%'
_GROUPS = ("project", "user", "week")
_F = t.run_facts.c
_R = t.runs.c


def _facts_where(projects: Sequence[str] | None, since: float | None, until: float | None) -> list[Any]:
    where: list[Any] = []
    if projects is not None:
        ids = sa.select(t.projects.c.id).where(t.projects.c.name.in_(list(projects)))
        where.append(_F.project_id.in_(ids))
    if since is not None:
        where.append(_F.start_time >= since)
    if until is not None:
        where.append(_F.start_time < until)
    return where


def _hours() -> tuple[Any, Any, Any]:
    hours = _F.seconds / 3600.0
    return hours, hours * sa.func.coalesce(_F.cpu_count, 1), hours * _F.gpu_count


class InsightAggregatesMixin(SqlBase):
    def _project_names(self, conn: Connection) -> dict[int, str]:
        return {
            int(pid): str(name) for pid, name in conn.execute(sa.select(t.projects.c.id, t.projects.c.name))
        }

    @reads
    def usage(
        self,
        conn: Connection,
        projects: Sequence[str] | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        by: Sequence[str] = _GROUPS,
    ) -> list[UsageCell]:
        unknown = set(by) - set(_GROUPS)
        if unknown:
            raise InvalidInputError(
                f"usage groups by {', '.join(_GROUPS)}, not {sorted(unknown)}", field="by"
            )
        columns = {"project": _F.project_id, "user": _F.user, "week": _F.week}
        keys = [columns[g] for g in _GROUPS if g in by]
        hours, cores, gpus = _hours()
        query = (
            sa.select(
                *keys,
                _F.gpu_kind,
                sa.func.count(),
                sa.func.sum(hours),
                sa.func.sum(cores),
                sa.func.sum(gpus),
            )
            .where(*_facts_where(projects, since, until))
            .group_by(*keys, _F.gpu_kind)
        )
        names = self._project_names(conn) if "project" in by else {}
        cells = []
        for row in conn.execute(query):
            values = dict(zip([g for g in _GROUPS if g in by], row[: len(keys)], strict=True))
            gpu_kind, n, h, c, g = row[len(keys) :]
            week = values.get("week")
            cells.append(
                UsageCell(
                    project=names.get(values["project"]) if "project" in values else None,
                    user=values.get("user"),
                    week_start=None if week is None else float(WEEK_ORIGIN + int(week) * WEEK),
                    gpu_kind=gpu_kind,
                    runs=int(n),
                    hours=float(h or 0.0),
                    cpu_hours=float(c or 0.0),
                    gpu_hours=float(g or 0.0),
                )
            )
        return cells

    @reads
    def experiment_counts(
        self,
        conn: Connection,
        projects: Sequence[str] | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        by: str = "project",
    ) -> list[UsageCell]:
        if by not in ("project", "user"):
            raise InvalidInputError(f"experiments are counted by project or user, not {by!r}", field="by")
        key = _F.project_id if by == "project" else _F.user
        query = (
            sa.select(_F.week, key, sa.func.count())
            .where(*_facts_where(projects, since, until))
            .group_by(_F.week, key)
        )
        names = self._project_names(conn) if by == "project" else {}
        return [
            UsageCell(
                project=names.get(group) if by == "project" else None,
                user=group if by == "user" else None,
                week_start=float(WEEK_ORIGIN + int(week) * WEEK),
                gpu_kind=None,
                runs=int(n),
                hours=0.0,
                cpu_hours=0.0,
                gpu_hours=0.0,
            )
            for week, group, n in conn.execute(query)
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
        hours, cores, gpus = _hours()
        per_gpu: Any = sa.literal(float(gpu_price))
        if gpu_prices:
            per_gpu = sa.case(
                *((_F.gpu_kind == name, sa.literal(float(v))) for name, v in gpu_prices.items()),
                else_=sa.literal(float(gpu_price)),
            )
        cost = (cores * sa.literal(float(cpu_price)) + gpus * per_gpu).label("cost")
        query = (
            sa.select(_F.run_id, _F.project_id, _F.user, _F.start_time, _F.gpu_kind, hours, cores, gpus, cost)
            .where(*_facts_where(projects, since, until))
            .order_by(sa.desc("cost"), _F.start_time.desc(), _F.run_id)
            .limit(limit)
        )
        rows = conn.execute(query).all()
        names = self._project_names(conn)
        run_names: dict[str, str] = {}
        if rows:
            found = sa.select(t.runs.c.id, t.runs.c.name).where(t.runs.c.id.in_([r[0] for r in rows]))
            run_names = {str(rid): str(name) for rid, name in conn.execute(found)}
        return [
            RunUsage(
                run_id=run_id,
                project=names.get(project_id, ""),
                name=run_names.get(run_id, ""),
                user=user,
                start_time=float(start),
                gpu_kind=gpu_kind,
                hours=float(h or 0.0),
                cpu_hours=float(c or 0.0),
                gpu_hours=float(g or 0.0),
                cost=float(total or 0.0),
            )
            for run_id, project_id, user, start, gpu_kind, h, c, g, total in rows
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
        rebuilt = _F.code_state.in_(("clean", "diff"))
        code = sa.case((rebuilt, 1), else_=0)
        data = sa.case((_F.has_data.is_(True), 1), else_=0)
        both = sa.case((sa.and_(rebuilt, _F.has_data.is_(True)), 1), else_=0)
        environment = sa.case((_F.cpu_count.is_not(None), 1), else_=0)
        query = (
            sa.select(
                _F.project_id,
                sa.func.count(),
                sa.func.sum(code),
                sa.func.sum(data),
                sa.func.sum(both),
                sa.func.sum(environment),
            )
            .where(*_facts_where(projects, since, until))
            .group_by(_F.project_id)
        )
        counted = {row[0]: row for row in conn.execute(query)}
        # The first run over all time: one probe of the runs' (project_id, start_time) index per project.
        names = self._project_names(conn)
        wanted = [pid for pid, name in names.items() if projects is None or name in projects]
        firsts: dict[int, float] = {}
        for pid in wanted:
            first = conn.execute(sa.select(sa.func.min(_R.start_time)).where(_R.project_id == pid)).scalar()
            if first is not None:
                firsts[pid] = float(first)
        out = []
        for pid in sorted(set(counted) | set(firsts), key=lambda p: names.get(p, "")):
            row = counted.get(pid)
            n, c, da, b, env = (0, 0, 0, 0, 0) if row is None else row[1:]
            out.append(
                ReproCounts(
                    project=names.get(pid, ""),
                    runs=int(n),
                    first_run=firsts.get(pid),
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
