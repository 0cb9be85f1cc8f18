"""Authorization: what the current principal may do on a project or run, checked before a route runs.

The principal's effective role on a project (see ``AccountService.project_role``) decides:

- ``none``: the project and its runs do not exist for them — 404 with the very message a missing one gets;
- at least ``viewer`` but below what the route needs: 403 (``PermissionDeniedError``).

Routes take ``RunViewer``/``RunMember``/``RunMaintainer`` for a run in the path (the dependency reads the
run's project) or call ``Access.project`` with the project of the query or body. Without authentication the
anonymous principal may do everything, and only deleting a run costs a lookup (for the audit).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from mltrail.api.audit_log import AuditNote, audit_note
from mltrail.api.deps import AccountsDep, CurrentUser
from mltrail.entities import Project, Role
from mltrail.errors import NotFoundError, PermissionDeniedError
from mltrail.services.accounts.service import AccountService, Principal

__all__ = [
    "Access",
    "AccessDep",
    "AdminOnly",
    "RunMaintainer",
    "RunMember",
    "RunRef",
    "RunViewer",
    "require_admin",
]


class Access:
    """The current principal's permissions, for one request."""

    def __init__(
        self, principal: Principal, accounts: AccountService, note: AuditNote | None, action: str = "this"
    ) -> None:
        self.principal = principal
        self.accounts = accounts
        self.note = note
        self.action = action

    @property
    def unrestricted(self) -> bool:
        return self.principal.anonymous or self.principal.is_admin

    def _check(self, role: Role, minimum: Role, missing: NotFoundError, where: str) -> None:
        if not role.at_least(Role.VIEWER):
            raise missing
        if not role.at_least(minimum):
            raise PermissionDeniedError(
                f"{self.action} needs the {minimum.value} role on {where};"
                f" {self.principal.name} is {role.value} there"
            )

    def project(self, project: str, minimum: Role) -> Role:
        """The principal's role on ``project``, which must be at least ``minimum``."""
        if self.note is not None:
            self.note.project = project
        if self.unrestricted:
            return Role.ADMIN
        role = self.accounts.project_role(self.principal, project)
        self._check(role, minimum, NotFoundError(f"no project {project!r}"), f"project {project!r}")
        return role

    def needs_run_lookup(self, method: str) -> bool:
        """Whether ``run`` reads the database: to check a restricted principal, or, for anyone, to learn the
        project of a run about to be deleted (the audit cannot look it up afterwards)."""
        return not self.unrestricted or method == "DELETE"

    def run(self, run_id: str, minimum: Role) -> str:
        """``run_id`` after checking the principal's role on the run's project (looked up by exact id)."""
        project = self.accounts.run_project(run_id)
        if self.note is not None:
            self.note.project, self.note.run_id = project, run_id
        if not self.unrestricted:
            role = self.accounts.project_role(self.principal, project)
            self._check(role, minimum, NotFoundError(f"no run {run_id!r}"), f"project {project!r}")
        return run_id

    def visible(self, projects: list[Project]) -> list[Project]:
        return projects if self.unrestricted else self.accounts.visible_projects(self.principal, projects)

    def require_admin(self, what: str | None = None) -> None:
        if not self.principal.is_admin:
            raise PermissionDeniedError(
                f"{what or self.action} needs the admin role; {self.principal.name} is not an admin"
            )


async def _access(principal: CurrentUser, accounts: AccountsDep, request: Request) -> Access:
    # async: no I/O here, so no worker-thread hop on every request
    action = str(getattr(request.scope.get("route"), "name", None) or "this request")
    return Access(principal, accounts, audit_note(request.scope), action)


AccessDep = Annotated[Access, Depends(_access)]


def _run_access(minimum: Role) -> Callable[[str, Access, Request], Awaitable[str]]:
    async def dependency(run_id: str, access: AccessDep, request: Request) -> str:
        if access.needs_run_lookup(request.method):
            return await run_in_threadpool(access.run, run_id, minimum)
        if access.note is not None:  # the audit finds the project by the run id if it records the event
            access.note.run_id = run_id
        return run_id

    return dependency


async def _run_ref(run_id: str, access: AccessDep) -> str:
    """A run reference (id, unique prefix or unique name), resolved among the runs the principal may see."""
    if access.unrestricted:
        return run_id  # TrackingService resolves it over every run
    return await run_in_threadpool(access.accounts.resolve_run, access.principal, run_id)


async def require_admin(access: AccessDep) -> None:
    access.require_admin()


RunViewer = Annotated[str, Depends(_run_access(Role.VIEWER))]
RunMember = Annotated[str, Depends(_run_access(Role.MEMBER))]
RunMaintainer = Annotated[str, Depends(_run_access(Role.MAINTAINER))]
RunRef = Annotated[str, Depends(_run_ref)]
AdminOnly = Depends(require_admin)
