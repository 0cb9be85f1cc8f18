"""Registry transitions: stages and aliases, applied at once or through requests that need approvals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from mltrail.entities import (
    ApprovalPolicy,
    Decision,
    GateResult,
    ModelVersion,
    RegistryEvent,
    RequestStatus,
    Role,
    Stage,
    TransitionRequest,
)
from mltrail.errors import ConflictError, InvalidInputError, PermissionDeniedError
from mltrail.services.accounts.service import Principal
from mltrail.services.registry.checks import (
    MAX_VERSION,
    evaluate_gates,
    is_version_number,
    parse_model_ref,
    validate_alias,
)
from mltrail.services.registry.core import Origin, RegistryCore, Transition, bounded_text
from mltrail.services.registry.evidence_gates import evaluate_evidence_gates
from mltrail.store.registry import RequestOutcome

__all__ = ["TransitionsMixin", "decision_outcome"]


class TransitionsMixin(RegistryCore):
    def _gates(self, policy: ApprovalPolicy, version: ModelVersion) -> list[GateResult]:
        """Every gate of the policy for ``version``: on its source run, then on its serving evidence."""
        gates = evaluate_gates(self.runs, policy, self._source_run(version), version.signature)
        source = None if self._evidence is None else self._evidence()
        return gates + evaluate_evidence_gates(policy.gates, source, version.ref)

    # -- transitions ------------------------------------------------------------------------------------
    def transition(
        self,
        model: str,
        version: int,
        *,
        principal: Principal,
        stage: Stage | str | None = None,
        alias: str | None = None,
        comment: str | None = None,
        origin: Origin | None = None,
    ) -> Transition:
        """Move a version to a stage or point an alias at it: at once for an unprotected target, else as a
        request that waits for approval (gates evaluated now; a failed gate refuses the request)."""
        if (stage is None) == (alias is None):
            raise InvalidInputError("give exactly one of stage and alias", field="stage")
        current = self.store.get_model_version(model, version)
        policy = self.store.get_registered_model(model).policy
        if stage is not None:
            try:
                target_stage = Stage(stage)
            except ValueError:
                raise InvalidInputError(f"unknown stage {stage!r}", field="stage") from None
            kind, target = "stage", target_stage.value
            protected = target in policy.protected_stages
        else:
            kind, target = "alias", validate_alias(str(alias))
            protected = target in policy.protected_aliases
        note = bounded_text(comment, "comment")
        if not protected:
            if kind == "stage":
                event = self._event(
                    model, "stage_changed", principal, origin, details={"to": target, "comment": note}
                )
                moved = self.store.set_version_stage(
                    model, version, Stage(target), archive_previous=policy.archive_previous, events=[event]
                )
            else:
                event = self._event(model, "alias_moved", principal, origin, details={"comment": note})
                moved = self.store.set_alias(model, target, version, event=event)
            self._changed()
            return Transition(moved)
        gates = self._gates(policy, current)
        failed = [g for g in gates if not g.passed]
        if failed:
            raise ConflictError(
                f"{model}:{version} cannot be requested for {target}: gate "
                + "; ".join(f"{g.gate!r} {g.detail}" for g in failed)
            )
        request = self.store.create_transition_request(
            model=model,
            version=version,
            kind=kind,
            target=target,
            requested_by=principal.name,
            comment=note,
            required_approvals=policy.required_approvals,
            gates=gates,
            created_at=self.clock(),
            event=self._event(model, "transition_requested", principal, origin, version=version),
        )
        self._changed()
        return Transition(current, request)

    def decide(
        self,
        request_id: int,
        *,
        approve: bool,
        principal: Principal,
        comment: str | None = None,
        origin: Origin | None = None,
    ) -> TransitionRequest:
        """Approve or reject a pending request. Exactly one of several concurrent deciders closes it."""
        request = self.store.get_transition_request(request_id)
        model = self.store.get_registered_model(request.model)
        policy = model.policy
        if principal.name is None:
            raise PermissionDeniedError(
                "deciding on a request needs a named user (an API key, or MLTRAIL_USER / --user without"
                " authentication), so that the requester cannot approve their own request"
            )
        if principal.name == request.requested_by:
            raise PermissionDeniedError(
                f"{principal.name} requested this transition and cannot {'approve' if approve else 'reject'}"
                " it: another approver must"
            )
        role = self.accounts.project_role(principal, model.project)
        lowest = min(policy.approver_roles, key=lambda r: r.rank)  # roles form a ladder
        if not role.at_least(lowest):
            allowed = ", ".join(r.value for r in policy.approver_roles)
            raise PermissionDeniedError(
                f"approving transitions of {model.name!r} needs one of the roles {allowed};"
                f" {principal.name} is {role.value} on project {model.project!r}"
            )
        gates = None
        if approve:
            version = self.store.get_model_version(request.model, request.version)
            gates = self._gates(policy, version)
            failed = [g for g in gates if not g.passed]
            if failed:
                raise ConflictError(
                    f"request {request_id} cannot be approved: gate "
                    + "; ".join(f"{g.gate!r} {g.detail}" for g in failed)
                )
        action = "transition_approved" if approve else "transition_rejected"
        decision = Decision(principal.name, approve, bounded_text(comment, "comment"), self.clock())
        event = self._event(request.model, action, principal, origin)

        def outcome(locked: TransitionRequest) -> RequestOutcome:
            return decision_outcome(locked, decision, event, gates)

        decided = self.store.decide_transition_request(
            request_id, outcome, archive_previous=policy.archive_previous
        )
        self._changed()
        return decided

    def cancel(
        self, request_id: int, *, principal: Principal, origin: Origin | None = None
    ) -> TransitionRequest:
        """Withdraw a pending request: its requester, or a maintainer of the project."""
        request = self.store.get_transition_request(request_id)
        model = self.store.get_registered_model(request.model)
        is_requester = principal.name is not None and principal.name == request.requested_by
        if not is_requester and not self.accounts.project_role(principal, model.project).at_least(
            Role.MAINTAINER
        ):
            raise PermissionDeniedError("only the requester or a maintainer can cancel a request")
        cancelled = self.store.cancel_transition_request(
            request_id, event=self._event(request.model, "transition_cancelled", principal, origin)
        )
        self._changed()
        return cancelled

    def get_request(self, request_id: int) -> TransitionRequest:
        return self.store.get_transition_request(request_id)

    def list_requests(
        self,
        *,
        model: str | None = None,
        status: str | None = "pending",
        projects: list[str] | None = None,
        offset: int = 0,
        limit: int = 100,
        requested_by: str | None = None,
        decidable_by: Principal | None = None,
    ) -> tuple[list[TransitionRequest], int]:
        """Requests newest first; with ``decidable_by``, only those that principal may approve or reject: a
        model whose policy lists a role they hold on its project, requested by someone else (``decide``'s
        rules, gates aside)."""
        models: list[str] | None = None
        not_requested_by: str | None = None
        if decidable_by is not None:
            if decidable_by.name is None:
                return [], 0
            not_requested_by = decidable_by.name
            models = []
            offset_m, total_m = 0, 1
            while offset_m < total_m:
                page, total_m = self.store.list_registered_models(
                    projects=projects, offset=offset_m, limit=1000
                )
                offset_m += 1000
                for m in page:
                    lowest = min(m.policy.approver_roles, key=lambda r: r.rank)
                    if self.accounts.project_role(decidable_by, m.project).at_least(lowest):
                        models.append(m.name)
        return self.store.list_transition_requests(
            model=model,
            status=status,
            projects=projects,
            offset=offset,
            limit=min(limit, 1000),
            models=models,
            requested_by=requested_by,
            not_requested_by=not_requested_by,
        )

    def set_alias(
        self,
        model: str,
        alias: str,
        version: int | str,
        *,
        principal: Principal,
        comment: str | None = None,
        origin: Origin | None = None,
    ) -> Transition:
        """Point an alias at a version (a number, or ``model:N`` naming a version of this same model)."""
        number = self._version_number(model, version)
        return self.transition(
            model, number, principal=principal, alias=alias, comment=comment, origin=origin
        )

    @staticmethod
    def _version_number(model: str, version: int | str) -> int:
        if isinstance(version, int) and not isinstance(version, bool):
            if not 1 <= version <= MAX_VERSION:
                raise InvalidInputError(f"no version number {version}", field="version")
            return version
        text = str(version).strip()
        if is_version_number(text):
            return int(text)
        if text.isdigit():  # too large, or not ASCII digits
            raise InvalidInputError(f"no version number {text!r}", field="version")
        ref = parse_model_ref(text, field="version")
        if ref.model != model:
            raise InvalidInputError(
                f"an alias of {model!r} can only point at a version of {model!r}, not of {ref.model!r}",
                field="version",
            )
        if ref.version is None:
            raise InvalidInputError("give the version as a number or MODEL:NUMBER", field="version")
        return ref.version

    def delete_alias(
        self, model: str, alias: str, *, principal: Principal, origin: Origin | None = None
    ) -> None:
        found = self.store.get_registered_model(model)
        if alias in found.policy.protected_aliases and not self.accounts.project_role(
            principal, found.project
        ).at_least(Role.MAINTAINER):
            raise PermissionDeniedError(f"alias {alias!r} is protected: only a maintainer can delete it")
        self.store.delete_alias(model, alias, event=self._event(model, "alias_deleted", principal, origin))
        self._changed()


def decision_outcome(
    request: TransitionRequest,
    decision: Decision,
    event: RegistryEvent,
    gates: Sequence[GateResult] | None,
) -> RequestOutcome:
    """The registry's rule for one decision on a request, read under the store's lock on it: a request no
    longer pending, or a second decision by the same user, is a ConflictError (so of two concurrent
    approvers one wins and the other gets 409); a rejection closes it; the approval that brings the count
    to ``required_approvals`` approves it and applies the transition."""
    if request.status != RequestStatus.PENDING:
        raise ConflictError(
            f"request {request.id} is {request.status.value} already; it cannot be decided again"
        )
    if decision.user is not None and any(d.user == decision.user for d in request.decisions):
        raise ConflictError(f"{decision.user} has already decided on request {request.id}")
    details = {
        **event.details,
        "request": request.id,
        "kind": request.kind,
        "target": request.target,
        "comment": decision.comment,
    }
    head = replace(event, version=request.version, details=details)
    kept = None if gates is None else tuple(gates)
    if not decision.approve:
        return RequestOutcome(decision, RequestStatus.REJECTED, (head,), gates=kept)
    approvals = request.approvals + 1
    head = replace(
        head, details={**head.details, "approvals": approvals, "required": request.required_approvals}
    )
    if approvals < request.required_approvals:
        return RequestOutcome(decision, RequestStatus.PENDING, (head,), gates=kept)
    if request.kind == "stage":
        effect = replace(head, action="stage_changed", details={"to": request.target, "request": request.id})
    else:
        effect = replace(head, action="alias_moved", details={"request": request.id})
    return RequestOutcome(decision, RequestStatus.APPROVED, (head,), gates=kept, apply=True, effect=effect)
