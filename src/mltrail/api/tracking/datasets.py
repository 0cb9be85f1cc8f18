"""Datasets: the versions a run read (with their role) and a project's dataset versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from mltrail.api.access import AccessDep, RunMember, RunViewer
from mltrail.api.deps import DatasetsDep
from mltrail.api.tracking.schemas import DatasetIn, DatasetLinkPublic, DatasetVersionPublic
from mltrail.entities import Role

__all__ = ["router"]

router = APIRouter(tags=["datasets"])


@router.post("/runs/{run_id}/datasets", status_code=status.HTTP_201_CREATED)
def record_dataset(run_id: RunMember, body: DatasetIn, datasets: DatasetsDep) -> DatasetLinkPublic:
    """Record a dataset version (the same digest is the same version) and link it to the run."""
    return DatasetLinkPublic.of(datasets.record(run_id, body.fingerprint(), body.role))


@router.get("/runs/{run_id}/datasets")
def run_datasets(run_id: RunViewer, datasets: DatasetsDep) -> list[DatasetLinkPublic]:
    return [DatasetLinkPublic.of(link) for link in datasets.for_run(run_id)]


@router.get("/datasets")
def dataset_versions(
    datasets: DatasetsDep,
    access: AccessDep,
    project: Annotated[str, Query()],
    name: Annotated[str | None, Query()] = None,
) -> list[DatasetVersionPublic]:
    """A project's dataset versions, optionally of one dataset name."""
    access.project(project, Role.VIEWER)
    return [DatasetVersionPublic.of(v) for v in datasets.versions(project, name)]
