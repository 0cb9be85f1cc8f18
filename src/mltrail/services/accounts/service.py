"""Accounts: users, API keys, project memberships, role resolution and key verification. No HTTP here.

A key is ``mlt_`` + ``secrets.token_urlsafe(32)`` (256 random bits). Only its sha256 is stored, beside its
public id (its first 12 characters), which finds the row; the key itself is returned once, at creation.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mltrail.entities import ApiKey, Membership, Project, Role, User
from mltrail.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from mltrail.services.tracking.service import MIN_PREFIX
from mltrail.services.tracking.validation import validate_key
from mltrail.store.accounts import AccountStore
from mltrail.store.base import tracking_of
from mltrail.store.tracking import TrackingStore

__all__ = [
    "ANONYMOUS",
    "KEY_ID_LENGTH",
    "KEY_PREFIX",
    "PROJECT_ROLES",
    "TOUCH_INTERVAL",
    "AccountService",
    "NewKey",
    "Principal",
    "hash_key",
    "parse_duration",
    "parse_role",
]

KEY_PREFIX = "mlt_"
KEY_ID_LENGTH = 12
# last_used_at is written at most this often per key, so that reads stay reads.
TOUCH_INTERVAL = 60.0
# Roles a membership may give; admin is a server role only.
PROJECT_ROLES = (Role.NONE, Role.VIEWER, Role.MEMBER, Role.MAINTAINER)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_KEY = re.compile(r"^mlt_[A-Za-z0-9_-]{20,100}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 86400.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
_MAX_DURATION = 100 * 366 * 86400.0
# Candidate runs looked at when a run reference (prefix or name) is resolved among visible projects only.
_REF_CANDIDATES = 200


@dataclass(frozen=True, slots=True)
class Principal:
    """Who makes a request: a user (``name``, server ``role``, the ``key_id`` used) or, when the server
    runs without authentication, the anonymous principal, which may do everything."""

    name: str | None
    role: Role
    key_id: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.name is None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


ANONYMOUS = Principal(name=None, role=Role.ADMIN)


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: ``secret`` is the whole key, shown this once and stored nowhere."""

    key: ApiKey
    secret: str


