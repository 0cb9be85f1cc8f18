"""Users, API keys (their hash, never the key), project memberships and the lookups authorization needs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import ApiKey, KeyCredential, Membership, Role, User
from mltrail.errors import ConflictError, NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["AccountsMixin"]

_USER_COLUMNS = (t.users.c.id, t.users.c.name, t.users.c.role, t.users.c.disabled, t.users.c.created_at)
_KEY_COLUMNS = (
    t.api_keys.c.key_id,
    t.users.c.name.label("user"),
    t.api_keys.c.name,
    t.api_keys.c.created_at,
    t.api_keys.c.expires_at,
    t.api_keys.c.revoked_at,
    t.api_keys.c.last_used_at,
)
_KEYS_JOIN = t.api_keys.join(t.users, t.users.c.id == t.api_keys.c.user_id)


def _user(row: Any) -> User:
    return User(
        id=int(row.id),
        name=row.name,
        role=Role(row.role),
        disabled=bool(row.disabled),
        created_at=row.created_at,
    )


def _key(row: Any) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,
        user=row.user,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _no_key(key_id: str) -> NotFoundError:
    return NotFoundError(f"no API key {key_id!r}")


class AccountsMixin(SqlBase):
    """Accounts: users, keys, memberships and role resolution."""

    # -- users ------------------------------------------------------------------------------------------
    @staticmethod
    def _get_user(conn: Connection, name: str) -> User:
        row = conn.execute(sa.select(*_USER_COLUMNS).where(t.users.c.name == name)).one_or_none()
        if row is None:
            raise NotFoundError(f"no user {name!r}")
        return _user(row)

    @writes
    def create_user(self, conn: Connection, name: str, role: Role, created_at: float) -> User:
        if conn.execute(sa.select(t.users.c.id).where(t.users.c.name == name)).first() is not None:
            raise ConflictError(f"a user called {name!r} already exists")
        conn.execute(
            t.users.insert().values(name=name, role=Role(role).value, disabled=False, created_at=created_at)
        )
        return self._get_user(conn, name)

    @reads
    def get_user(self, conn: Connection, name: str) -> User:
        return self._get_user(conn, name)

    @reads
    def list_users(self, conn: Connection) -> list[User]:
        return [_user(row) for row in conn.execute(sa.select(*_USER_COLUMNS).order_by(t.users.c.name))]

    @writes
    def update_user(
        self, conn: Connection, name: str, *, role: Role | None = None, disabled: bool | None = None
    ) -> User:
        changes: dict[str, Any] = {}
        if role is not None:
            changes["role"] = Role(role).value
        if disabled is not None:
            changes["disabled"] = bool(disabled)
        if changes:
            updated = conn.execute(t.users.update().where(t.users.c.name == name).values(**changes))
            if updated.rowcount == 0:
                raise NotFoundError(f"no user {name!r}")
        return self._get_user(conn, name)

    # -- keys -------------------------------------------------------------------------------------------
    @staticmethod
    def _get_key(conn: Connection, key_id: str) -> ApiKey:
        row = conn.execute(
            sa.select(*_KEY_COLUMNS).select_from(_KEYS_JOIN).where(t.api_keys.c.key_id == key_id)
        ).one_or_none()
        if row is None:
            raise _no_key(key_id)
        return _key(row)

    @writes
    def create_api_key(
        self,
        conn: Connection,
        *,
        key_id: str,
        user: str,
        name: str,
        secret_hash: str,
        created_at: float,
        expires_at: float | None = None,
    ) -> ApiKey:
        user_id = self._get_user(conn, user).id
        taken = conn.execute(sa.select(t.api_keys.c.id).where(t.api_keys.c.key_id == key_id)).first()
        if taken is not None:
            raise ConflictError(f"an API key with id {key_id!r} already exists")
        conn.execute(
            t.api_keys.insert().values(
                key_id=key_id,
                user_id=user_id,
                name=name,
                secret_hash=secret_hash,
                created_at=created_at,
                expires_at=expires_at,
            )
        )
        return self._get_key(conn, key_id)

    @reads
    def get_api_key(self, conn: Connection, key_id: str) -> ApiKey:
        return self._get_key(conn, key_id)

    @reads
    def list_api_keys(self, conn: Connection, user: str | None = None) -> list[ApiKey]:
        query = sa.select(*_KEY_COLUMNS).select_from(_KEYS_JOIN)
        if user is not None:
            query = query.where(t.users.c.id == self._get_user(conn, user).id)
        query = query.order_by(t.api_keys.c.created_at.desc(), t.api_keys.c.id.desc())
        return [_key(row) for row in conn.execute(query)]

    @reads
    def find_key_credential(self, conn: Connection, key_id: str) -> KeyCredential | None:
        u = t.users.c
        query = (
            sa.select(
                *_KEY_COLUMNS,
                t.api_keys.c.secret_hash,
                u.id.label("user_id"),
                u.role.label("user_role"),
                u.disabled.label("user_disabled"),
                u.created_at.label("user_created_at"),
            )
            .select_from(_KEYS_JOIN)
            .where(t.api_keys.c.key_id == key_id)
        )
        row = conn.execute(query).one_or_none()
        if row is None:
            return None
        user = User(
            id=int(row.user_id),
            name=row.user,
            role=Role(row.user_role),
            disabled=bool(row.user_disabled),
            created_at=row.user_created_at,
        )
        return KeyCredential(key=_key(row), secret_hash=row.secret_hash, user=user)

    @writes
    def revoke_api_key(self, conn: Connection, key_id: str, revoked_at: float) -> ApiKey:
        k = t.api_keys.c
        self._get_key(conn, key_id)
        unrevoked = t.api_keys.update().where(k.key_id == key_id, k.revoked_at.is_(None))
        conn.execute(unrevoked.values(revoked_at=revoked_at))
        return self._get_key(conn, key_id)

    @writes
    def touch_api_key(self, conn: Connection, key_id: str, used_at: float) -> None:
        k = t.api_keys.c
        conn.execute(t.api_keys.update().where(k.key_id == key_id).values(last_used_at=used_at))

    # -- memberships ------------------------------------------------------------------------------------
    @writes
    def set_project_member(self, conn: Connection, project: str, user: str, role: Role) -> Membership:
        user_id = self._get_user(conn, user).id
        project_id = self._ensure_project(conn, project)
        stmt = self._insert(t.project_members).values(
            project_id=project_id, user_id=user_id, role=Role(role).value
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["project_id", "user_id"], set_={"role": stmt.excluded.role}
        )
        conn.execute(stmt)
        return Membership(project=project, user=user, role=Role(role))

    @writes
    def remove_project_member(self, conn: Connection, project: str, user: str) -> bool:
        m = t.project_members.c
        user_id = self._get_user(conn, user).id
        project_id = sa.select(t.projects.c.id).where(t.projects.c.name == project).scalar_subquery()
        removed = conn.execute(
            t.project_members.delete().where(m.user_id == user_id, m.project_id == project_id)
        )
        return bool(removed.rowcount)

    @reads
    def list_project_members(
        self, conn: Connection, project: str | None = None, user: str | None = None
    ) -> list[Membership]:
        m = t.project_members.c
        query = sa.select(
            t.projects.c.name.label("project"), t.users.c.name.label("user"), m.role
        ).select_from(
            t.project_members.join(t.projects, t.projects.c.id == m.project_id).join(
                t.users, t.users.c.id == m.user_id
            )
        )
        if project is not None:
            query = query.where(t.projects.c.name == project)
        if user is not None:
            query = query.where(t.users.c.name == user)
        query = query.order_by(t.projects.c.name, t.users.c.name)
        return [Membership(project=r.project, user=r.user, role=Role(r.role)) for r in conn.execute(query)]

    @reads
    def get_project_role(self, conn: Connection, project: str, user: str) -> Role:
        m = t.project_members.c
        membership = (
            sa.select(m.role)
            .select_from(t.project_members.join(t.projects, t.projects.c.id == m.project_id))
            .where(m.user_id == t.users.c.id, t.projects.c.name == project)
            .scalar_subquery()
        )
        row = conn.execute(
            sa.select(t.users.c.role, membership.label("member_role")).where(t.users.c.name == user)
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"no user {user!r}")
        server_role = Role(row.role)
        if server_role == Role.ADMIN:
            return Role.ADMIN
        return Role(row.member_role) if row.member_role is not None else server_role

    # -- authorization lookups --------------------------------------------------------------------------
    @reads
    def get_run_project(self, conn: Connection, run_id: str) -> str:
        query = (
            sa.select(t.projects.c.name)
            .select_from(t.runs.join(t.projects, t.projects.c.id == t.runs.c.project_id))
            .where(t.runs.c.id == run_id)
        )
        name = conn.execute(query).scalar_one_or_none()
        if name is None:
            raise NotFoundError(f"no run {run_id!r}")
        return str(name)
