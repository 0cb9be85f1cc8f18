"""``/api/v1/model-versions?run=``: the model versions registered from one run, whatever their model."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mltrail.api.registry.access import Limit, Offset, RegistryAccessDep
from mltrail.api.registry.schemas import VersionPagePublic, VersionPublic
from mltrail.entities import Role

__all__ = ["router"]

router = APIRouter(prefix="/model-versions", tags=["models"])
RunQuery = Annotated[
    str, Query(min_length=1, max_length=200, description="the run: id, unique id prefix (4+) or unique name")
]


@router.get("")
def list_versions_of_run(
    run: RunQuery,
    ra: RegistryAccessDep,
    project: Annotated[str | None, Query(description="narrows a run name or prefix to one project")] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> VersionPagePublic:
    """The versions registered from the run, oldest first (needs the viewer role on the run's project; a
    version's model is always in its run's project)."""
    run_id = ra.access.resolve_run(run, Role.VIEWER, project)
    versions, total = ra.registry.versions_of_run(run_id, offset=offset, limit=limit)
    return VersionPagePublic(versions=[VersionPublic.of(v) for v in versions], total=total)
