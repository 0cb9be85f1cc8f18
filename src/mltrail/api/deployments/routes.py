"""``/api/v1/deployments``: create, read, change, roll back and promote deployment specs, and the shadow
and canary evidence gateways send (``/{name}/evidence``).

Roles are checked on the deployment's project (its primary model's): viewers read, members change. A
deployment whose project the caller has the role ``none`` on is a 404 like a missing one. Each route parses
its body, checks the role, calls one ``DeploymentService`` method and returns the schema.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from mltrail.api.access import Access, AccessDep
from mltrail.api.audit_log import request_origin
from mltrail.api.deployments.evidence_schemas import EvidenceIn, EvidencePublic, EvidenceWritten
from mltrail.api.deployments.schemas import (
    DeploymentCreate,
    DeploymentPagePublic,
    DeploymentPublic,
    DeploymentUpdate,
    PromoteIn,
    RollbackIn,
    VersionPagePublic,
    VersionPublic,
)
from mltrail.api.deps import TrackingDep, from_state
from mltrail.entities import Deployment, Role
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.accounts.audit import parse_time
from mltrail.services.accounts.service import Principal
from mltrail.services.deployments.evidence import EvidenceService
from mltrail.services.deployments.service import DeploymentService
from mltrail.services.registry.core import Origin
from mltrail.services.tracking.service import TrackingService

__all__ = ["router"]

router = APIRouter(prefix="/deployments", tags=["deployments"])
Offset = Annotated[int, Query(ge=0, le=2**31)]
Limit = Annotated[int, Query(ge=1, le=1000)]


DeploymentsDep = Annotated[DeploymentService, from_state("deployments")]
EvidenceDep = Annotated[EvidenceService, from_state("deployment_evidence")]


class DeploymentAccess:
    """The current principal's permissions on deployments, for one request."""

    def __init__(
        self, access: Access, service: DeploymentService, tracking: TrackingService, request: Request
    ) -> None:
        self.access = access
        self.service = service
        self._tracking = tracking
        self._request = request

    def deployment(self, name: str, minimum: Role) -> Deployment:
        """The deployment, after checking the principal's role on its project (hidden: 404)."""
        found = self.service.get(name)
        try:
            self.access.project(found.project, minimum)
        except NotFoundError:
            raise NotFoundError(f"no deployment {name!r}") from None
        return found

    def project(self, project: str, minimum: Role) -> None:
        self.access.project(project, minimum)

    def visible_projects(self) -> list[str] | None:
        return self.access.visible_names(self._tracking)

    def actor(self, user: str | None) -> Principal:
        """The authenticated user; without authentication the body's ``user`` when given."""
        principal = self.access.principal
        if principal.anonymous and user:
            if self.access.note is not None:
                self.access.note.user = user
            return Principal(name=user, role=Role.ADMIN)
        return principal

    @property
    def origin(self) -> Origin:
        return request_origin(self._request)


async def _deployment_access(
    access: AccessDep, deployments: DeploymentsDep, tracking: TrackingDep, request: Request
) -> DeploymentAccess:
    # async: no I/O here, so no worker-thread hop
    return DeploymentAccess(access, deployments, tracking, request)


DeploymentAccessDep = Annotated[DeploymentAccess, Depends(_deployment_access)]


