"""``EmbeddedAccounts``: accounts on the database itself. Whoever holds the database URL is trusted (that is
how the first admin is made), acts as an admin, and every change is written to the audit log with the
command line and the operating-system user (method ``CLI`` from the ``mltrail`` command, else ``SDK``)."""

from __future__ import annotations

import shlex
import sys

from mltrail.entities import ApiKey, AuditEvent, Membership, Role, User
from mltrail.sdk.accounts.client import CreatedKey, Identity
from mltrail.services.accounts.audit import events_to_csv, parse_time
from mltrail.services.accounts.service import parse_duration
from mltrail.services.container import Services

__all__ = ["EmbeddedAccounts"]


class EmbeddedAccounts:
    """``AccountsClient`` over ``Services``."""

    def __init__(self, services: Services, where: str, actor: str | None, method: str = "SDK") -> None:
        self.services = services
        self._where = where
        self.actor = actor
        self.method = method

    @property
    def where(self) -> str:
        return self._where

    def _record(self, action: str, project: str | None = None) -> None:
        """Audit a change made on the database: no mltrail user, the OS user as the client."""
        audit = self.services.audit
        command = shlex.join(["mltrail", *sys.argv[1:]]) if self.method == "CLI" else shlex.join(sys.argv)
        audit.record(
            AuditEvent(
                time=audit.clock(),
                user=None,
                action=action,
                method=self.method,
                path=command[:2000],
                project=project,
                status=0,
                client=f"{self.method.lower()}:{self.actor or 'unknown'}",
                user_agent=f"mltrail-{self.method.lower()}",
            )
        )

    def me(self) -> Identity:
        names = [p.name for p in self.services.tracking.list_projects()]
        return Identity(False, self.actor, Role.ADMIN, None, dict.fromkeys(names, Role.ADMIN))

    def list_users(self) -> list[User]:
        return self.services.accounts.list_users()

    def get_user(self, name: str) -> User:
        return self.services.accounts.get_user(name)

    def create_user(self, name: str, role: str, expires: str | None = None) -> tuple[User, CreatedKey]:
        lifetime = None if expires is None else parse_duration(expires, "expires")
        user, new = self.services.accounts.create_user(name, role, lifetime)
        self._record("create_user")
        return user, CreatedKey(new.key, new.secret)

    def set_role(self, name: str, role: str) -> User:
        user = self.services.accounts.set_role(name, role)
        self._record("update_user")
        return user

    def set_disabled(self, name: str, disabled: bool) -> User:
        user = self.services.accounts.set_disabled(name, disabled)
        self._record("update_user")
        return user

    def list_keys(self, user: str | None = None) -> list[ApiKey]:
        return self.services.accounts.list_keys(user)

    def create_key(self, user: str | None, name: str = "default", expires: str | None = None) -> CreatedKey:
        from mltrail.errors import InvalidInputError

        if not user:
            raise InvalidInputError("name the user whose key this is", field="user")
        lifetime = None if expires is None else parse_duration(expires, "expires")
        new = self.services.accounts.create_key(user, name, lifetime)
        self._record("create_key")
        return CreatedKey(new.key, new.secret)

    def revoke_key(self, key_id: str) -> ApiKey:
        key = self.services.accounts.revoke_key(key_id)
        self._record("revoke_key")
        return key

    def members(self, project: str) -> list[Membership]:
        return self.services.accounts.members(project)

    def set_member(self, project: str, user: str, role: str) -> Membership:
        membership = self.services.accounts.set_member(project, user, role)
        self._record("set_member", project)
        return membership

    def remove_member(self, project: str, user: str) -> None:
        self.services.accounts.remove_member(project, user)
        self._record("remove_member", project)

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
        service = self.services.audit
        now = service.clock()
        return service.query(
            user=user,
            project=project,
            action=action,
            since=parse_time(since, now, "since"),
            until=parse_time(until, now, "until"),
            limit=limit,
        )

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
        events = self.audit(user=user, project=project, action=action, since=since, until=until, limit=limit)
        return events_to_csv(events)