def hash_key(secret: str) -> str:
    """The stored form of a key: sha256 hex. A fast hash is right for 256 random bits (no guessing)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_duration(text: str, field: str = "expires") -> float:
    """Seconds in ``90d``, ``12h``, ``30m``, ``45s``, ``2w`` or a bare number of days (at most 100 years)."""
    match = _DURATION.match(text)
    seconds = 0.0 if match is None else float(match.group(1)) * _UNITS[match.group(2)]
    if not 0 < seconds <= _MAX_DURATION:
        raise InvalidInputError(
            f"{field} must be a positive duration up to 100 years such as 90d, 12h, 30m or 2w, got {text!r}",
            field=field,
        )
    return seconds


def parse_role(text: str | Role, field: str = "role", allowed: Iterable[Role] = tuple(Role)) -> Role:
    choices = list(allowed)
    try:
        role = Role(str(text).strip().lower())
    except ValueError:
        role = None
    if role is None or role not in choices:
        raise InvalidInputError(
            f"{field} must be one of {', '.join(r.value for r in choices)}, got {text!r}", field=field
        )
    return role


def validate_user_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInputError(
            "a user name has 1 to 64 letters, digits, '.', '_', '@' or '-' and starts with a letter or digit,"
            f" got {name!r}",
            field="name",
        )
    return name


class AccountService:
    """Users, keys and memberships, and the answers authorization needs (who is this, what may they do)."""

    def __init__(
        self,
        store: AccountStore,
        clock: Callable[[], float] = time.time,
        *,
        runs: TrackingStore | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        # Projects and runs, to resolve run references among the projects a principal may see.
        self.runs = runs if runs is not None else tracking_of(store)

    # -- users ------------------------------------------------------------------------------------------
    def create_user(
        self, name: str, role: Role | str = Role.MEMBER, expires_in: float | None = None
    ) -> tuple[User, NewKey]:
        """A new user and their first key (named ``default``), shown this once."""
        user = self.store.create_user(validate_user_name(name), parse_role(role), self.clock())
        return user, self.create_key(user.name, "default", expires_in)

    def get_user(self, name: str) -> User:
        return self.store.get_user(name)

    def list_users(self) -> list[User]:
        return self.store.list_users()

    def set_role(self, name: str, role: Role | str) -> User:
        new_role = parse_role(role)
        if new_role != Role.ADMIN:
            self._keep_an_admin(name)
        return self.store.update_user(name, role=new_role)

    def set_disabled(self, name: str, disabled: bool) -> User:
        """A disabled user's keys stop working at once (401) until they are enabled again."""
        if disabled:
            self._keep_an_admin(name)
        return self.store.update_user(name, disabled=disabled)

    def _keep_an_admin(self, name: str) -> None:
        """Refuse to demote or disable the last enabled admin, which would leave nobody to manage users."""
        admins = [u.name for u in self.store.list_users() if u.role == Role.ADMIN and not u.disabled]
        if admins == [name]:
            raise ConflictError(f"{name!r} is the last enabled admin: make another user admin first")

    # -- keys -------------------------------------------------------------------------------------------
    def create_key(self, user: str, name: str = "default", expires_in: float | None = None) -> NewKey:
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInputError("a key name has 1 to 200 characters", field="name")
        if expires_in is not None and expires_in <= 0:
            raise InvalidInputError("expires_in must be positive", field="expires_in")
        now = self.clock()
        for _ in range(5):
            secret = KEY_PREFIX + secrets.token_urlsafe(32)
            try:
                key = self.store.create_api_key(
                    key_id=secret[:KEY_ID_LENGTH],
                    user=user,
                    name=name,
                    secret_hash=hash_key(secret),
                    created_at=now,
                    expires_at=None if expires_in is None else now + expires_in,
                )
            except ConflictError:  # 48 random bits in the id: a clash is astronomically rare; draw again
                continue
            return NewKey(key=key, secret=secret)
        raise ConflictError("could not draw an unused API key id")  # pragma: no cover

    def list_keys(self, user: str | None = None) -> list[ApiKey]:
        return self.store.list_api_keys(user)

    def get_key(self, key_id: str) -> ApiKey:
        return self.store.get_api_key(key_id)

    def revoke_key(self, key_id: str) -> ApiKey:
        return self.store.revoke_api_key(key_id, self.clock())

    def authenticate(self, secret: str | None) -> Principal:
        """The principal a presented key stands for; AuthenticationError when it is missing, malformed,
        unknown, revoked or expired, or its user is disabled."""
        if not secret:
            raise AuthenticationError("an API key is required: send the header 'Authorization: Bearer <key>'")
        secret = secret.strip()
        if not _KEY.match(secret):
            raise AuthenticationError("invalid API key")
        found = self.store.find_key_credential(secret[:KEY_ID_LENGTH])
        if found is None or not hmac.compare_digest(found.secret_hash, hash_key(secret)):
            raise AuthenticationError("invalid API key")
        key, now = found.key, self.clock()
        if key.revoked_at is not None:
            raise AuthenticationError(f"the API key {key.key_id} has been revoked")
        if key.expires_at is not None and now >= key.expires_at:
            raise AuthenticationError(f"the API key {key.key_id} has expired")
        if found.user.disabled:
            raise AuthenticationError(f"the user {found.user.name!r} is disabled")
        if key.last_used_at is None or now - key.last_used_at >= TOUCH_INTERVAL:
            self.store.touch_api_key(key.key_id, now)
        return Principal(name=found.user.name, role=found.user.role, key_id=key.key_id)

    # -- memberships and roles --------------------------------------------------------------------------
    def set_member(self, project: str, user: str, role: Role | str) -> Membership:
        """Give ``user`` a role on ``project`` (created if new: a name valid for a project)."""
        validate_key(project, "project")
        return self.store.set_project_member(project, user, parse_role(role, allowed=PROJECT_ROLES))

    def remove_member(self, project: str, user: str) -> None:
        if not self.store.remove_project_member(project, user):
            raise NotFoundError(f"{user!r} has no membership on project {project!r}")

    def members(self, project: str) -> list[Membership]:
        """The project's membership rows; NotFoundError for a project that does not exist."""
        self.runs.get_project(project)
        return self.store.list_project_members(project=project)

    def project_role(self, principal: Principal, project: str) -> Role:
        """The principal's effective role on ``project`` (which need not exist)."""
        if principal.anonymous or principal.is_admin or principal.name is None:
            return Role.ADMIN
        return self.store.get_project_role(project, principal.name)

    def project_roles(self, principal: Principal, projects: Iterable[str]) -> dict[str, Role]:
        """Effective roles on many projects with one query for the memberships."""
        names = list(projects)
        if principal.anonymous or principal.is_admin or principal.name is None:
            return dict.fromkeys(names, Role.ADMIN)
        rows = {m.project: m.role for m in self.store.list_project_members(user=principal.name)}
        return {name: rows.get(name, principal.role) for name in names}

    def visible_projects(self, principal: Principal, projects: Iterable[Project]) -> list[Project]:
        """The projects the principal may at least view."""
        listed = list(projects)
        roles = self.project_roles(principal, [p.name for p in listed])
        return [p for p in listed if roles[p.name].at_least(Role.VIEWER)]

    def run_project(self, run_id: str) -> str:
        return self.store.get_run_project(run_id)

    def resolve_run(self, principal: Principal, ref: str, project: str | None = None) -> str:
        """A run id from a full id, a unique id prefix (4+ characters) or a unique name, among the runs of
        projects the principal may view (and of ``project`` only, if given) — so neither the answer nor an
        ambiguity reveals a hidden run."""
        ref = ref.strip()
        if not ref:
            raise InvalidInputError("run reference is empty", field="run")
        candidates = self.runs.find_run_ids(ref, project=project, limit=_REF_CANDIDATES)
        if len(ref) < MIN_PREFIX:
            candidates = [i for i in candidates if i == ref or self.runs.get_run(i).name == ref]
        owners = {run_id: self.store.get_run_project(run_id) for run_id in candidates}
        roles = self.project_roles(principal, set(owners.values()))
        ids = [i for i in candidates if roles[owners[i]].at_least(Role.VIEWER)]
        if not ids:
            raise NotFoundError(f"no run {ref!r}" + (f" in project {project!r}" if project else ""))
        if ref in ids:
            return ref
        if len(ids) > 1:
            raise ConflictError(f"{ref!r} matches {len(ids)} runs ({', '.join(i[:12] for i in ids[:5])}…)")
        return ids[0]