@router.get("")
def list_deployments(
    da: DeploymentAccessDep,
    project: Annotated[str | None, Query(max_length=500, description="only this project's")] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> DeploymentPagePublic:
    """The deployments of the projects the user may view, by name, each with its current spec."""
    if project is not None:
        da.project(project, Role.VIEWER)
        projects: list[str] | None = [project]
    else:
        projects = da.visible_projects()
    found, total = da.service.list_deployments(projects=projects, offset=offset, limit=limit)
    return DeploymentPagePublic(deployments=[DeploymentPublic.of(d) for d in found], total=total)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_deployment(body: DeploymentCreate, da: DeploymentAccessDep) -> DeploymentPublic:
    """A new deployment (member on its primary model's project); every reference is resolved through the
    registry, so one naming no version is a 400 naming its field."""
    da.project(da.service.project_of_spec(body.spec), Role.MEMBER)
    created = da.service.create(
        body.name, body.spec, principal=da.actor(body.user), comment=body.comment, origin=da.origin
    )
    return DeploymentPublic.of(created)


@router.get("/{name}")
def get_deployment(name: str, da: DeploymentAccessDep) -> DeploymentPublic:
    """The deployment and its current spec version."""
    return DeploymentPublic.of(da.deployment(name, Role.VIEWER))


@router.put("/{name}")
def update_deployment(name: str, body: DeploymentUpdate, da: DeploymentAccessDep) -> DeploymentPublic:
    """Replace the spec (member): a new version; the old ones stay in the history."""
    da.deployment(name, Role.MEMBER)
    changed = da.service.update(
        name,
        body.spec,
        principal=da.actor(body.user),
        comment=body.comment,
        expected_version=body.expected_version,
        origin=da.origin,
    )
    return DeploymentPublic.of(changed)


@router.get("/{name}/versions")
def list_deployment_versions(
    name: str, da: DeploymentAccessDep, offset: Offset = 0, limit: Limit = 100
) -> VersionPagePublic:
    """The spec's versions newest first: who changed what, when, from where and why."""
    da.deployment(name, Role.VIEWER)
    versions, total = da.service.history(name, offset=offset, limit=limit)
    return VersionPagePublic(versions=[VersionPublic.of(v) for v in versions], total=total)


@router.get("/{name}/versions/{version}")
def get_deployment_version(name: str, version: int, da: DeploymentAccessDep) -> VersionPublic:
    """One version of the spec."""
    da.deployment(name, Role.VIEWER)
    if not 1 <= version <= 2**31:
        raise NotFoundError(f"deployment {name!r} has no version {version}")
    return VersionPublic.of(da.service.get_version(name, version))


@router.post("/{name}/rollback")
def rollback_deployment(name: str, body: RollbackIn, da: DeploymentAccessDep) -> DeploymentPublic:
    """The previous spec (or ``to_version``'s) as a new version (member)."""
    da.deployment(name, Role.MEMBER)
    rolled = da.service.rollback(
        name,
        principal=da.actor(body.user),
        to_version=body.to_version,
        comment=body.comment,
        origin=da.origin,
    )
    return DeploymentPublic.of(rolled)


@router.post("/{name}/promote")
def promote_deployment(name: str, body: PromoteIn, da: DeploymentAccessDep) -> DeploymentPublic:
    """Copy this deployment's current spec to ``target`` (member on both; the target keeps its own
    monitor), e.g. from ``churn-staging`` to ``churn-production``."""
    source = da.deployment(name, Role.MEMBER)
    try:
        da.deployment(body.target, Role.MEMBER)
    except NotFoundError:
        da.project(source.project, Role.MEMBER)  # a new target is created in the source's project
    promoted = da.service.promote(
        name,
        body.target,
        principal=da.actor(body.user),
        monitor=body.monitor,
        comment=body.comment,
        origin=da.origin,
    )
    return DeploymentPublic.of(promoted)


_TIME = "epoch seconds, an ISO 8601 time (UTC unless it says otherwise) or a duration back, e.g. 7d"


@router.get("/{name}/evidence")
def get_deployment_evidence(
    name: str,
    da: DeploymentAccessDep,
    service: EvidenceDep,
    since: Annotated[
        str | None,
        Query(
            max_length=100, description=f"from this time on ({_TIME}); default: the current spec version's"
        ),
    ] = None,
    until: Annotated[str | None, Query(max_length=100, description=f"before this time ({_TIME})")] = None,
) -> EvidencePublic:
    """What the gateways counted per variant and model over the period, summed over every replica:
    requests, rows, error, fallback and guard rates, latency percentiles of the merged sketches, a
    shadow's agreement with the caller's answers, and realized performance from the monitor's labels."""
    da.deployment(name, Role.VIEWER)
    now = service.clock()
    start = parse_time(since, now, field="since")
    end = parse_time(until, now, field="until")
    for value, field in ((start, "since"), (end, "until")):
        if value is not None and not math.isfinite(value):
            raise InvalidInputError(f"{field} must be a finite time", field=field)
    if start is not None and start >= (now if end is None else end):
        raise InvalidInputError("since must be before until (default: now)", field="since")
    return EvidencePublic.of(service.evidence(name, since=start, until=end))


@router.post("/{name}/evidence")
def post_deployment_evidence(
    name: str, body: EvidenceIn, da: DeploymentAccessDep, evidence: EvidenceDep
) -> EvidenceWritten:
    """A gateway replica's counts of the minute windows it touched (member: the gateway's key); each
    window replaces that replica's rows of it, so a repeated send counts once."""
    da.deployment(name, Role.MEMBER)
    return EvidenceWritten(rows=evidence.record(name, body.entities()))
