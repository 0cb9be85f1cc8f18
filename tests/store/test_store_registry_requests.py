"""The registry store's part in decisions on transition requests, on SQLite and PostgreSQL: the store
locks the request, hands it (with the decisions so far) to the caller's rule, and applies the outcome
atomically. The rule itself (quorum, events) is the service's:
``services.registry.transitions.decision_outcome``."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace

import pytest

from mltrail.entities import (
    ApprovalPolicy,
    Decision,
    ModelFile,
    RegistryEvent,
    RequestStatus,
    Stage,
    TransitionRequest,
)
from mltrail.errors import ConflictError
from mltrail.services.registry.transitions import decision_outcome
from mltrail.store.registry import RequestOutcome
from mltrail.store.sql import SqlStore

NOW = 1_764_547_200.0


def _event(model: str, action: str, user: str | None = "ana") -> RegistryEvent:
    return RegistryEvent(time=NOW, model=model, action=action, user=user)


def _request(store: SqlStore, project: str, required: int = 1) -> tuple[str, TransitionRequest]:
    model = f"m-{uuid.uuid4().hex[:8]}"
    store.create_registered_model(
        name=model,
        project=project,
        description="",
        owner=None,
        tags={},
        policy=ApprovalPolicy(required_approvals=required),
        card={},
        created_at=NOW,
        event=_event(model, "model_created"),
    )
    store.create_model_version(
        model=model,
        run_id=None,
        source="model",
        digest="0" * 64,
        flavor="sklearn",
        format="skops",
        executes_code=False,
        signature=None,
        files=[ModelFile("model.skops", "1" * 64, 10)],
        description="",
        tags={},
        created_by="ana",
        created_at=NOW,
        event=_event(model, "version_created"),
    )
    request = store.create_transition_request(
        model=model,
        version=1,
        kind="stage",
        target="production",
        requested_by="ana",
        comment="",
        required_approvals=required,
        gates=[],
        created_at=NOW,
        event=_event(model, "transition_requested"),
    )
    return model, request


def _decide(
    store: SqlStore, model: str, request_id: int, user: str, approve: bool = True
) -> TransitionRequest:
    decision = Decision(user, approve, "", NOW + 1)
    event = _event(model, "transition_approved" if approve else "transition_rejected", user)
    return store.decide_transition_request(
        request_id, lambda locked: decision_outcome(locked, decision, event, None), archive_previous=True
    )


def test_the_rule_sees_the_locked_request_and_its_outcome_is_applied(store: SqlStore, project: str) -> None:
    model, request = _request(store, project)
    seen: list[TransitionRequest] = []

    def rule(locked: TransitionRequest) -> RequestOutcome:
        seen.append(locked)
        decision = Decision("bob", True, "ok", NOW + 1)
        head = replace(_event(model, "transition_approved", "bob"), version=locked.version)
        effect = replace(head, action="stage_changed", details={"to": "production"})
        return RequestOutcome(decision, RequestStatus.APPROVED, (head,), apply=True, effect=effect)

    decided = store.decide_transition_request(request.id, rule, archive_previous=True)
    assert [r.status for r in seen] == [RequestStatus.PENDING] and seen[0].decisions == ()
    assert decided.status == RequestStatus.APPROVED and [d.user for d in decided.decisions] == ["bob"]
    assert store.get_model_version(model, 1).stage == Stage.PRODUCTION
    actions = [e.action for e in store.query_registry_events(model=model)]
    assert "transition_approved" in actions and "stage_changed" in actions


def test_a_rule_that_refuses_changes_nothing(store: SqlStore, project: str) -> None:
    model, request = _request(store, project)

    def refuse(locked: TransitionRequest) -> RequestOutcome:
        raise ConflictError("no")

    with pytest.raises(ConflictError):
        store.decide_transition_request(request.id, refuse, archive_previous=True)
    after = store.get_transition_request(request.id)
    assert after.status == RequestStatus.PENDING and after.decisions == ()
    assert store.get_model_version(model, 1).stage == Stage.NONE


def test_a_quorum_of_two_needs_two_users_and_a_closed_request_stays_closed(
    store: SqlStore, project: str
) -> None:
    model, request = _request(store, project, required=2)
    first = _decide(store, model, request.id, "bob")
    assert first.status == RequestStatus.PENDING and first.approvals == 1
    with pytest.raises(ConflictError, match="already decided"):
        _decide(store, model, request.id, "bob")
    second = _decide(store, model, request.id, "carol")
    assert second.status == RequestStatus.APPROVED and second.approvals == 2
    assert store.get_model_version(model, 1).stage == Stage.PRODUCTION
    with pytest.raises(ConflictError, match="approved already"):
        _decide(store, model, request.id, "dave", approve=False)


def test_concurrent_deciders_are_serialized_by_the_lock(db_url: str, project: str) -> None:
    from mltrail.store.factory import open_store

    stores = [open_store(db_url) for _ in range(4)]
    try:
        model, request = _request(stores[0], project, required=1)
        outcomes: list[str] = []
        barrier = threading.Barrier(len(stores))

        def approve(store: SqlStore, user: str) -> None:
            barrier.wait()
            try:
                _decide(store, model, request.id, user)
                outcomes.append("approved")
            except ConflictError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=approve, args=(s, f"user{i}")) for i, s in enumerate(stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["approved", "conflict", "conflict", "conflict"]
        assert len(stores[0].get_transition_request(request.id).decisions) == 1
    finally:
        for store in stores:
            store.close()
