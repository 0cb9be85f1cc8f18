"""Projects and runs: creating, reading, updating and deleting them with their params, tags and summaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import Project, Run, RunStatus, Value
from mltrail.errors import ConflictError, InvalidInputError, NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import decode_value, dump_json, encode_value, load_json
from mltrail.store.sql.core import SqlBase, reads, writes
from mltrail.store.sql.insight_facts import INSERT_FACTS, fact_row, hardware_values, refresh_seconds
from mltrail.store.sql.loading import RUN_COLUMNS, load_runs

__all__ = ["RunsMixin"]

MAX_RUN_ID = 64
_RUN_EXISTS = sa.select(t.runs.c.id).where(t.runs.c.id == sa.bindparam("b_run_id"))
_INSERT_RUN = t.runs.insert()


def _projects_query() -> sa.Select[Any]:
    r = t.runs.c
    return (
        sa.select(
            t.projects.c.id,
            t.projects.c.name,
            t.projects.c.created_at,
            sa.func.count(r.id).label("run_count"),
            sa.func.max(r.start_time).label("last_run_at"),
        )
        .select_from(t.projects.outerjoin(t.runs, r.project_id == t.projects.c.id))
        .group_by(t.projects.c.id, t.projects.c.name, t.projects.c.created_at)
    )


def _project(row: Any) -> Project:
    return Project(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        run_count=int(row.run_count),
        last_run_at=row.last_run_at,
    )


class RunsMixin(SqlBase):
    """Projects, runs and the keyed values of a run."""

    # -- projects ---------------------------------------------------------------------------------------
    @writes
    def get_or_create_project(self, conn: Connection, name: str) -> Project:
        self._ensure_project(conn, name)
        return self._get_project(conn, name)

    @reads
    def get_project(self, conn: Connection, name: str) -> Project:
        return self._get_project(conn, name)

    @staticmethod
    def _get_project(conn: Connection, name: str) -> Project:
        row = conn.execute(_projects_query().where(t.projects.c.name == name)).one_or_none()
        if row is None:
            raise NotFoundError(f"no project {name!r}")
        return _project(row)

    @reads
    def list_projects(self, conn: Connection) -> list[Project]:
        return [_project(row) for row in conn.execute(_projects_query().order_by(t.projects.c.name))]

    # -- runs -------------------------------------------------------------------------------------------
    @writes
    def create_run(
        self,
        conn: Connection,
        *,
        run_id: str,
        project: str,
        name: str,
        user: str | None,
        start_time: float,
        params: Mapping[str, Value] | None = None,
        tags: Mapping[str, str] | None = None,
        notes: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Run:
        if not run_id or len(run_id) > MAX_RUN_ID:
            raise InvalidInputError(
                f"a run id has 1 to {MAX_RUN_ID} characters, got {run_id!r}", field="run_id"
            )
        project_id = self._ensure_project(conn, project)
        if conn.execute(_RUN_EXISTS, {"b_run_id": run_id}).first() is not None:
            raise ConflictError(f"a run with id {run_id!r} already exists")
        context_json = dump_json(dict(context or {}))
        conn.execute(
            _INSERT_RUN,
            {
                "id": run_id,
                "project_id": project_id,
                "name": name,
                "status": RunStatus.RUNNING.value,
                "user": user,
                "start_time": start_time,
                "notes": notes,
                "context": context_json,
            },
        )
        conn.execute(INSERT_FACTS, fact_row(run_id, project_id, user, start_time, context or {}))
        param_rows = self._upsert_values(conn, t.params, run_id, params or {}, "params")
        tag_rows = self._upsert_tags(conn, run_id, tags or {})
        # The new run as get_run would read it back, built from what was written (no second round trip):
        # values decoded from their stored form, keys sorted.
        decoded = {r["key"]: decode_value(r["value_type"], r["value_json"]) for r in sorted_rows(param_rows)}
        return Run(
            id=run_id,
            project=project,
            name=name,
            status=RunStatus.RUNNING,
            user=user,
            start_time=start_time,
            notes=notes,
            params=decoded,
            tags={r["key"]: r["value"] for r in sorted_rows(tag_rows)},
            context=load_json(context_json) or {},
        )

    @reads
    def get_run(self, conn: Connection, run_id: str) -> Run:
        return self._get_run(conn, run_id)

    @reads
    def get_run_status(self, conn: Connection, run_id: str) -> RunStatus:
        return RunStatus(self._require_run(conn, run_id))

    @staticmethod
    def _get_run(conn: Connection, run_id: str) -> Run:
        query = (
            sa.select(*RUN_COLUMNS)
            .select_from(t.runs.join(t.projects, t.projects.c.id == t.runs.c.project_id))
            .where(t.runs.c.id == run_id)
        )
        rows = conn.execute(query).all()
        if not rows:
            raise NotFoundError(f"no run {run_id!r}")
        return load_runs(conn, rows)[0]

    @writes
    def reopen_run(self, conn: Connection, run_id: str, *, at: float) -> None:
        reopened = conn.execute(
            t.runs.update()
            .where(t.runs.c.id == run_id)
            .values(status=RunStatus.RUNNING.value, end_time=None, error=None, heartbeat_at=at)
        )
        if reopened.rowcount == 0:
            raise NotFoundError(f"no run {run_id!r}")
        refresh_seconds(conn, run_id, end_time=None, heartbeat_at=at)

    @reads
    def find_run_ids(
        self, conn: Connection, ref: str, project: str | None = None, limit: int = 10
    ) -> list[str]:
        r = t.runs.c
        # substr instead of LIKE: exact, case-sensitive, and '%' or '_' in ref are plain characters.
        match = sa.or_(r.id == ref, sa.func.substr(r.id, 1, len(ref)) == ref, r.name == ref)
        query = sa.select(r.id).where(match)
        if project is not None:
            query = query.join(t.projects, t.projects.c.id == r.project_id).where(
                t.projects.c.name == project
            )
        query = query.order_by(r.start_time.desc(), r.id).limit(limit)
        return [str(run_id) for run_id in conn.execute(query).scalars()]

    @writes
    def update_run(
        self,
        conn: Connection,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: float | None = None,
        heartbeat_at: float | None = None,
        error: Mapping[str, str] | None = None,
        notes: str | None = None,
        name: str | None = None,
    ) -> None:
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = RunStatus(status).value
        if end_time is not None:
            changes["end_time"] = end_time
        if heartbeat_at is not None:
            changes["heartbeat_at"] = heartbeat_at
        if error is not None:
            changes["error"] = dump_json(dict(error))
        if notes is not None:
            changes["notes"] = notes
        if name is not None:
            changes["name"] = name
        if not changes:
            self._require_run(conn, run_id)
            return
        columns = tuple(changes)
        stmt = self._statement(
            f"update_run:{','.join(columns)}",
            lambda: (
                t.runs.update()
                .where(t.runs.c.id == sa.bindparam("b_run_id"))
                .values({c: sa.bindparam(c) for c in columns})
            ),
        )
        updated = conn.execute(stmt, {"b_run_id": run_id, **changes})
        if updated.rowcount == 0:
            raise NotFoundError(f"no run {run_id!r}")
        if end_time is not None or heartbeat_at is not None:
            refresh_seconds(conn, run_id, end_time=end_time, heartbeat_at=heartbeat_at)

    @writes
    def set_params(self, conn: Connection, run_id: str, params: Mapping[str, Value]) -> None:
        self._require_run(conn, run_id)
        self._upsert_values(conn, t.params, run_id, params, "params")

    @writes
    def set_summary(self, conn: Connection, run_id: str, values: Mapping[str, Value]) -> None:
        self._require_run(conn, run_id)
        self._upsert_values(conn, t.summaries, run_id, values, "summary")

    @writes
    def set_tags(self, conn: Connection, run_id: str, tags: Mapping[str, str]) -> None:
        self._require_run(conn, run_id)
        self._upsert_tags(conn, run_id, tags)

    @writes
    def delete_tags(self, conn: Connection, run_id: str, keys: Sequence[str]) -> None:
        self._require_run(conn, run_id)
        if keys:
            conn.execute(t.tags.delete().where(t.tags.c.run_id == run_id, t.tags.c.key.in_(list(keys))))

    @writes
    def update_context(self, conn: Connection, run_id: str, context: Mapping[str, Any]) -> None:
        query = sa.select(t.runs.c.context).where(t.runs.c.id == run_id).with_for_update()
        current = conn.execute(query).scalar_one_or_none()
        if current is None:
            raise NotFoundError(f"no run {run_id!r}")
        merged = dict(load_json(current) or {})
        merged.update(context)
        conn.execute(t.runs.update().where(t.runs.c.id == run_id).values(context=dump_json(merged)))
        facts = t.run_facts.update().where(t.run_facts.c.run_id == run_id)
        conn.execute(facts.values(hardware_values(merged)))

    @writes
    def delete_run(self, conn: Connection, run_id: str) -> None:
        self._require_run(conn, run_id, lock=True)
        key_ids = sa.select(t.metric_keys.c.id).where(t.metric_keys.c.run_id == run_id).scalar_subquery()
        conn.execute(t.metric_points.delete().where(t.metric_points.c.key_id.in_(key_ids)))
        per_run = (t.metric_keys, t.params, t.summaries, t.tags, t.batches, t.run_datasets, t.artifacts)
        for table in (*per_run, t.run_tables, t.run_media, t.run_facts):
            conn.execute(table.delete().where(table.c.run_id == run_id))
        conn.execute(t.runs.delete().where(t.runs.c.id == run_id))

    @writes
    def mark_stale_runs_crashed(self, conn: Connection, heartbeat_before: float) -> int:
        r = t.runs.c
        last_sign = sa.func.coalesce(r.heartbeat_at, r.start_time)
        result = conn.execute(
            t.runs.update()
            .where(r.status == RunStatus.RUNNING.value, last_sign < heartbeat_before)
            .values(status=RunStatus.CRASHED.value)
        )
        return int(result.rowcount)

    # -- helpers ----------------------------------------------------------------------------------------
    def _upsert_values(
        self, conn: Connection, table: sa.Table, run_id: str, values: Mapping[str, Value], field: str
    ) -> list[dict[str, Any]]:
        """Insert or replace keyed values; returns the rows written."""
        if not values:
            return []
        rows = []
        for key, value in values.items():
            value_type, value_json, num_value, str_value = encode_value(value, f"{field}.{key}")
            rows.append(
                {
                    "run_id": run_id,
                    "key": key,
                    "value_type": value_type,
                    "value_json": value_json,
                    "num_value": num_value,
                    "str_value": str_value,
                }
            )
        conn.execute(self._upsert_statement(table), rows)
        return rows

    def _upsert_tags(self, conn: Connection, run_id: str, tags: Mapping[str, str]) -> list[dict[str, Any]]:
        if not tags:
            return []
        rows = [{"run_id": run_id, "key": k, "value": str(v)} for k, v in tags.items()]
        conn.execute(self._upsert_statement(t.tags), rows)
        return rows

    def _upsert_statement(self, table: sa.Table) -> Any:
        """INSERT … ON CONFLICT (run_id, key) DO UPDATE for a keyed-value table, built once per store."""
        cache: dict[str, Any] = self.__dict__.setdefault("_upserts", {})
        stmt = cache.get(table.name)
        if stmt is None:
            insert = self._insert(table)
            columns = [c.name for c in table.columns if c.name not in ("run_id", "key")]
            stmt = cache[table.name] = insert.on_conflict_do_update(
                index_elements=["run_id", "key"], set_={name: insert.excluded[name] for name in columns}
            )
        return stmt


def sorted_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows by key, the last of equal keys winning, as a reader sees them."""
    return sorted({row["key"]: row for row in rows}.values(), key=lambda row: str(row["key"]))
