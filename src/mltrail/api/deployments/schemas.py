"""Request and response bodies of ``/api/v1/deployments``.

A spec travels in its JSON form (``entities/deployment_spec.py``); the service parses it and names the
field of any mistake (``spec.canary.percent``). Every request body takes an optional ``user``: without
authentication it names who acts; with it the authenticated user acts and ``user`` is ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mltrail.api.tracking.schemas import _In, _Out
from mltrail.entities import Deployment, DeploymentVersion

__all__ = [
    "DeploymentCreate",
    "DeploymentPagePublic",
    "DeploymentPublic",
    "DeploymentUpdate",
    "PromoteIn",
    "RollbackIn",
    "VersionPagePublic",
    "VersionPublic",
]

_USER = Field(
    None,
    max_length=200,
    description="who acts, without authentication (with it: the authenticated user, whatever this says)",
)
_COMMENT = Field(None, max_length=100_000, description="why, for the deployment's history")
_SPEC = Field(
    description=(
        "the spec: primary (e.g. churn@production), canary {ref, percent}, shadow [refs], fallback [steps],"
        " guards {input, output}, timeout_ms, monitor — see docs/DEPLOYMENTS.md"
    )
)


class DeploymentCreate(_In):
    name: str = Field(max_length=128)
    spec: dict[str, Any] = _SPEC
    comment: str | None = _COMMENT
    user: str | None = _USER


class DeploymentUpdate(_In):
    spec: dict[str, Any] = _SPEC
    expected_version: int | None = Field(
        None, ge=1, le=2**31, description="the version this change was made on (409 if another came first)"
    )
    comment: str | None = _COMMENT
    user: str | None = _USER


class RollbackIn(_In):
    to_version: int | None = Field(
        None, ge=1, le=2**31, description="default: the version before the current"
    )
    comment: str | None = _COMMENT
    user: str | None = _USER


class PromoteIn(_In):
    target: str = Field(max_length=128, description="the deployment that gets the spec (created when new)")
    monitor: str | None = Field(
        None, max_length=200, description="the target's monitor (default: the one it has; never the source's)"
    )
    comment: str | None = _COMMENT
    user: str | None = _USER


class VersionPublic(_Out):
    deployment: str
    version: int
    spec: dict[str, Any]
    action: str
    user: str | None
    time: float
    comment: str
    details: dict[str, Any]
    client: str | None
    user_agent: str | None

    @classmethod
    def of(cls, v: DeploymentVersion) -> VersionPublic:
        return cls(
            deployment=v.deployment,
            version=v.version,
            spec=v.spec.to_dict(),
            action=v.action,
            user=v.user,
            time=v.time,
            comment=v.comment,
            details=v.details,
            client=v.client,
            user_agent=v.user_agent,
        )


class DeploymentPublic(_Out):
    name: str
    project: str
    created_at: float
    created_by: str | None
    version: int
    current: VersionPublic

    @classmethod
    def of(cls, d: Deployment) -> DeploymentPublic:
        return cls(
            name=d.name,
            project=d.project,
            created_at=d.created_at,
            created_by=d.created_by,
            version=d.version,
            current=VersionPublic.of(d.current),
        )


class DeploymentPagePublic(_Out):
    deployments: list[DeploymentPublic]
    total: int


class VersionPagePublic(_Out):
    versions: list[VersionPublic]
    total: int
