"""Request and response bodies of the registry routes: models, versions, transitions, requests, the trail.

Webhook bodies are in ``webhook_schemas.py``. Every request body takes an optional ``user``: without
authentication it names who acts (as ``POST /runs`` does), so the self-approval rule holds on a loopback
server too; with authentication the authenticated user acts and ``user`` is ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, RootModel

from mltrail.api.tracking.schemas import _In, _Out
from mltrail.entities import (
    ApprovalPolicy,
    Decision,
    GateResult,
    ModelFile,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
    RequestStatus,
    Role,
    Stage,
    TransitionRequest,
)
from mltrail.json_floats import encode_floats
from mltrail.services.registry.service import Transition

__all__ = [
    "AliasIn",
    "CancelIn",
    "DecisionIn",
    "DecisionPublic",
    "GateResultPublic",
    "ModelCardPublic",
    "ModelCreate",
    "ModelFilePublic",
    "ModelPagePublic",
    "ModelPatch",
    "ModelPublic",
    "PolicyIn",
    "PolicyPublic",
    "RegistryEventPublic",
    "RequestPagePublic",
    "RequestPublic",
    "TransitionIn",
    "TransitionPublic",
    "VersionCreate",
    "VersionPagePublic",
    "VersionPatch",
    "VersionPublic",
]

_DEFAULT = ApprovalPolicy()
_USER = Field(
    None,
    max_length=200,
    description="who acts, without authentication (with it: the authenticated user, whatever this says)",
)


# -- policies -----------------------------------------------------------------------------------------------
class PolicyIn(_In):
    """How protected stages and aliases are reached (``ApprovalPolicy``); omitted fields take the defaults."""

    protected_stages: list[str] = Field(default_factory=lambda: list(_DEFAULT.protected_stages))
    protected_aliases: list[str] = Field(default_factory=lambda: list(_DEFAULT.protected_aliases))
    required_approvals: int = _DEFAULT.required_approvals
    approver_roles: list[Role] = Field(default_factory=lambda: list(_DEFAULT.approver_roles))
    gates: list[str] = Field(default_factory=list, description="filter expressions on the source run")
    require_datasets: bool = _DEFAULT.require_datasets
    require_signature: bool = _DEFAULT.require_signature
    archive_previous: bool = _DEFAULT.archive_previous

    def to_policy(self) -> ApprovalPolicy:
        return ApprovalPolicy(
            protected_stages=tuple(self.protected_stages),
            protected_aliases=tuple(self.protected_aliases),
            required_approvals=self.required_approvals,
            approver_roles=tuple(self.approver_roles),
            gates=tuple(self.gates),
            require_datasets=self.require_datasets,
            require_signature=self.require_signature,
            archive_previous=self.archive_previous,
        )


class PolicyPublic(_Out):
    protected_stages: list[str]
    protected_aliases: list[str]
    required_approvals: int
    approver_roles: list[Role]
    gates: list[str]
    require_datasets: bool
    require_signature: bool
    archive_previous: bool

    @classmethod
    def of(cls, p: ApprovalPolicy) -> PolicyPublic:
        return cls(
            protected_stages=list(p.protected_stages),
            protected_aliases=list(p.protected_aliases),
            required_approvals=p.required_approvals,
            approver_roles=list(p.approver_roles),
            gates=list(p.gates),
            require_datasets=p.require_datasets,
            require_signature=p.require_signature,
            archive_previous=p.archive_previous,
        )


# -- models -------------------------------------------------------------------------------------------------
class ModelCreate(_In):
    name: str
    project: str
    description: str | None = None
    owner: str | None = Field(None, description="default: the user creating it")
    tags: dict[str, str] = Field(default_factory=dict)
    policy: PolicyIn | None = Field(None, description="needs the maintainer role on the project")
    card: dict[str, Any] | None = Field(None, description="needs the maintainer role on the project")
    user: str | None = _USER


class ModelPatch(_In):
    """What is given changes; ``tags`` and ``card`` are merged (an empty tag value deletes the tag)."""

    description: str | None = None
    owner: str | None = None
    tags: dict[str, str] | None = None
    card: dict[str, Any] | None = Field(None, description="needs the maintainer role on the project")
    user: str | None = _USER


class ModelPublic(_Out):
    name: str
    project: str
    description: str
    owner: str | None
    tags: dict[str, str]
    policy: PolicyPublic
    created_at: float
    updated_at: float
    latest_version: int
    aliases: dict[str, int]
    card: dict[str, Any]

    @classmethod
    def of(cls, m: RegisteredModel) -> ModelPublic:
        return cls(
            name=m.name,
            project=m.project,
            description=m.description,
            owner=m.owner,
            tags=m.tags,
            policy=PolicyPublic.of(m.policy),
            created_at=m.created_at,
            updated_at=m.updated_at,
            latest_version=m.latest_version,
            aliases=m.aliases,
            card=m.card,
        )


class ModelPagePublic(_Out):
    models: list[ModelPublic]
    total: int


# -- versions -----------------------------------------------------------------------------------------------
class VersionCreate(_In):
    run_id: str
    path: str = Field(description="the model folder's artifact path in the run, e.g. model")
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    user: str | None = _USER


class VersionPatch(_In):
    description: str | None = None
    tags: dict[str, str] | None = None
    user: str | None = _USER


class ModelFilePublic(_Out):
    path: str
    digest: str
    size: int

    @classmethod
    def of(cls, f: ModelFile) -> ModelFilePublic:
        return cls(path=f.path, digest=f.digest, size=f.size)


class VersionPublic(_Out):
    model: str
    version: int
    ref: str
    run_id: str | None
    source: str
    digest: str
    flavor: str
    format: str
    executes_code: bool
    signature: dict[str, Any] | None
    files: list[ModelFilePublic]
    size: int
    stage: Stage
    aliases: list[str]
    description: str
    tags: dict[str, str]
    created_by: str | None
    created_at: float

    @classmethod
    def of(cls, v: ModelVersion) -> VersionPublic:
        return cls(
            model=v.model,
            version=v.version,
            ref=v.ref,
            run_id=v.run_id,
            source=v.source,
            digest=v.digest,
            flavor=v.flavor,
            format=v.format,
            executes_code=v.executes_code,
            signature=v.signature,
            files=[ModelFilePublic.of(f) for f in v.files],
            size=v.size,
            stage=v.stage,
            aliases=list(v.aliases),
            description=v.description,
            tags=v.tags,
            created_by=v.created_by,
            created_at=v.created_at,
        )


# Non-finite floats inside untyped values (pydantic writes them as null there): mltrail.json_floats.
_finite_or_text = encode_floats


class ModelCardPublic(RootModel[dict[str, Any]]):
    """The model card (``RegistryService.model_card``): free-form, with non-finite metrics as strings."""

    @classmethod
    def of(cls, card: dict[str, Any]) -> ModelCardPublic:
        return cls(_finite_or_text(card))


class VersionPagePublic(_Out):
    versions: list[VersionPublic]
    total: int


# -- transitions and requests -------------------------------------------------------------------------------
class TransitionIn(_In):
    """Exactly one of ``stage`` and ``alias``."""

    stage: str | None = None
    alias: str | None = None
    comment: str | None = None
    user: str | None = _USER


class AliasIn(_In):
    version: int | str = Field(description="a version number, or MODEL:NUMBER of this model")
    comment: str | None = None
    user: str | None = _USER


class DecisionIn(_In):
    comment: str | None = None
    user: str | None = _USER


class CancelIn(_In):
    user: str | None = _USER


class GateResultPublic(_Out):
    gate: str
    passed: bool
    detail: str

    @classmethod
    def of(cls, g: GateResult) -> GateResultPublic:
        return cls(gate=g.gate, passed=g.passed, detail=g.detail)


class DecisionPublic(_Out):
    user: str | None
    approve: bool
    comment: str
    time: float

    @classmethod
    def of(cls, d: Decision) -> DecisionPublic:
        return cls(user=d.user, approve=d.approve, comment=d.comment, time=d.time)


class RequestPublic(_Out):
    id: int
    model: str
    version: int
    kind: Literal["stage", "alias"]
    target: str
    status: RequestStatus
    requested_by: str | None
    comment: str
    created_at: float
    required_approvals: int
    approvals: int
    gates: list[GateResultPublic]
    decisions: list[DecisionPublic]
    decided_at: float | None

    @classmethod
    def of(cls, r: TransitionRequest) -> RequestPublic:
        return cls(
            id=r.id,
            model=r.model,
            version=r.version,
            kind="alias" if r.kind == "alias" else "stage",
            target=r.target,
            status=r.status,
            requested_by=r.requested_by,
            comment=r.comment,
            created_at=r.created_at,
            required_approvals=r.required_approvals,
            approvals=r.approvals,
            gates=[GateResultPublic.of(g) for g in r.gates],
            decisions=[DecisionPublic.of(d) for d in r.decisions],
            decided_at=r.decided_at,
        )


class RequestPagePublic(_Out):
    requests: list[RequestPublic]
    total: int


class TransitionPublic(_Out):
    """``applied``: the version moved at once; else ``request`` is the request that now waits for approval."""

    applied: bool
    version: VersionPublic
    request: RequestPublic | None

    @classmethod
    def of(cls, t: Transition) -> TransitionPublic:
        return cls(
            applied=t.request is None,
            version=VersionPublic.of(t.version),
            request=None if t.request is None else RequestPublic.of(t.request),
        )


# -- the trail ----------------------------------------------------------------------------------------------
class RegistryEventPublic(_Out):
    id: int
    time: float
    model: str
    project: str | None
    action: str
    user: str | None
    version: int | None
    details: dict[str, Any]
    client: str | None
    user_agent: str | None

    @classmethod
    def of(cls, e: RegistryEvent) -> RegistryEventPublic:
        return cls(
            id=e.id or 0,
            time=e.time,
            model=e.model,
            project=e.project,
            action=e.action,
            user=e.user,
            version=e.version,
            details=e.details,
            client=e.client,
            user_agent=e.user_agent,
        )
