"""Request and response bodies of the account routes: users, API keys, memberships, ``/me`` and the audit log.

No response model ever holds a key's hash; ``NewKeyPublic`` holds the key itself and is returned only by the
request that created it.
"""

from __future__ import annotations

from pydantic import Field

from mltrail.api.tracking.schemas import _In, _Out
from mltrail.entities import ApiKey, AuditEvent, Membership, Role, User
from mltrail.services.accounts.service import NewKey
from mltrail.services.accounts.sessions import SignedIn

__all__ = [
    "ApiKeyPublic",
    "AuditEventPublic",
    "KeyCreate",
    "MePublic",
    "MembershipIn",
    "MembershipPublic",
    "NewKeyPublic",
    "NewUserPublic",
    "ProjectRolePublic",
    "SessionCreate",
    "SessionPublic",
    "UserCreate",
    "UserPatch",
    "UserPublic",
]

_EXPIRES = Field(None, description="lifetime such as 90d, 12h, 30m or 2w; none: the key does not expire")


class UserPublic(_Out):
    name: str
    role: Role
    disabled: bool
    created_at: float

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(name=user.name, role=user.role, disabled=user.disabled, created_at=user.created_at)


class UserCreate(_In):
    name: str
    role: Role = Role.MEMBER
    expires_in: str | None = _EXPIRES


class UserPatch(_In):
    role: Role | None = None
    disabled: bool | None = None


class ApiKeyPublic(_Out):
    key_id: str
    user: str
    name: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyPublic:
        return cls(
            key_id=key.key_id,
            user=key.user,
            name=key.name,
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            last_used_at=key.last_used_at,
        )


class NewKeyPublic(ApiKeyPublic):
    """A key just created. ``key`` is the whole key: shown this once, stored nowhere (only its sha256)."""

    key: str

    @classmethod
    def of_new(cls, new: NewKey) -> NewKeyPublic:
        return cls(**ApiKeyPublic.of(new.key).model_dump(), key=new.secret)


class NewUserPublic(_Out):
    user: UserPublic
    api_key: NewKeyPublic


class KeyCreate(_In):
    name: str = "default"
    user: str | None = Field(None, description="whose key; another user's needs the admin role")
    expires_in: str | None = _EXPIRES


class MembershipPublic(_Out):
    project: str
    user: str
    role: Role

    @classmethod
    def of(cls, m: Membership) -> MembershipPublic:
        return cls(project=m.project, user=m.user, role=m.role)


class MembershipIn(_In):
    role: Role


class ProjectRolePublic(_Out):
    project: str
    role: Role


class MePublic(_Out):
    """Who the request is from. Without authentication: ``authenticated`` false, name null, role admin."""

    authenticated: bool
    name: str | None
    role: Role
    key_id: str | None
    projects: list[ProjectRolePublic]


class AuditEventPublic(_Out):
    id: int
    time: float
    user: str | None
    action: str
    method: str
    path: str
    project: str | None
    run_id: str | None
    status: int
    client: str | None
    user_agent: str | None

    @classmethod
    def of(cls, e: AuditEvent) -> AuditEventPublic:
        return cls(
            id=e.id or 0,
            time=e.time,
            user=e.user,
            action=e.action,
            method=e.method,
            path=e.path,
            project=e.project,
            run_id=e.run_id,
            status=e.status,
            client=e.client,
            user_agent=e.user_agent,
        )


class SessionCreate(_In):
    api_key: str = Field(max_length=200, description="an API key of yours (mlt_…), exchanged for the cookie")


class SessionPublic(_Out):
    """A web session: whose, until when, and the token every write must send as ``X-CSRF-Token``."""

    user: str
    role: Role
    key_id: str
    expires_at: float
    csrf_token: str

    @classmethod
    def of(cls, signed_in: SignedIn) -> SessionPublic:
        principal = signed_in.principal
        return cls(
            user=principal.name or "",
            role=principal.role,
            key_id=signed_in.session.key_id,
            expires_at=signed_in.session.expires_at,
            csrf_token=signed_in.csrf_token,
        )
