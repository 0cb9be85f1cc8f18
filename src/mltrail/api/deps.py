"""FastAPI dependencies as ``Annotated`` aliases: the services on ``app.state`` and the auth seam."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mltrail.services.artifacts import ArtifactService
from mltrail.services.datasets import DatasetService
from mltrail.services.tracking import TrackingService

__all__ = ["ArtifactsDep", "CurrentUser", "DatasetsDep", "MaxUploadDep", "TrackingDep", "current_user"]


def _tracking(request: Request) -> TrackingService:
    service: TrackingService = request.app.state.tracking
    return service


def _artifacts(request: Request) -> ArtifactService:
    service: ArtifactService = request.app.state.artifacts
    return service


def _datasets(request: Request) -> DatasetService:
    service: DatasetService = request.app.state.datasets
    return service


def _max_upload(request: Request) -> int | None:
    limit: int | None = request.app.state.max_upload_bytes
    return limit


def current_user(request: Request) -> str | None:
    """The authenticated user. The seam for accounts and API keys: today every request is anonymous (None).

    Every ``/api/v1`` route depends on this (see ``app.create_app``), so authentication replaces this one
    function: raise ``HTTPException(401)`` for a missing or bad key and return the user otherwise.
    """
    return None


TrackingDep = Annotated[TrackingService, Depends(_tracking)]
ArtifactsDep = Annotated[ArtifactService, Depends(_artifacts)]
DatasetsDep = Annotated[DatasetService, Depends(_datasets)]
MaxUploadDep = Annotated[int | None, Depends(_max_upload)]
CurrentUser = Annotated[str | None, Depends(current_user)]
