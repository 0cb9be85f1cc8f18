"""``/api/v1/runs``: create, read, search, update, finish and delete runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from mltrail.api.access import AccessDep, RunMaintainer, RunMember, RunRef
from mltrail.api.deps import TrackingDep
from mltrail.api.tracking.schemas import (
    ContextIn,
    FinishIn,
    NotesIn,
    ParamsIn,
    RunCreate,
    RunPagePublic,
    RunPublic,
    SummaryIn,
    TagsIn,
)
from mltrail.entities import Role
from mltrail.query import parse_filter, parse_sorts

__all__ = ["router"]

router = APIRouter(prefix="/runs", tags=["runs"])
NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.post("", status_code=status.HTTP_201_CREATED)
def create_run(body: RunCreate, tracking: TrackingDep, access: AccessDep) -> RunPublic:
    """Start a run (its project is created on first use). ``run_id`` is generated when absent.

    Needs the member role on the project. With authentication the run's ``user`` is the authenticated
    user, whatever the body says.
    """
    access.project(body.project, Role.MEMBER)
    principal = access.principal
    run = tracking.start_run(
        run_id=body.run_id,
        project=body.project,
        name=body.name,
        user=body.user if principal.anonymous else principal.name,
        config=body.config,
        tags=body.tags,
        notes=body.notes,
        context=body.context,
        start_time=body.start_time,
        resume=body.resume,
    )
    if access.note is not None:
        access.note.run_id = run.id
    return RunPublic.of(run)


@router.get("")
def search_runs(
    tracking: TrackingDep,
    access: AccessDep,
    project: Annotated[str, Query(description="the project to search")],
    filter: Annotated[str, Query(description="filter expression (docs/FILTERS.md)")] = "",
    sort: Annotated[list[str] | None, Query(description="sort key, repeatable: -metrics.acc")] = None,
    offset: Annotated[int, Query()] = 0,
    limit: Annotated[int, Query()] = 100,
) -> RunPagePublic:
    """A page of a project's runs; a filter or sort that does not parse is a 400 naming the position."""
    access.project(project, Role.VIEWER)
    page = tracking.search_runs(
        project, filter=parse_filter(filter), sort=parse_sorts(sort or []), offset=offset, limit=limit
    )
    return RunPagePublic.of(page)


@router.get("/{run_id}")
def get_run(run_id: RunRef, tracking: TrackingDep) -> RunPublic:
    """A run by id, unique id prefix (4+ characters) or unique name."""
    return RunPublic.of(tracking.get_run(run_id))


@router.delete("/{run_id}", status_code=NO_CONTENT)
def delete_run(run_id: RunMaintainer, tracking: TrackingDep) -> Response:
    """Delete the run (needs the maintainer role on its project)."""
    tracking.delete_run(run_id)
    return Response(status_code=NO_CONTENT)


@router.patch("/{run_id}", status_code=NO_CONTENT)
def set_notes(run_id: RunMember, body: NotesIn, tracking: TrackingDep) -> Response:
    tracking.set_notes(run_id, body.notes)
    return Response(status_code=NO_CONTENT)


@router.post("/{run_id}/heartbeat", status_code=NO_CONTENT)
def heartbeat(run_id: RunMember, tracking: TrackingDep) -> Response:
    """The run is alive; a run marked crashed becomes running again. 409 once it has finished."""
    tracking.heartbeat(run_id)
    return Response(status_code=NO_CONTENT)


@router.post("/{run_id}/finish", status_code=NO_CONTENT)
def finish_run(run_id: RunMember, body: FinishIn, tracking: TrackingDep) -> Response:
    tracking.finish_run(run_id, status=body.status, error=body.error, end_time=body.end_time)
    return Response(status_code=NO_CONTENT)


@router.patch("/{run_id}/params", status_code=NO_CONTENT)
def set_params(run_id: RunMember, body: ParamsIn, tracking: TrackingDep) -> Response:
    """Add or replace params; nested dicts are flattened with dots."""
    tracking.set_params(run_id, body.config)
    return Response(status_code=NO_CONTENT)


@router.patch("/{run_id}/tags", status_code=NO_CONTENT)
def set_tags(run_id: RunMember, body: TagsIn, tracking: TrackingDep) -> Response:
    tracking.set_tags(run_id, body.tags)
    return Response(status_code=NO_CONTENT)


@router.delete("/{run_id}/tags", status_code=NO_CONTENT)
def delete_tags(run_id: RunMember, tracking: TrackingDep, key: Annotated[list[str], Query()]) -> Response:
    """Remove the tags named by each ``key`` query parameter."""
    tracking.delete_tags(run_id, key)
    return Response(status_code=NO_CONTENT)


@router.patch("/{run_id}/summary", status_code=NO_CONTENT)
def set_summary(run_id: RunMember, body: SummaryIn, tracking: TrackingDep) -> Response:
    tracking.set_summary(run_id, body.values)
    return Response(status_code=NO_CONTENT)


@router.patch("/{run_id}/context", status_code=NO_CONTENT)
def update_context(run_id: RunMember, body: ContextIn, tracking: TrackingDep) -> Response:
    """Merge sections into the run's captured context."""
    tracking.update_context(run_id, body.context)
    return Response(status_code=NO_CONTENT)
