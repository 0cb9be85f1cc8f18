"""``/api/v1/me``: who the request is from, and their role on each project they can see."""

from __future__ import annotations

from fastapi import APIRouter

from mltrail.api.access import AccessDep
from mltrail.api.accounts.schemas import MePublic, ProjectRolePublic
from mltrail.api.deps import TrackingDep
from mltrail.entities import Role

__all__ = ["router"]

router = APIRouter(tags=["accounts"])


@router.get("/me")
def me(access: AccessDep, tracking: TrackingDep) -> MePublic:
    """The authenticated user (name, server role, the key used) and their effective role per project."""
    principal = access.principal
    names = [p.name for p in tracking.list_projects()]
    roles = access.accounts.project_roles(principal, names)
    return MePublic(
        authenticated=not principal.anonymous,
        name=principal.name,
        role=principal.role,
        key_id=principal.key_id,
        projects=[ProjectRolePublic(project=n, role=r) for n, r in roles.items() if r != Role.NONE],
    )
