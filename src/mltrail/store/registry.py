"""The storage interface of the model registry and its webhooks, part of ``Store``.

Every method is one transaction. Methods that change the registry take the ``RegistryEvent``s that record
the change and append them in the same transaction, together with a pending delivery for every active
webhook subscribed to the event, so the audit trail and the webhooks' outbox can never disagree with what
happened.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mltrail.entities import (
    ApprovalPolicy,
    Decision,
    GateResult,
    ModelFile,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
    RequestStatus,
    Stage,
    TransitionRequest,
    Webhook,
    WebhookDelivery,
)

__all__ = ["ClaimedDelivery", "RegistryStore", "RequestOutcome"]


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """What a decision on a transition request does, as the registry's rules decided it: the decision to
    record, the request's new status, the gate results to keep (or None), the events to append, and
    whether to apply the transition now (with ``effect``, its ``stage_changed``/``alias_moved`` event)."""

    decision: Decision
    status: RequestStatus
    events: tuple[RegistryEvent, ...]
    gates: tuple[GateResult, ...] | None = None
    apply: bool = False
    effect: RegistryEvent | None = None


class ClaimedDelivery:
    """A due delivery leased to one dispatcher: what to send, where, and the secret to sign it with.

    ``body`` is the payload exactly as stored (the bytes that are signed and sent); ``payload`` is it parsed.
    """

    __slots__ = ("action", "attempt", "body", "delivery_id", "payload", "secret", "url", "webhook_id")

    def __init__(
        self,
        delivery_id: int,
        webhook_id: int,
        url: str,
        secret: str,
        payload: dict[str, Any],
        attempt: int,
        body: bytes = b"",
        action: str = "",
    ) -> None:
        self.delivery_id = delivery_id
        self.webhook_id = webhook_id
        self.url = url
        self.secret = secret
        self.payload = payload
        self.attempt = attempt
        self.body = body
        self.action = action


class RegistryStore(abc.ABC):
    """Registered models, versions, stages, aliases, transition requests, the registry's audit trail, and
    webhook subscriptions with their delivery outbox. ``NotFoundError`` for a missing model, version, alias,
    request or webhook; ``ConflictError`` for a clash with the current state."""

    # -- models ------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_registered_model(
        self,
        *,
        name: str,
        project: str,
        description: str,
        owner: str | None,
        tags: Mapping[str, str],
        policy: ApprovalPolicy,
        card: Mapping[str, Any],
        created_at: float,
        event: RegistryEvent,
    ) -> RegisteredModel:
        """A new model in ``project`` (created if new). A model of that name anywhere: ConflictError."""

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel: ...

    @abc.abstractmethod
    def list_registered_models(
        self, *, projects: Sequence[str] | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[RegisteredModel], int]:
        """Models ordered by name (only those of ``projects`` when given) and how many there are in all."""

    @abc.abstractmethod
    def update_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
        policy: ApprovalPolicy | None = None,
        card: Mapping[str, Any] | None = None,
        updated_at: float,
        event: RegistryEvent,
    ) -> RegisteredModel:
        """Change what is given (``tags`` and ``card`` are merged; an empty-string tag value deletes it)."""

    # -- versions ----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_model_version(
        self,
        *,
        model: str,
        run_id: str | None,
        source: str,
        digest: str,
        flavor: str,
        format: str,
        executes_code: bool,
        signature: Mapping[str, Any] | None,
        files: Sequence[ModelFile],
        description: str,
        tags: Mapping[str, str],
        created_by: str | None,
        created_at: float,
        event: RegistryEvent,
    ) -> ModelVersion:
        """The model's next version number, assigned atomically (concurrent registrations get distinct
        numbers). ``event.version`` is filled in with it."""

    @abc.abstractmethod
    def get_model_version(self, model: str, version: int) -> ModelVersion: ...

    @abc.abstractmethod
    def get_version_by_alias(self, model: str, alias: str) -> ModelVersion: ...

    @abc.abstractmethod
    def versions_of_run(self, run_id: str) -> list[ModelVersion]:
        """Every version registered from the run (of any model), oldest first."""

    @abc.abstractmethod
    def list_model_versions(
        self, model: str, *, stage: Stage | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[ModelVersion], int]:
        """Versions newest first, and how many match."""

    @abc.abstractmethod
    def update_model_version(
        self,
        model: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        event: RegistryEvent,
    ) -> ModelVersion: ...

    @abc.abstractmethod
    def set_version_stage(
        self,
        model: str,
        version: int,
        stage: Stage,
        *,
        archive_previous: bool,
        events: Sequence[RegistryEvent],
    ) -> ModelVersion:
        """Move the version to ``stage``; entering ``production`` with ``archive_previous`` archives every
        other production version of the model (a ``stage_changed`` event is added for each)."""

    @abc.abstractmethod
    def set_alias(self, model: str, alias: str, version: int, *, event: RegistryEvent) -> ModelVersion:
        """Point ``alias`` at the version (moving it from wherever it pointed)."""

    @abc.abstractmethod
    def delete_alias(self, model: str, alias: str, *, event: RegistryEvent) -> None: ...

    # -- transition requests -----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_transition_request(
        self,
        *,
        model: str,
        version: int,
        kind: str,
        target: str,
        requested_by: str | None,
        comment: str,
        required_approvals: int,
        gates: Sequence[GateResult],
        created_at: float,
        event: RegistryEvent,
    ) -> TransitionRequest:
        """A pending request. Another pending request for the same version and target: ConflictError."""

    @abc.abstractmethod
    def get_transition_request(self, request_id: int) -> TransitionRequest: ...

    @abc.abstractmethod
    def list_transition_requests(
        self,
        *,
        model: str | None = None,
        status: str | None = None,
        projects: Sequence[str] | None = None,
        offset: int = 0,
        limit: int = 100,
        models: Sequence[str] | None = None,
        requested_by: str | None = None,
        not_requested_by: str | None = None,
    ) -> tuple[list[TransitionRequest], int]:
        """Requests newest first (of ``projects``' models, of ``models``, by ``requested_by``, by anyone but
        ``not_requested_by``, when given) and how many match."""

    @abc.abstractmethod
    def decide_transition_request(
        self,
        request_id: int,
        decide: Callable[[TransitionRequest], RequestOutcome],
        *,
        archive_previous: bool,
    ) -> TransitionRequest:
        """Record a decision on a request, atomically with its effect, under a lock on the request.

        ``decide`` gets the request as locked (its status and the decisions so far) and says what happens:
        the rules (who may decide, the quorum, the events) are the caller's; the store only applies the
        outcome. Two concurrent deciders are serialized by the lock, so the second sees the first's
        decision. When the outcome says ``apply``, the transition is applied (the stage, archiving as
        ``set_version_stage`` does, or the alias) with the outcome's ``effect`` event, plus the events that
        applying it causes. ``gates`` (re-evaluated by the caller) replace the stored results when given.
        """

    @abc.abstractmethod
    def cancel_transition_request(self, request_id: int, *, event: RegistryEvent) -> TransitionRequest: ...

    # -- the audit trail ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def append_registry_event(self, event: RegistryEvent) -> int:
        """Append one event (a download, for example) and queue it for its webhooks; its id."""

    @abc.abstractmethod
    def query_registry_events(
        self,
        *,
        model: str | None = None,
        user: str | None = None,
        action: str | None = None,
        since: float | None = None,
        until: float | None = None,
        projects: Sequence[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[RegistryEvent]:
        """Events newest first."""

    # -- webhooks ----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_webhook(
        self,
        *,
        url: str,
        secret: str,
        events: Sequence[str],
        model: str | None,
        created_by: str | None,
        created_at: float,
    ) -> Webhook: ...

    @abc.abstractmethod
    def list_webhooks(self, *, model: str | None = None) -> list[Webhook]:
        """Webhooks of ``model`` and those for every model (all of them when ``model`` is None)."""

    @abc.abstractmethod
    def get_webhook(self, webhook_id: int) -> Webhook: ...

    @abc.abstractmethod
    def delete_webhook(self, webhook_id: int) -> None:
        """Deactivate it: no new deliveries; its delivery log is kept."""

    @abc.abstractmethod
    def claim_deliveries(self, *, now: float, lease_seconds: float, limit: int) -> list[ClaimedDelivery]:
        """Pending deliveries due by ``now``, each leased (its next attempt pushed ``lease_seconds`` ahead) so
        that several dispatchers sharing a database never send one attempt twice."""

    @abc.abstractmethod
    def record_delivery_attempt(
        self,
        delivery_id: int,
        *,
        attempt: int,
        time: float,
        status_code: int | None,
        error: str | None,
        duration_ms: float,
        next_attempt_at: float | None,
        delivered: bool,
    ) -> None:
        """Log one attempt; ``delivered`` closes it, else ``next_attempt_at`` schedules a retry or, when None,
        marks it failed for good."""

    @abc.abstractmethod
    def list_deliveries(self, webhook_id: int, *, limit: int = 100) -> list[WebhookDelivery]:
        """A webhook's deliveries newest first, each with its attempts."""
