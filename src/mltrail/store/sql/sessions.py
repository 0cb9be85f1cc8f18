"""Web UI sessions: the sha256 of each cookie token, the key it was made from, expiry and sign-out."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import ApiKey, Role, SessionCredential, User, WebSession
from mltrail.errors import NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["SessionsMixin"]

_s, _k, _u = t.web_sessions.c, t.api_keys.c, t.users.c
_JOIN = t.web_sessions.join(t.api_keys, _k.id == _s.api_key_id).join(t.users, _u.id == _k.user_id)
_CREDENTIAL = sa.select(
    _s.id,
    _s.created_at,
    _s.expires_at,
    _s.revoked_at,
    _k.key_id,
    _k.name.label("key_name"),
    _k.created_at.label("key_created_at"),
    _k.expires_at.label("key_expires_at"),
    _k.revoked_at.label("key_revoked_at"),
    _k.last_used_at.label("key_last_used_at"),
    _u.id.label("user_id"),
    _u.name.label("user"),
    _u.role.label("user_role"),
    _u.disabled.label("user_disabled"),
    _u.created_at.label("user_created_at"),
).select_from(_JOIN)


class SessionsMixin(SqlBase):
    """Web sessions: made from a key, found by token hash with their key and user, revoked at sign-out."""

    @staticmethod
    def _credential(conn: Connection, where: sa.ColumnElement[bool]) -> SessionCredential | None:
        row = conn.execute(_CREDENTIAL.where(where)).one_or_none()
        if row is None:
            return None
        key = ApiKey(
            key_id=row.key_id,
            user=row.user,
            name=row.key_name,
            created_at=row.key_created_at,
            expires_at=row.key_expires_at,
            revoked_at=row.key_revoked_at,
            last_used_at=row.key_last_used_at,
        )
        user = User(
            id=int(row.user_id),
            name=row.user,
            role=Role(row.user_role),
            disabled=bool(row.user_disabled),
            created_at=row.user_created_at,
        )
        session = WebSession(
            id=int(row.id),
            user=row.user,
            key_id=row.key_id,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )
        return SessionCredential(session=session, key=key, user=user)

    @writes
    def create_session(
        self, conn: Connection, *, token_hash: str, key_id: str, created_at: float, expires_at: float
    ) -> WebSession:
        found = conn.execute(sa.select(_k.id).where(_k.key_id == key_id)).scalar_one_or_none()
        if found is None:
            raise NotFoundError(f"no API key {key_id!r}")
        # Expired sessions are of no use to anyone: each sign-in sweeps them (an indexed range delete).
        conn.execute(t.web_sessions.delete().where(_s.expires_at < created_at))
        conn.execute(
            t.web_sessions.insert().values(
                token_hash=token_hash, api_key_id=found, created_at=created_at, expires_at=expires_at
            )
        )
        made = self._credential(conn, _s.token_hash == token_hash)
        assert made is not None
        return made.session

    @reads
    def find_session_credential(self, conn: Connection, token_hash: str) -> SessionCredential | None:
        return self._credential(conn, _s.token_hash == token_hash)

    @writes
    def revoke_session(self, conn: Connection, token_hash: str, revoked_at: float) -> bool:
        stmt = t.web_sessions.update().where(_s.token_hash == token_hash, _s.revoked_at.is_(None))
        done = conn.execute(stmt.values(revoked_at=revoked_at))
        if done.rowcount:
            return True
        exists = conn.execute(sa.select(_s.id).where(_s.token_hash == token_hash)).first()
        return exists is not None
