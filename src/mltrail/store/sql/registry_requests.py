"""Transition requests into protected stages and aliases, and the decisions that close them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import (
    Decision,
    GateResult,
    RegistryEvent,
    RequestStatus,
    Stage,
    TransitionRequest,
)
from mltrail.errors import ConflictError, InvalidInputError, NotFoundError
from mltrail.store.registry import RequestOutcome
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import reads, writes
from mltrail.store.sql.registry_models import RegistryModelsMixin, with_changes

__all__ = ["RegistryRequestsMixin"]

_R = t.transition_requests.c
_D = t.transition_decisions.c


def _gates(text: str) -> tuple[GateResult, ...]:
    return tuple(GateResult(gate, bool(passed), detail) for gate, passed, detail in load_json(text) or [])


def _dump_gates(gates: Sequence[GateResult]) -> str:
    return dump_json([[g.gate, g.passed, g.detail] for g in gates])


class RegistryRequestsMixin(RegistryModelsMixin):
    _REQUEST_COLUMNS = (t.transition_requests, t.registered_models.c.name.label("model_name"))

    def _load_requests(self, conn: Connection, rows: Sequence[Any]) -> list[TransitionRequest]:
        ids = [int(r.id) for r in rows]
        decisions: dict[int, list[Decision]] = {i: [] for i in ids}
        if ids:
            for d in conn.execute(
                sa.select(t.transition_decisions).where(_D.request_id.in_(ids)).order_by(_D.id)
            ):
                decisions[int(d.request_id)].append(
                    Decision(d.user, bool(d.approve), d.comment, float(d.time))
                )
        return [
            TransitionRequest(
                id=int(r.id),
                model=r.model_name,
                version=int(r.version),
                kind=r.kind,
                target=r.target,
                status=RequestStatus(r.status),
                requested_by=r.requested_by,
                comment=r.comment,
                created_at=float(r.created_at),
                required_approvals=int(r.required_approvals),
                gates=_gates(r.gates),
                decisions=tuple(decisions[int(r.id)]),
                decided_at=None if r.decided_at is None else float(r.decided_at),
            )
            for r in rows
        ]

    def _request_row(self, conn: Connection, request_id: int, *, lock: bool = False) -> Any:
        query = (
            sa.select(*self._REQUEST_COLUMNS)
            .select_from(t.transition_requests.join(t.registered_models))
            .where(_R.id == request_id)
        )
        if lock:
            query = query.with_for_update(of=t.transition_requests)
        row = conn.execute(query).one_or_none()
        if row is None:
            raise NotFoundError(f"no transition request {request_id}")
        return row

    def _load_request(self, conn: Connection, request_id: int) -> TransitionRequest:
        return self._load_requests(conn, [self._request_row(conn, request_id)])[0]

    @writes
    def create_transition_request(
        self,
        conn: Connection,
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
        if kind not in ("stage", "alias"):
            raise InvalidInputError(f"kind must be 'stage' or 'alias', got {kind!r}", field="kind")
        row = self._model_row(conn, model, lock=True)
        self._load_version(conn, row.id, model, version)  # NotFoundError for a missing version
        pending = conn.execute(
            sa.select(_R.id).where(
                _R.model_id == row.id,
                _R.version == version,
                _R.kind == kind,
                _R.target == target,
                _R.status == RequestStatus.PENDING.value,
            )
        ).scalar_one_or_none()
        if pending is not None:
            raise ConflictError(f"request {pending} for {model}:{version} → {target} is already pending")
        request_id = int(
            conn.execute(
                t.transition_requests.insert()
                .values(
                    model_id=row.id,
                    version=version,
                    kind=kind,
                    target=target,
                    status=RequestStatus.PENDING.value,
                    requested_by=requested_by,
                    comment=comment,
                    required_approvals=required_approvals,
                    gates=_dump_gates(gates),
                    created_at=created_at,
                )
                .returning(_R.id)
            ).scalar_one()
        )
        details = {
            **event.details,
            "request": request_id,
            "kind": kind,
            "target": target,
            "comment": comment,
            "gates": [{"gate": g.gate, "passed": g.passed, "detail": g.detail} for g in gates],
        }
        self._append_events(conn, [with_changes(event, version=version, details=details)])
        return self._load_request(conn, request_id)

    @reads
    def get_transition_request(self, conn: Connection, request_id: int) -> TransitionRequest:
        return self._load_request(conn, request_id)

    @reads
    def list_transition_requests(
        self,
        conn: Connection,
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
        if limit < 0 or offset < 0:
            raise InvalidInputError("limit and offset must be ≥ 0", field="limit" if limit < 0 else "offset")
        if status is not None and status not in {s.value for s in RequestStatus}:
            raise InvalidInputError(f"unknown status {status!r}", field="status")
        joined = t.transition_requests.join(t.registered_models).join(t.projects)
        where = []
        if model is not None:
            where.append(t.registered_models.c.name == model)
        if status is not None:
            where.append(_R.status == status)
        if projects is not None:
            where.append(t.projects.c.name.in_(list(projects)))
        if models is not None:
            where.append(t.registered_models.c.name.in_(list(models)))
        if requested_by is not None:
            where.append(_R.requested_by == requested_by)
        if not_requested_by is not None:
            where.append(sa.or_(_R.requested_by.is_(None), _R.requested_by != not_requested_by))
        total = int(conn.execute(sa.select(sa.func.count()).select_from(joined).where(*where)).scalar_one())
        rows = conn.execute(
            sa.select(*self._REQUEST_COLUMNS)
            .select_from(joined)
            .where(*where)
            .order_by(_R.created_at.desc(), _R.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
        return self._load_requests(conn, rows), total

    @writes
    def decide_transition_request(
        self,
        conn: Connection,
        request_id: int,
        decide: Callable[[TransitionRequest], RequestOutcome],
        *,
        archive_previous: bool,
    ) -> TransitionRequest:
        row = self._request_row(conn, request_id, lock=True)
        outcome = decide(self._load_requests(conn, [row])[0])
        decision = outcome.decision
        conn.execute(
            t.transition_decisions.insert().values(
                request_id=request_id,
                user=decision.user,
                approve=decision.approve,
                comment=decision.comment,
                time=decision.time,
            )
        )
        values: dict[str, Any] = {}
        if outcome.gates is not None:
            values["gates"] = _dump_gates(outcome.gates)
        if outcome.status != RequestStatus.PENDING:
            values.update(status=outcome.status.value, decided_at=decision.time)
        caused: list[RegistryEvent] = []
        if outcome.apply:
            if outcome.effect is None:
                raise ValueError("an applied outcome needs its effect event")
            if row.kind == "stage":
                caused = self._apply_stage(
                    conn,
                    row.model_id,
                    row.model_name,
                    int(row.version),
                    Stage(row.target),
                    archive_previous=archive_previous,
                    event=outcome.effect,
                )
            else:
                caused = [
                    self._apply_alias(
                        conn, row.model_id, row.model_name, row.target, int(row.version), outcome.effect
                    )
                ]
        if values:
            conn.execute(t.transition_requests.update().where(_R.id == request_id).values(**values))
        self._append_events(conn, [*outcome.events, *caused])
        return self._load_request(conn, request_id)

    @writes
    def cancel_transition_request(
        self, conn: Connection, request_id: int, *, event: RegistryEvent
    ) -> TransitionRequest:
        row = self._request_row(conn, request_id, lock=True)
        if row.status != RequestStatus.PENDING.value:
            raise ConflictError(f"request {request_id} is {row.status} already; it cannot be cancelled")
        conn.execute(
            t.transition_requests.update()
            .where(_R.id == request_id)
            .values(status=RequestStatus.CANCELLED.value, decided_at=event.time)
        )
        details = {**event.details, "request": request_id, "target": row.target}
        self._append_events(conn, [with_changes(event, version=int(row.version), details=details)])
        return self._load_request(conn, request_id)
