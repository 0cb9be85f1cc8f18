"""``AccountsClient``: users, API keys, project memberships and the audit log, the same calls over the
database itself (``embedded.py``: whoever holds the database URL is trusted, as an admin) or a team server
(``http.py``: what the API key's user may do)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from mltrail.entities import ApiKey, AuditEvent, Membership, Role, User

__all__ = ["KEY_ID_LENGTH", "AccountsClient", "CreatedKey", "Identity"]

# The public id of a key is its first 12 characters (services.accounts.service.KEY_ID_LENGTH; a test keeps
# the two equal without importing the store here).
KEY_ID_LENGTH = 12


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A key just made: ``secret`` is the whole key, shown this once and stored nowhere."""

    key: ApiKey
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the client acts as (``GET /me``): without authentication ``authenticated`` is false and ``name``
    ``None``; on the database itself the OS user, as an admin."""

    authenticated: bool
    name: str | None
    role: Role
    key_id: str | None
    projects: dict[str, Role]


class AccountsClient(Protocol):
    @property
    def where(self) -> str: ...

    def me(self) -> Identity: ...

    def list_users(self) -> list[User]: ...

    def get_user(self, name: str) -> User: ...

    def create_user(self, name: str, role: str, expires: str | None = None) -> tuple[User, CreatedKey]:
        """A user with a first API key; ``expires`` is a lifetime such as ``90d`` (default: never)."""
        ...

    def set_role(self, name: str, role: str) -> User: ...

    def set_disabled(self, name: str, disabled: bool) -> User: ...

    def list_keys(self, user: str | None = None) -> list[ApiKey]: ...

    def create_key(
        self, user: str | None, name: str = "default", expires: str | None = None
    ) -> CreatedKey: ...

    def revoke_key(self, key_id: str) -> ApiKey: ...

    def members(self, project: str) -> list[Membership]: ...

    def set_member(self, project: str, user: str, role: str) -> Membership: ...

    def remove_member(self, project: str, user: str) -> None: ...

    def audit(
        self,
        *,
        user: str | None = None,
        project: str | None = None,
        action: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """Events matching every given filter, newest first; ``since``/``until`` as epoch seconds, ISO 8601
        or a duration back such as ``7d``."""
        ...

    def audit_csv(
        self,
        *,
        user: str | None = None,
        project: str | None = None,
        action: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 100,
    ) -> str: ...
