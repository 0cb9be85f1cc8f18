"""``/api/v1/audit`` (admins only): the log of successful writes, newest first, as JSON or CSV.

There is no route that changes or deletes an event.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from mltrail.api.access import AdminOnly
from mltrail.api.accounts.schemas import AuditEventPublic
from mltrail.api.deps import AuditDep
from mltrail.services.accounts.audit import events_to_csv, parse_time

__all__ = ["router"]

router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[AdminOnly])
_TIME = "epoch seconds, an ISO 8601 time (UTC unless it says otherwise) or a duration back, e.g. 7d"


@router.get("", response_model=list[AuditEventPublic], responses={200: {"content": {"text/csv": {}}}})
def query_audit(
    audit: AuditDep,
    user: Annotated[str | None, Query()] = None,
    project: Annotated[str | None, Query()] = None,
    action: Annotated[str | None, Query(description="a route name, e.g. create_run, log_metrics")] = None,
    since: Annotated[str | None, Query(description=f"from this time on; {_TIME}")] = None,
    until: Annotated[str | None, Query(description=f"before this time; {_TIME}")] = None,
    limit: Annotated[int, Query()] = 100,
    offset: Annotated[int, Query()] = 0,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> list[AuditEventPublic] | Response:
    """Who did what, where and when: events matching every given filter, newest first."""
    now = audit.clock()
    events = audit.query(
        user=user,
        project=project,
        action=action,
        since=parse_time(since, now, "since"),
        until=parse_time(until, now, "until"),
        limit=limit,
        offset=offset,
    )
    if format == "csv":
        return Response(events_to_csv(events), media_type="text/csv; charset=utf-8")
    return [AuditEventPublic.of(e) for e in events]
