"""The registry's audit trail: ``/models/{name}/audit`` and ``/registry/audit``, newest first, JSON or CSV.

A viewer of a project reads the trail of its models. There is no route that changes or deletes an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from mltrail.api.registry.access import RegistryAccess, RegistryAccessDep
from mltrail.api.registry.schemas import RegistryEventPublic
from mltrail.entities import RegistryEvent, Role
from mltrail.services.accounts.audit import parse_time, registry_events_to_csv

__all__ = ["router"]

router = APIRouter(tags=["models"])
_TIME = "epoch seconds, an ISO 8601 time (UTC unless it says otherwise) or a duration back, e.g. 7d"
_CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}

Format = Annotated[Literal["json", "csv"], Query()]


@dataclass(frozen=True)
class _Filter:
    """The filters both routes take; times as given, parsed when the trail is read."""

    user: str | None
    action: str | None
    since: str | None
    until: str | None
    limit: int
    offset: int


def _filter(
    user: Annotated[str | None, Query()] = None,
    action: Annotated[
        str | None, Query(description="e.g. version_created, stage_changed, downloaded")
    ] = None,
    since: Annotated[str | None, Query(description=f"from this time on; {_TIME}")] = None,
    until: Annotated[str | None, Query(description=f"before this time; {_TIME}")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> _Filter:
    return _Filter(user, action, since, until, limit, offset)


FilterDep = Annotated[_Filter, Depends(_filter)]


def _answer(events: list[RegistryEvent], format: str) -> list[RegistryEventPublic] | Response:
    if format == "csv":
        return Response(registry_events_to_csv(events), media_type="text/csv; charset=utf-8")
    return [RegistryEventPublic.of(e) for e in events]


def _query(
    ra: RegistryAccess, filters: _Filter, *, model: str | None, projects: list[str] | None
) -> list[RegistryEvent]:
    now = ra.registry.clock()
    return ra.registry.events(
        model=model,
        user=filters.user,
        action=filters.action,
        since=parse_time(filters.since, now, "since"),
        until=parse_time(filters.until, now, "until"),
        projects=projects,
        limit=filters.limit,
        offset=filters.offset,
    )


@router.get("/models/{name}/audit", response_model=list[RegistryEventPublic], responses=_CSV)
def query_model_audit(
    name: str, ra: RegistryAccessDep, filters: FilterDep, format: Format = "json"
) -> list[RegistryEventPublic] | Response:
    """The model's trail: who registered, requested, approved, moved and downloaded what, and when."""
    ra.model(name, Role.VIEWER)
    return _answer(_query(ra, filters, model=name, projects=None), format)


@router.get("/registry/audit", response_model=list[RegistryEventPublic], responses=_CSV)
def query_registry_audit(
    ra: RegistryAccessDep,
    filters: FilterDep,
    model: Annotated[str | None, Query()] = None,
    format: Format = "json",
) -> list[RegistryEventPublic] | Response:
    """The trail of every model the user may view (of ``model`` only when given)."""
    if model is not None:
        ra.model(model, Role.VIEWER)
    projects = None if model is not None else ra.visible_projects()
    return _answer(_query(ra, filters, model=model, projects=projects), format)
