"""Accounts' entities: roles, users, API keys, web sessions, memberships and audit events."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "ApiKey",
    "AuditEvent",
    "KeyCredential",
    "Membership",
    "Role",
    "SessionCredential",
    "User",
    "WebSession",
]


# -- accounts (the team server) ------------------------------------------------------------------------------
class Role(enum.StrEnum):
    """One ladder: each role can do everything the roles below it can.

    ``none`` sees nothing; ``viewer`` reads; ``member`` creates runs (and projects on first use) and writes to
    them; ``maintainer`` also deletes runs and manages a project's memberships; ``admin`` (a server role)
    manages users, anyone's keys and reads the audit log, and is admin on every project.
    """

    NONE = "none"
    VIEWER = "viewer"
    MEMBER = "member"
    MAINTAINER = "maintainer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANKS[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANKS = {role: rank for rank, role in enumerate(Role)}


@dataclass(frozen=True, slots=True)
class User:
    """An account. ``role`` is the server role: the user's role on every project without a membership row."""

    id: int
    name: str
    role: Role
    disabled: bool
    created_at: float


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as it may be shown: its public id (the key's first 12 characters), never the key."""

    key_id: str
    user: str
    name: str
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    last_used_at: float | None = None

    def usable_at(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class KeyCredential:
    """What checking a presented key needs: the stored sha256 of the whole key, the key and its user."""

    key: ApiKey
    secret_hash: str
    user: User


@dataclass(frozen=True, slots=True)
class WebSession:
    """A web UI sign-in: made from an API key (``key_id``), identified by a random token of which only the
    sha256 is stored. It ends at ``expires_at``, at sign-out (``revoked_at``), or as soon as its key is
    revoked or expires or its user is disabled."""

    id: int
    user: str
    key_id: str
    created_at: float
    expires_at: float
    revoked_at: float | None = None


@dataclass(frozen=True, slots=True)
class SessionCredential:
    """What checking a presented session token needs, in one read: the session, its key and its user."""

    session: WebSession
    key: ApiKey
    user: User


@dataclass(frozen=True, slots=True)
class Membership:
    """A user's role on one project, overriding their server role there (``none`` hides the project)."""

    project: str
    user: str
    role: Role


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One successful write: who (``user``; None when the server runs without authentication), what
    (``action``, the API route's name or a CLI command), where (``project``, ``run_id``) and how."""

    time: float
    user: str | None
    action: str
    method: str
    path: str
    project: str | None = None
    run_id: str | None = None
    status: int = 200
    client: str | None = None
    user_agent: str | None = None
    id: int | None = None
