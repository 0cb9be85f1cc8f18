"""``/api/v1/projects`` and the project-wide dataset list."""

from __future__ import annotations

from fastapi import APIRouter

from mltrail.api.deps import TrackingDep
from mltrail.api.schemas import ProjectPublic

__all__ = ["router"]

router = APIRouter(tags=["projects"])


@router.get("/projects")
def list_projects(tracking: TrackingDep) -> list[ProjectPublic]:
    """Every project with its run count and latest run."""
    return [ProjectPublic.of(p) for p in tracking.list_projects()]
