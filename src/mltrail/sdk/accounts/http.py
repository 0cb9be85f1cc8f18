"""``HttpAccounts``: accounts of a team server through ``/api/v1/me``, ``/users``, ``/keys``, ``/audit`` and
``/projects/{p}/members``; the server decides what the API key's user may do (users and the audit log:
admins; memberships: maintainers of the project; keys: your own, an admin anyone's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from mltrail.entities import ApiKey, AuditEvent, Membership, Role, User
from mltrail.errors import PermissionDeniedError
from mltrail.sdk.accounts.client import CreatedKey, Identity
from mltrail.sdk.tracking.http import HttpTransport

__all__ = ["HttpAccounts", "identity_from_json"]


def _q(text: str) -> str:
    return quote(text, safe="")


def _user(data: Mapping[str, Any]) -> User:
    return User(
        id=0,  # the server does not publish its row ids
        name=str(data["name"]),
        role=Role(data["role"]),
        disabled=bool(data["disabled"]),
        created_at=float(data["created_at"]),
    )


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def _key(data: Mapping[str, Any]) -> ApiKey:
    return ApiKey(
        key_id=str(data["key_id"]),
        user=str(data["user"]),
        name=str(data["name"]),
        created_at=float(data["created_at"]),
        expires_at=_opt(data.get("expires_at")),
        revoked_at=_opt(data.get("revoked_at")),
        last_used_at=_opt(data.get("last_used_at")),
    )


def _membership(data: Mapping[str, Any]) -> Membership:
    return Membership(project=str(data["project"]), user=str(data["user"]), role=Role(data["role"]))


def _event(data: Mapping[str, Any]) -> AuditEvent:
    return AuditEvent(
        id=int(data["id"]),
        time=float(data["time"]),
        user=data.get("user"),
        action=str(data["action"]),
        method=str(data["method"]),
        path=str(data["path"]),
        project=data.get("project"),
        run_id=data.get("run_id"),
        status=int(data["status"]),
        client=data.get("client"),
        user_agent=data.get("user_agent"),
    )


def identity_from_json(data: Mapping[str, Any]) -> Identity:
    return Identity(
        authenticated=bool(data["authenticated"]),
        name=data.get("name"),
        role=Role(data["role"]),
        key_id=data.get("key_id"),
        projects={str(p["project"]): Role(p["role"]) for p in data.get("projects") or []},
    )


class HttpAccounts:
    """``AccountsClient`` over a team server."""

    def __init__(self, http: HttpTransport) -> None:
        self.http = http

    @property
    def where(self) -> str:
        return f"the mltrail server at {self.http.base_url}"

    def me(self) -> Identity:
        return identity_from_json(self.http._json("GET", "/me"))

    def list_users(self) -> list[User]:
        return [_user(u) for u in self.http._json("GET", "/users")]

    def get_user(self, name: str) -> User:
        return _user(self.http._json("GET", f"/users/{_q(name)}"))

    def create_user(self, name: str, role: str, expires: str | None = None) -> tuple[User, CreatedKey]:
        data = self.http._json("POST", "/users", {"name": name, "role": role, "expires_in": expires})
        return _user(data["user"]), CreatedKey(_key(data["api_key"]), str(data["api_key"]["key"]))

    def set_role(self, name: str, role: str) -> User:
        return _user(self.http._json("PATCH", f"/users/{_q(name)}", {"role": role}))

    def set_disabled(self, name: str, disabled: bool) -> User:
        return _user(self.http._json("PATCH", f"/users/{_q(name)}", {"disabled": disabled}))

    def list_keys(self, user: str | None = None) -> list[ApiKey]:
        params = {"user": user} if user else None
        return [_key(k) for k in self.http._json("GET", "/keys", params=params)]

    def create_key(self, user: str | None, name: str = "default", expires: str | None = None) -> CreatedKey:
        data = self.http._json("POST", "/keys", {"name": name, "user": user, "expires_in": expires})
        return CreatedKey(_key(data), str(data["key"]))

    def revoke_key(self, key_id: str) -> ApiKey:
        # The answer is empty: read the key first (the listing is the caller's own keys, or anyone's for
        # an admin), so what was revoked can be shown.
        self.http._request("DELETE", f"/keys/{_q(key_id)}")
        owned = {k.key_id: k for k in self.list_keys(None)}
        found = owned.get(key_id)
        if found is None:
            for key in self._all_keys():
                if key.key_id == key_id:
                    return key
            return ApiKey(key_id=key_id, user="?", name="?", created_at=0.0)
        return found

    def _all_keys(self) -> list[ApiKey]:
        try:
            users = self.list_users()
        except PermissionDeniedError:  # not an admin: only their own keys are visible
            return []
        return [k for u in users for k in self.list_keys(u.name)]

    def members(self, project: str) -> list[Membership]:
        return [_membership(m) for m in self.http._json("GET", f"/projects/{_q(project)}/members")]

    def set_member(self, project: str, user: str, role: str) -> Membership:
        url = f"/projects/{_q(project)}/members/{_q(user)}"
        return _membership(self.http._json("PUT", url, {"role": role}))

    def remove_member(self, project: str, user: str) -> None:
        self.http._request("DELETE", f"/projects/{_q(project)}/members/{_q(user)}")

    @staticmethod
    def _audit_params(**given: Any) -> dict[str, Any]:
        return {k: v for k, v in given.items() if v is not None}

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
        params = self._audit_params(
            user=user, project=project, action=action, since=since, until=until, limit=limit
        )
        return [_event(e) for e in self.http._json("GET", "/audit", params=params)]

    def audit_csv(
        self,
        *,
        user: str | None = None,
        project: str | None = None,
        action: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 100,
    ) -> str:
        params = self._audit_params(
            user=user, project=project, action=action, since=since, until=until, limit=limit, format="csv"
        )
        return self.http._request("GET", "/audit", params=params).text
