"""Deployments and their spec versions in SQL: versions appended under a lock on the deployment row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import Deployment, DeploymentSpec, DeploymentVersion
from mltrail.errors import ConflictError, NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["DeploymentsMixin"]

_D = t.deployments.c
_V = t.deployment_versions.c


def _version_of(name: str, row: Any) -> DeploymentVersion:
    return DeploymentVersion(
        deployment=name,
        version=int(row.version),
        spec=DeploymentSpec.from_dict(load_json(row.spec)),
        action=row.action,
        user=row.user,
        time=float(row.time),
        comment=row.comment,
        details=load_json(row.details) or {},
        client=row.client,
        user_agent=row.user_agent,
    )


def _version_values(change: DeploymentVersion) -> dict[str, Any]:
    return {
        "spec": dump_json(change.spec.to_dict()),
        "action": change.action,
        "user": change.user,
        "time": change.time,
        "comment": change.comment,
        "details": dump_json(change.details),
        "client": change.client,
        "user_agent": change.user_agent,
    }


class DeploymentsMixin(SqlBase):
    def _deployment_row(self, conn: Connection, name: str, *, lock: bool = False) -> Any:
        query = (
            sa.select(
                _D.id,
                _D.name,
                _D.current_version,
                _D.created_at,
                _D.created_by,
                t.projects.c.name.label("project"),
            )
            .join(t.projects, t.projects.c.id == _D.project_id)
            .where(_D.name == name)
        )
        if lock and not self._sqlite:
            query = query.with_for_update(of=t.deployments)
        row = conn.execute(query).one_or_none()
        if row is None:
            raise NotFoundError(f"no deployment {name!r}")
        return row

    def _load_deployment(self, conn: Connection, row: Any) -> Deployment:
        version = conn.execute(
            sa.select(t.deployment_versions).where(
                _V.deployment_id == row.id, _V.version == row.current_version
            )
        ).one()
        return Deployment(
            name=row.name,
            project=row.project,
            created_at=float(row.created_at),
            created_by=row.created_by,
            current=_version_of(row.name, version),
        )

    @writes
    def create_deployment(
        self, conn: Connection, *, name: str, project: str, created_at: float, first: DeploymentVersion
    ) -> Deployment:
        if conn.execute(sa.select(_D.id).where(_D.name == name)).first() is not None:
            raise ConflictError(f"a deployment named {name!r} exists already")
        project_id = self._ensure_project(conn, project)
        deployment_id = conn.execute(
            t.deployments.insert()
            .values(
                name=name,
                project_id=project_id,
                current_version=1,
                created_at=created_at,
                created_by=first.user,
            )
            .returning(_D.id)
        ).scalar_one()
        conn.execute(
            t.deployment_versions.insert().values(
                deployment_id=deployment_id, version=1, **_version_values(first)
            )
        )
        return self._load_deployment(conn, self._deployment_row(conn, name))

    @reads
    def get_deployment(self, conn: Connection, name: str) -> Deployment:
        return self._load_deployment(conn, self._deployment_row(conn, name))

    @reads
    def list_deployments(
        self, conn: Connection, *, projects: Sequence[str] | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[Deployment], int]:
        base = sa.select(
            _D.id,
            _D.name,
            _D.current_version,
            _D.created_at,
            _D.created_by,
            t.projects.c.name.label("project"),
        ).join(t.projects, t.projects.c.id == _D.project_id)
        if projects is not None:
            if not projects:
                return [], 0
            base = base.where(t.projects.c.name.in_(list(projects)))
        total = conn.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
        rows = conn.execute(base.order_by(_D.name).offset(offset).limit(limit)).all()
        return [self._load_deployment(conn, row) for row in rows], int(total)

    @writes
    def add_deployment_version(
        self, conn: Connection, name: str, change: DeploymentVersion, *, expected_version: int
    ) -> Deployment:
        # The row lock (PostgreSQL; SQLite writes are serialized by BEGIN IMMEDIATE) makes this a
        # compare-and-set: of two changes made on top of one version, the second is refused.
        row = self._deployment_row(conn, name, lock=True)
        if row.current_version != expected_version:
            raise ConflictError(
                f"deployment {name!r} is at version {row.current_version}, not {expected_version}:"
                " another change came first; read it and try again"
            )
        number = expected_version + 1
        conn.execute(
            t.deployment_versions.insert().values(
                deployment_id=row.id, version=number, **_version_values(change)
            )
        )
        conn.execute(t.deployments.update().where(_D.id == row.id).values(current_version=number))
        return self._load_deployment(conn, self._deployment_row(conn, name))

    @reads
    def list_deployment_versions(
        self, conn: Connection, name: str, *, offset: int = 0, limit: int = 100
    ) -> tuple[list[DeploymentVersion], int]:
        row = self._deployment_row(conn, name)
        rows = conn.execute(
            sa.select(t.deployment_versions)
            .where(_V.deployment_id == row.id)
            .order_by(_V.version.desc())
            .offset(offset)
            .limit(limit)
        ).all()
        return [_version_of(name, r) for r in rows], int(row.current_version)

    @reads
    def get_deployment_version(self, conn: Connection, name: str, version: int) -> DeploymentVersion:
        row = self._deployment_row(conn, name)
        found = conn.execute(
            sa.select(t.deployment_versions).where(_V.deployment_id == row.id, _V.version == version)
        ).one_or_none()
        if found is None:
            raise NotFoundError(f"deployment {name!r} has no version {version}")
        return _version_of(name, found)
