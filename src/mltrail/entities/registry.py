"""The model registry's entities: registered models, versions, approval requests, registry events, webhooks.

Frozen dataclasses the store returns and the services pass around, like ``entities.py`` for tracking.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from mltrail.entities.accounts import Role

__all__ = [
    "REGISTRY_ACTIONS",
    "WEBHOOK_EVENTS",
    "ApprovalPolicy",
    "Decision",
    "DeliveryAttempt",
    "GateResult",
    "ModelFile",
    "ModelVersion",
    "RegisteredModel",
    "RegistryEvent",
    "RequestStatus",
    "Stage",
    "TransitionRequest",
    "Webhook",
    "WebhookDelivery",
]


class Stage(enum.StrEnum):
    """A version's lifecycle stage. Several versions may be in ``staging``; promoting one to ``production``
    archives the one there before, unless the model's policy says otherwise."""

    NONE = "none"
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


# Every action the registry's audit trail records. Webhooks subscribe to a subset (WEBHOOK_EVENTS).
REGISTRY_ACTIONS = (
    "model_created",
    "model_updated",
    "version_created",
    "version_updated",
    "transition_requested",
    "transition_approved",
    "transition_rejected",
    "transition_cancelled",
    "stage_changed",
    "alias_moved",
    "alias_deleted",
    "policy_changed",
    "downloaded",
)
WEBHOOK_EVENTS = (
    "version_created",
    "transition_requested",
    "transition_approved",
    "transition_rejected",
    "stage_changed",
    "alias_moved",
)


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """How a model's protected targets are reached.

    A transition into a stage of ``protected_stages`` or an alias of ``protected_aliases`` is a request that
    needs ``required_approvals`` approvals from users whose role on the model's project is one of
    ``approver_roles``, never the requester's own. Every gate must pass when the request is made and when it
    is approved: ``gates`` are filter expressions on the source run (``metrics.auc >= 0.85``), and
    ``require_datasets``/``require_signature`` ask for recorded training data and a signature.
    """

    protected_stages: tuple[str, ...] = ("production",)
    protected_aliases: tuple[str, ...] = ("champion",)
    required_approvals: int = 1
    approver_roles: tuple[Role, ...] = (Role.MAINTAINER, Role.ADMIN)
    gates: tuple[str, ...] = ()
    require_datasets: bool = False
    require_signature: bool = False
    archive_previous: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "protected_stages": list(self.protected_stages),
            "protected_aliases": list(self.protected_aliases),
            "required_approvals": self.required_approvals,
            "approver_roles": [r.value for r in self.approver_roles],
            "gates": list(self.gates),
            "require_datasets": self.require_datasets,
            "require_signature": self.require_signature,
            "archive_previous": self.archive_previous,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApprovalPolicy:
        default = cls()
        return cls(
            protected_stages=tuple(data.get("protected_stages", default.protected_stages)),
            protected_aliases=tuple(data.get("protected_aliases", default.protected_aliases)),
            required_approvals=int(data.get("required_approvals", default.required_approvals)),
            approver_roles=tuple(Role(r) for r in data.get("approver_roles", default.approver_roles)),
            gates=tuple(data.get("gates", default.gates)),
            require_datasets=bool(data.get("require_datasets", default.require_datasets)),
            require_signature=bool(data.get("require_signature", default.require_signature)),
            archive_previous=bool(data.get("archive_previous", default.archive_previous)),
        )


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    name: str
    project: str
    description: str
    owner: str | None
    tags: dict[str, str]
    policy: ApprovalPolicy
    created_at: float
    updated_at: float
    latest_version: int = 0
    aliases: dict[str, int] = field(default_factory=dict)
    card: dict[str, Any] = field(default_factory=dict)  # intended_use, limitations, … (free text)


@dataclass(frozen=True, slots=True)
class ModelFile:
    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered version: the files of a saved model folder, pinned by ``digest`` (the sha256 of its
    ``mltrail-model.json``, which lists every file's sha256), and the run it came from."""

    model: str
    version: int
    run_id: str | None
    source: str  # the folder's artifact path in the run, e.g. "model"
    digest: str
    flavor: str
    format: str
    executes_code: bool
    signature: dict[str, Any] | None
    files: tuple[ModelFile, ...]
    stage: Stage
    description: str
    tags: dict[str, str]
    created_by: str | None
    created_at: float
    aliases: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def ref(self) -> str:
        return f"{self.model}:{self.version}"


@dataclass(frozen=True, slots=True)
class GateResult:
    gate: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Decision:
    user: str | None
    approve: bool
    comment: str
    time: float


@dataclass(frozen=True, slots=True)
class TransitionRequest:
    """A request to move a version into a protected stage (``kind="stage"``) or alias (``kind="alias"``)."""

    id: int
    model: str
    version: int
    kind: str
    target: str
    status: RequestStatus
    requested_by: str | None
    comment: str
    created_at: float
    required_approvals: int
    gates: tuple[GateResult, ...] = ()
    decisions: tuple[Decision, ...] = ()
    decided_at: float | None = None

    @property
    def approvals(self) -> int:
        return sum(1 for d in self.decisions if d.approve)


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    """One entry of the registry's audit trail; never changed once written."""

    time: float
    model: str
    action: str
    user: str | None
    version: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    client: str | None = None
    user_agent: str | None = None
    project: str | None = None  # filled in by the store from the model
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Webhook:
    """A subscription: registry events of ``model`` (None: every model) among ``events`` POSTed to ``url``,
    signed with HMAC-SHA256 under a secret that is shown once and never returned again."""

    id: int
    url: str
    events: tuple[str, ...]
    model: str | None
    created_by: str | None
    created_at: float
    active: bool = True


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    attempt: int
    time: float
    status_code: int | None
    error: str | None
    duration_ms: float


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One event to one webhook: ``pending`` until a 2xx answer (``delivered``) or the last retry
    (``failed``)."""

    id: int
    webhook_id: int
    event_id: int
    action: str
    status: str
    attempts: int
    next_attempt_at: float | None
    created_at: float
    payload: dict[str, Any] = field(default_factory=dict)
    log: tuple[DeliveryAttempt, ...] = ()
