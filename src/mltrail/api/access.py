"""Authorization: what the current principal may do on a project or run, checked before a route runs.

The principal's effective role on a project (see ``AccountService.project_role``) decides:

- ``none``: the project and its runs do not exist for them — 404 with the very message a missing one gets;
- at least ``viewer`` but below what the route needs: 403 (``PermissionDeniedError``).

Routes take ``RunViewer``/``RunMember``/``RunMaintainer`` for a run in the path or call ``Access.project``
with the project of the query or body. The run dependencies resolve the reference in the path once — a run
id, a unique id prefix (4+ characters) or a unique name, narrowed by an optional ``?project=`` — among the
runs the principal may see, check the role on the run's project, and hand the route the run id. An exact id
costs one primary-key read (the common case: the SDK always sends ids); anything else one search. Without
authentication the anonymous principal may do everything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from mltrail.api.audit_log import AuditNote, audit_note
from mltrail.api.deps import AccountsDep, CurrentUser, TrackingDep
from mltrail.entities import Project, Role
from mltrail.errors import NotFoundError, PermissionDeniedError
from mltrail.services.accounts.service import AccountService, Principal
from mltrail.services.tracking.service import TrackingService

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
        self,
        principal: Principal,
        accounts: AccountService,
        note: AuditNote | None,
        action: str = "this",
        tracking: TrackingService | None = None,
    ) -> None:
        self.principal = principal
        self.accounts = accounts
        self.note = note
        self.action = action
        self.tracking = tracking

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

    def project(self, project: str, minimum: Role, missing: NotFoundError | None = None) -> Role:
        """The principal's role on ``project``, which must be at least ``minimum``; below viewer it is
        hidden: ``missing`` (default: "no project …"), e.g. "no registered model …" for a model in it."""
        if self.note is not None:
            self.note.project = project
        if self.unrestricted:
            return Role.ADMIN
        role = self.accounts.project_role(self.principal, project)
        missing = missing or NotFoundError(f"no project {project!r}")
        self._check(role, minimum, missing, f"project {project!r}")
        return role

    def run(self, run_id: str, minimum: Role, project: str | None = None) -> str:
        """``run_id`` after checking the principal's role on the run's project (looked up by exact id
        unless given)."""
        if project is None:
            project = self.accounts.run_project(run_id)
        if self.note is not None:
            self.note.project, self.note.run_id = project, run_id
        if not self.unrestricted:
            role = self.accounts.project_role(self.principal, project)
            self._check(role, minimum, NotFoundError(f"no run {run_id!r}"), f"project {project!r}")
        return run_id

    def resolve_run(self, ref: str, minimum: Role, project: str | None = None) -> str:
        """The id of the run ``ref`` names (id, unique prefix or unique name; within ``project`` if given)
        among the runs the principal may see, after checking their role on its project."""
        ref = ref.strip()
        try:
            owner: str | None = self.accounts.run_project(ref)  # an exact id: one primary-key read
        except NotFoundError:
            owner = None
        if owner is not None and (project is None or owner == project):
            return self.run(ref, minimum, owner)
        if self.unrestricted:
            assert self.tracking is not None
            run_id = self.tracking.resolve_run(ref, project)
        else:
            run_id = self.accounts.resolve_run(self.principal, ref, project)
        return self.run(run_id, minimum)

    def visible(self, projects: list[Project]) -> list[Project]:
        return projects if self.unrestricted else self.accounts.visible_projects(self.principal, projects)

    def visible_names(self, tracking: TrackingService) -> list[str] | None:
        """The names of the projects the principal may view (``None``: every project)."""
        if self.unrestricted:
            return None
        return [p.name for p in self.visible(tracking.list_projects())]

    def require_admin(self, what: str | None = None) -> None:
        if not self.principal.is_admin:
            raise PermissionDeniedError(
                f"{what or self.action} needs the admin role; {self.principal.name} is not an admin"
            )


async def _access(
    principal: CurrentUser, accounts: AccountsDep, tracking: TrackingDep, request: Request
) -> Access:
    # async: no I/O here, so no worker-thread hop on every request
    action = str(getattr(request.scope.get("route"), "name", None) or "this request")
    return Access(principal, accounts, audit_note(request.scope), action, tracking)


AccessDep = Annotated[Access, Depends(_access)]
ProjectQuery = Annotated[
    str | None,
    Query(description="the run's project, to tell apart runs of different projects with the same name"),
]


def _run_access(minimum: Role) -> Callable[[str, Access, str | None], Awaitable[str]]:
    async def dependency(run_id: str, access: AccessDep, project: ProjectQuery = None) -> str:
        return await run_in_threadpool(access.resolve_run, run_id, minimum, project)

    return dependency


async def require_admin(access: AccessDep) -> None:
    access.require_admin()


RunViewer = Annotated[str, Depends(_run_access(Role.VIEWER))]
RunMember = Annotated[str, Depends(_run_access(Role.MEMBER))]
RunMaintainer = Annotated[str, Depends(_run_access(Role.MAINTAINER))]
RunRef = RunViewer  # the run a reference names, for routes that only read it
AdminOnly = Depends(require_admin)
