"""The registry's audit trail: ``/models/{name}/audit`` and ``/registry/audit``, newest first, JSON or CSV.

A viewer of a project reads the trail of its models. There is no route that changes or deletes an event.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from mltrail.api.registry.access import RegistryAccess, RegistryAccessDep
from mltrail.api.registry.schemas import RegistryEventPublic
from mltrail.entities import RegistryEvent, Role
from mltrail.services.accounts.audit import parse_time, registry_events_to_csv

__all__ = ["router"]

router = APIRouter(tags=["models"])
_TIME = "epoch seconds, an ISO 8601 time (UTC unless it says otherwise) or a duration back, e.g. 7d"
_CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}

User = Annotated[str | None, Query()]
Action = Annotated[str | None, Query(description="e.g. version_created, stage_changed, downloaded")]
Since = Annotated[str | None, Query(description=f"from this time on; {_TIME}")]
Until = Annotated[str | None, Query(description=f"before this time; {_TIME}")]
AuditLimit = Annotated[int, Query(ge=1, le=10_000)]
AuditOffset = Annotated[int, Query(ge=0, le=2**31)]
Format = Annotated[Literal["json", "csv"], Query()]


def _answer(events: list[RegistryEvent], format: str) -> list[RegistryEventPublic] | Response:
    if format == "csv":
        return Response(registry_events_to_csv(events), media_type="text/csv; charset=utf-8")
    return [RegistryEventPublic.of(e) for e in events]


def _query(
    ra: RegistryAccess,
    *,
    model: str | None,
    projects: list[str] | None,
    user: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    offset: int,
) -> list[RegistryEvent]:
    now = ra.registry.clock()
    return ra.registry.events(
        model=model,
        user=user,
        action=action,
        since=parse_time(since, now, "since"),
        until=parse_time(until, now, "until"),
        projects=projects,
        limit=limit,
        offset=offset,
    )


@router.get("/models/{name}/audit", response_model=list[RegistryEventPublic], responses=_CSV)
def query_model_audit(
    name: str,
    ra: RegistryAccessDep,
    user: User = None,
    action: Action = None,
    since: Since = None,
    until: Until = None,
    limit: AuditLimit = 100,
    offset: AuditOffset = 0,
    format: Format = "json",
) -> list[RegistryEventPublic] | Response:
    """The model's trail: who registered, requested, approved, moved and downloaded what, and when."""
    ra.model(name, Role.VIEWER)
    events = _query(
        ra,
        model=name,
        projects=None,
        user=user,
        action=action,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return _answer(events, format)


@router.get("/registry/audit", response_model=list[RegistryEventPublic], responses=_CSV)
def query_registry_audit(
    ra: RegistryAccessDep,
    model: Annotated[str | None, Query()] = None,
    user: User = None,
    action: Action = None,
    since: Since = None,
    until: Until = None,
    limit: AuditLimit = 100,
    offset: AuditOffset = 0,
    format: Format = "json",
) -> list[RegistryEventPublic] | Response:
    """The trail of every model the user may view (of ``model`` only when given)."""
    if model is not None:
        ra.model(model, Role.VIEWER)
    events = _query(
        ra,
        model=model,
        projects=None if model is not None else ra.visible_projects(),
        user=user,
        action=action,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return _answer(events, format)
