"""``/api/v1/requests``: the approvals inbox — transition requests; approving, rejecting, cancelling."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from mltrail.api.registry.access import Limit, Offset, RegistryAccess, RegistryAccessDep
from mltrail.api.registry.schemas import CancelIn, DecisionIn, RequestPagePublic, RequestPublic
from mltrail.api.tracking.schemas import INT64_MAX
from mltrail.entities import Role

__all__ = ["router"]

router = APIRouter(prefix="/requests", tags=["models"])
RequestId = Annotated[int, Path(ge=1, le=INT64_MAX)]


@router.get("")
def list_requests(
    ra: RegistryAccessDep,
    model: Annotated[str | None, Query(description="only this model's requests")] = None,
    status: Annotated[
        Literal["pending", "approved", "rejected", "cancelled", "all"], Query(description="all: any status")
    ] = "pending",
    offset: Offset = 0,
    limit: Limit = 100,
    project: Annotated[str | None, Query(description="only requests for this project's models")] = None,
    requested_by: Annotated[
        str | None, Query(max_length=200, description="only this user's requests")
    ] = None,
    decidable: Annotated[
        bool,
        Query(
            description="only requests you may approve or reject: your role is in the model's policy"
            " and you did not ask"
        ),
    ] = False,
) -> RequestPagePublic:
    """Requests newest first, of the models the user may view (by default the pending ones)."""
    if model is not None:
        ra.model(model, Role.VIEWER)
        projects = None
    else:
        projects = ra.visible_projects()
    if project is not None:
        ra.access.project(project, Role.VIEWER)
        projects = [project]
    requests, total = ra.registry.list_requests(
        model=model,
        status=None if status == "all" else status,
        projects=projects,
        offset=offset,
        limit=limit,
        requested_by=requested_by,
        decidable_by=ra.access.principal if decidable else None,
    )
    return RequestPagePublic(requests=[RequestPublic.of(r) for r in requests], total=total)


@router.get("/{request_id}")
def get_request(request_id: RequestId, ra: RegistryAccessDep) -> RequestPublic:
    """The request with its gate results and the decisions made so far."""
    return RequestPublic.of(ra.request(request_id, Role.VIEWER))


@router.post("/{request_id}/approve")
def approve_request(
    request_id: RequestId, ra: RegistryAccessDep, body: DecisionIn | None = None
) -> RequestPublic:
    """Approve: needs one of the policy's approver roles and not to be the requester (else 403); a request
    decided already is 409. The approval that completes the count applies the transition."""
    return _decide(request_id, ra, body, approve=True)


@router.post("/{request_id}/reject")
def reject_request(
    request_id: RequestId, ra: RegistryAccessDep, body: DecisionIn | None = None
) -> RequestPublic:
    """Reject, which closes the request (the same rules as approving)."""
    return _decide(request_id, ra, body, approve=False)


def _decide(request_id: int, ra: RegistryAccess, body: DecisionIn | None, *, approve: bool) -> RequestPublic:
    ra.request(request_id, Role.VIEWER)
    body = body or DecisionIn()
    decided = ra.registry.decide(
        request_id, approve=approve, principal=ra.actor(body.user), comment=body.comment, origin=ra.origin
    )
    return RequestPublic.of(decided)


@router.post("/{request_id}/cancel")
def cancel_request(
    request_id: RequestId, ra: RegistryAccessDep, body: CancelIn | None = None
) -> RequestPublic:
    """Withdraw a pending request: its requester, or a maintainer of the project."""
    ra.request(request_id, Role.VIEWER)
    body = body or CancelIn()
    cancelled = ra.registry.cancel(request_id, principal=ra.actor(body.user), origin=ra.origin)
    return RequestPublic.of(cancelled)
