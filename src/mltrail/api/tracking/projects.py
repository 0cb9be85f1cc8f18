"""``/api/v1/projects``: the projects the user may see, and each project's memberships (maintainers)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from mltrail.api.access import AccessDep
from mltrail.api.accounts.schemas import MembershipIn, MembershipPublic
from mltrail.api.deps import AccountsDep, TrackingDep
from mltrail.api.tracking.schemas import ProjectKeysPublic, ProjectPublic
from mltrail.entities import Role

__all__ = ["router"]

router = APIRouter(tags=["projects"])
NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.get("/projects")
def list_projects(tracking: TrackingDep, access: AccessDep) -> list[ProjectPublic]:
    """The projects the user may view, with their run counts and latest run."""
    return [ProjectPublic.of(p) for p in access.visible(tracking.list_projects())]


@router.get("/projects/{project}/keys")
def project_keys(project: str, tracking: TrackingDep, access: AccessDep) -> ProjectKeysPublic:
    """Every params, metric, tag and summary key the project's runs use, sorted (at most 10,000 of each):
    what a column chooser or the filter box's completion offers (needs the viewer role)."""
    access.project(project, Role.VIEWER)
    return ProjectKeysPublic(**tracking.project_keys(project, limit=ProjectKeysPublic.LIMIT))


@router.get("/projects/{project}/members")
def list_members(project: str, access: AccessDep, accounts: AccountsDep) -> list[MembershipPublic]:
    """The project's membership rows (needs the maintainer role on it). Users without a row have their
    server role there."""
    access.project(project, Role.MAINTAINER)
    return [MembershipPublic.of(m) for m in accounts.members(project)]


@router.put("/projects/{project}/members/{user}")
def set_member(
    project: str, user: str, body: MembershipIn, access: AccessDep, accounts: AccountsDep
) -> MembershipPublic:
    """Give ``user`` a role on the project (``none`` hides it from them); replaces their previous row."""
    access.project(project, Role.MAINTAINER)
    return MembershipPublic.of(accounts.set_member(project, user, body.role))


@router.delete("/projects/{project}/members/{user}", status_code=NO_CONTENT)
def remove_member(project: str, user: str, access: AccessDep, accounts: AccountsDep) -> Response:
    """Remove the user's row, so their server role applies on the project again."""
    access.project(project, Role.MAINTAINER)
    accounts.remove_member(project, user)
    return Response(status_code=NO_CONTENT)
