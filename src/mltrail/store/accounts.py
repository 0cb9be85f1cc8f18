"""Accounts' part of the storage interface: users, API keys, project memberships and the audit log."""

from __future__ import annotations

import abc

from mltrail.entities import (
    ApiKey,
    AuditEvent,
    KeyCredential,
    Membership,
    Role,
    SessionCredential,
    User,
    WebSession,
)

__all__ = ["AccountStore"]


class AccountStore(abc.ABC):
    """Users, hashed API keys, memberships and roles, audit events; every method one transaction."""

    # -- accounts ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_user(self, name: str, role: Role, created_at: float) -> User:
        """A new, enabled user. A name already taken: ConflictError."""

    @abc.abstractmethod
    def get_user(self, name: str) -> User:
        """The user called ``name``; NotFoundError when there is none."""

    @abc.abstractmethod
    def list_users(self) -> list[User]:
        """Every user, ordered by name."""

    @abc.abstractmethod
    def update_user(self, name: str, *, role: Role | None = None, disabled: bool | None = None) -> User:
        """Change the server role and/or the disabled flag (``None`` leaves it); returns the stored user."""

    @abc.abstractmethod
    def create_api_key(
        self,
        *,
        key_id: str,
        user: str,
        name: str,
        secret_hash: str,
        created_at: float,
        expires_at: float | None = None,
    ) -> ApiKey:
        """Record a key by its public id and the sha256 of the whole key (never the key itself).

        A ``key_id`` already used: ConflictError. An unknown user: NotFoundError.
        """

    @abc.abstractmethod
    def get_api_key(self, key_id: str) -> ApiKey:
        """The key with this public id; NotFoundError when there is none."""

    @abc.abstractmethod
    def list_api_keys(self, user: str | None = None) -> list[ApiKey]:
        """Keys (revoked and expired ones too), of one user or of everyone, newest first."""

    @abc.abstractmethod
    def find_key_credential(self, key_id: str) -> KeyCredential | None:
        """The key, its stored hash and its user in one read, to check a presented key; None if unknown."""

    @abc.abstractmethod
    def revoke_api_key(self, key_id: str, revoked_at: float) -> ApiKey:
        """Revoke the key from ``revoked_at`` on; an already revoked key keeps its first revocation time."""

    @abc.abstractmethod
    def touch_api_key(self, key_id: str, used_at: float) -> None:
        """Set the key's ``last_used_at`` (callers do it at most once a minute per key)."""

    # -- web sessions -----------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_session(
        self, *, token_hash: str, key_id: str, created_at: float, expires_at: float
    ) -> WebSession:
        """Record a web session made from the key ``key_id`` (its token's sha256, never the token). Sessions
        that expired before ``created_at`` are deleted in the same transaction. An unknown key: NotFoundError.
        """

    @abc.abstractmethod
    def find_session_credential(self, token_hash: str) -> SessionCredential | None:
        """The session with this token hash, its key and its user in one read; None if unknown."""

    @abc.abstractmethod
    def revoke_session(self, token_hash: str, revoked_at: float) -> bool:
        """End the session from ``revoked_at`` on (a revoked one keeps its first time); False if unknown."""

    @abc.abstractmethod
    def set_project_member(self, project: str, user: str, role: Role) -> Membership:
        """Give ``user`` ``role`` on ``project`` (created if new), replacing any membership they had.

        An unknown user: NotFoundError.
        """

    @abc.abstractmethod
    def remove_project_member(self, project: str, user: str) -> bool:
        """Remove the membership, so the user's server role applies again; False when there was none."""

    @abc.abstractmethod
    def list_project_members(self, project: str | None = None, user: str | None = None) -> list[Membership]:
        """Membership rows, of one project and/or one user, ordered by project and user."""

    @abc.abstractmethod
    def get_project_role(self, project: str, user: str) -> Role:
        """The user's effective role on the project: ``admin`` for a server admin, else the project's
        membership row, else the server role. The project need not exist (then the server role applies);
        an unknown user: NotFoundError."""

    @abc.abstractmethod
    def get_run_project(self, run_id: str) -> str:
        """The name of the run's project, by exact run id: a cheap lookup for authorization.

        NotFoundError (with the same message as every other method's) when there is no such run.
        """

    # -- audit ------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def append_audit_event(self, event: AuditEvent) -> int:
        """Append an event (its ``id`` is ignored); returns the id it was given. Events are never changed."""

    @abc.abstractmethod
    def query_audit_events(
        self,
        *,
        user: str | None = None,
        project: str | None = None,
        action: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuditEvent]:
        """Events matching every given filter (``since`` ≤ time < ``until``), newest first."""
