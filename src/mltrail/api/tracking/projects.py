"""``/api/v1/projects``: the projects the user may see, and each project's memberships (maintainers)."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from mltrail.api.access import AccessDep
from mltrail.api.accounts.schemas import MembershipIn, MembershipPublic
from mltrail.api.deps import AccountsDep, TrackingDep
from mltrail.api.tracking.schemas import ActivityPublic, ProjectKeysPublic, ProjectPublic
from mltrail.entities import Role
from mltrail.services.accounts.audit import parse_time

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


@router.get("/projects/{project}/activity")
def project_activity(
    project: str,
    tracking: TrackingDep,
    access: AccessDep,
    by: Annotated[Literal["week"], Query(description="the period runs are counted by (ISO weeks)")] = "week",
    since: Annotated[
        str | None,
        Query(max_length=100, description="runs started from then on: epoch seconds, ISO 8601 or e.g. 90d"),
    ] = "90d",
) -> ActivityPublic:
    """Runs, run time (seconds from start to end, or to the last heartbeat) and failed or crashed runs per
    ISO week (Monday 00:00 UTC) and user, newest week first (viewer): the team activity page's figures,
    counted by the database instead of paging every run to the browser. ``since=all`` counts every run."""
    access.project(project, Role.VIEWER)
    start = None if since in (None, "", "all") else parse_time(since, time.time(), "since")
    return ActivityPublic.of(tracking.project_activity(project, since=start), since=start)


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
