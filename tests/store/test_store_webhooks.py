"""The store's webhooks: subscriptions, the delivery outbox, leases, attempts and the delivery log.

Runs on SQLite and PostgreSQL. The PostgreSQL database is shared by the session, so claims use a large
limit and look only at this test's deliveries; every webhook made here points at a closed local port and
is deleted afterwards, so nothing left queued can reach anything.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

from mltrail.entities import ApprovalPolicy, DeliveryAttempt, RegistryEvent
from mltrail.errors import NotFoundError
from mltrail.store.registry import ClaimedDelivery
from mltrail.store.sql import SqlStore

URL = "http://127.0.0.1:9/hook"  # the discard port: nothing listens there
BIG = 100_000


class Hooks:
    """Creates webhooks for one test and deletes them when it ends."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.ids: list[int] = []

    def create(self, events: tuple[str, ...] = ("version_created",), model: str | None = None) -> int:
        hook = self.store.create_webhook(
            url=URL, secret="whsec_test", events=events, model=model, created_by="ana", created_at=10.0
        )
        self.ids.append(hook.id)
        return hook.id


@pytest.fixture
def hooks(store: SqlStore) -> Iterator[Hooks]:
    made = Hooks(store)
    yield made
    for hook_id in made.ids:
        store.delete_webhook(hook_id)


def _model(store: SqlStore, project: str) -> str:
    name = f"m-{uuid.uuid4().hex[:10]}"
    store.create_registered_model(
        name=name,
        project=project,
        description="",
        owner="ana",
        tags={},
        policy=ApprovalPolicy(),
        card={},
        created_at=1.0,
        event=RegistryEvent(time=1.0, model=name, action="model_created", user="ana"),
    )
    return name


def _event(store: SqlStore, model: str, time: float = 100.0, action: str = "version_created") -> int:
    return store.append_registry_event(
        RegistryEvent(time=time, model=model, action=action, user="ana", version=1, details={"k": [1, 2]})
    )


def _mine(claimed: list[ClaimedDelivery], hook_ids: list[int]) -> list[ClaimedDelivery]:
    return [c for c in claimed if c.webhook_id in hook_ids]


def test_webhooks_are_created_listed_read_and_deleted(store: SqlStore, project: str) -> None:
    model = _model(store, project)
    other = _model(store, project)
    everywhere = store.create_webhook(
        url=URL, secret="whsec_a", events=["version_created"], model=None, created_by="ana", created_at=5.0
    )
    mine = store.create_webhook(
        url=URL + "2",
        secret="whsec_b",
        events=["alias_moved", "stage_changed"],
        model=model,
        created_by=None,
        created_at=6.0,
    )
    theirs = store.create_webhook(
        url=URL, secret="whsec_c", events=["alias_moved"], model=other, created_by=None, created_at=7.0
    )
    try:
        assert (mine.url, mine.events, mine.model, mine.created_by, mine.created_at, mine.active) == (
            URL + "2",
            ("alias_moved", "stage_changed"),
            model,
            None,
            6.0,
            True,
        )
        assert store.get_webhook(mine.id) == mine
        assert not hasattr(mine, "secret")
        of_model = [w.id for w in store.list_webhooks(model=model)]
        assert everywhere.id in of_model and mine.id in of_model and theirs.id not in of_model
        every = [w.id for w in store.list_webhooks()]
        assert {everywhere.id, mine.id, theirs.id} <= set(every) and every == sorted(every)

        store.delete_webhook(mine.id)
        assert store.get_webhook(mine.id).active is False  # still readable, for its log
        assert mine.id not in [w.id for w in store.list_webhooks()]
        store.delete_webhook(mine.id)  # deleting again changes nothing
        with pytest.raises(NotFoundError, match="no webhook"):
            store.get_webhook(BIG * 10)
        with pytest.raises(NotFoundError, match="no webhook"):
            store.delete_webhook(BIG * 10)
        with pytest.raises(NotFoundError, match="no webhook"):
            store.list_deliveries(BIG * 10)
    finally:
        store.delete_webhook(everywhere.id)
        store.delete_webhook(theirs.id)


def test_events_queue_deliveries_for_subscribed_webhooks_only(
    store: SqlStore, project: str, hooks: Hooks
) -> None:
    model, other = _model(store, project), _model(store, project)
    of_model = hooks.create(("version_created",), model=model)
    of_other = hooks.create(("version_created",), model=other)
    aliases_only = hooks.create(("alias_moved",), model=model)
    event_id = _event(store, model, time=100.0)
    [delivery] = store.list_deliveries(of_model)
    assert store.list_deliveries(of_other) == [] and store.list_deliveries(aliases_only) == []
    assert (delivery.webhook_id, delivery.event_id, delivery.action, delivery.status) == (
        of_model,
        event_id,
        "version_created",
        "pending",
    )
    assert (delivery.attempts, delivery.next_attempt_at, delivery.created_at, delivery.log) == (
        0,
        100.0,
        100.0,
        (),
    )
    assert delivery.payload == {
        "id": event_id,
        "action": "version_created",
        "time": 100.0,
        "model": model,
        "version": 1,
        "project": project,
        "user": "ana",
        "details": {"k": [1, 2]},
    }


def test_a_claim_leases_due_deliveries_until_the_lease_runs_out(
    store: SqlStore, project: str, hooks: Hooks
) -> None:
    model = _model(store, project)
    hook = hooks.create(model=model)
    first, second = _event(store, model, time=100.0), _event(store, model, time=200.0)

    assert _mine(store.claim_deliveries(now=50.0, lease_seconds=30, limit=BIG), [hook]) == []  # not due yet
    [claimed] = _mine(store.claim_deliveries(now=150.0, lease_seconds=30, limit=BIG), [hook])
    assert (claimed.url, claimed.secret, claimed.attempt, claimed.payload["id"]) == (
        URL,
        "whsec_test",
        1,
        first,
    )
    # A second dispatcher right after gets nothing: the row is leased.
    assert _mine(store.claim_deliveries(now=151.0, lease_seconds=30, limit=BIG), [hook]) == []
    # Both are due at 250, oldest first; the first one's lease (until 180) has run out unrecorded.
    again = _mine(store.claim_deliveries(now=250.0, lease_seconds=30, limit=BIG), [hook])
    assert [(c.payload["id"], c.attempt) for c in again] == [(first, 1), (second, 1)]
    leased = {d.id: d.next_attempt_at for d in store.list_deliveries(hook)}
    assert set(leased.values()) == {280.0}


def test_a_claim_takes_at_most_limit_rows(store: SqlStore, project: str, hooks: Hooks) -> None:
    model = _model(store, project)
    hook = hooks.create(model=model)
    for i in range(3):
        _event(store, model, time=float(i))
    # Other tests' leftovers may be due too (shared database), so count this test's across both claims.
    first = store.claim_deliveries(now=10.0, lease_seconds=30, limit=2)
    assert len(first) == 2
    rest = store.claim_deliveries(now=10.0, lease_seconds=30, limit=BIG)
    assert len(_mine(first, [hook])) + len(_mine(rest, [hook])) == 3


def test_attempts_move_a_delivery_to_delivered_or_failed(store: SqlStore, project: str, hooks: Hooks) -> None:
    model = _model(store, project)
    hook = hooks.create(model=model)
    ok_event, bad_event = _event(store, model, time=100.0), _event(store, model, time=100.0)
    claimed = {
        c.payload["id"]: c
        for c in _mine(store.claim_deliveries(now=100.0, lease_seconds=30, limit=BIG), [hook])
    }
    ok, bad = claimed[ok_event], claimed[bad_event]

    for c in (ok, bad):  # both fail once and are retried at 110
        store.record_delivery_attempt(
            c.delivery_id,
            attempt=1,
            time=100.0,
            status_code=500,
            error=None,
            duration_ms=12.5,
            next_attempt_at=110.0,
            delivered=False,
        )
    by_id = {d.id: d for d in store.list_deliveries(hook)}
    assert (by_id[ok.delivery_id].status, by_id[ok.delivery_id].attempts) == ("pending", 1)
    assert by_id[ok.delivery_id].next_attempt_at == 110.0
    assert _mine(store.claim_deliveries(now=105.0, lease_seconds=30, limit=BIG), [hook]) == []
    retried = _mine(store.claim_deliveries(now=110.0, lease_seconds=30, limit=BIG), [hook])
    assert sorted(c.attempt for c in retried) == [2, 2]

    store.record_delivery_attempt(
        ok.delivery_id,
        attempt=2,
        time=110.0,
        status_code=204,
        error=None,
        duration_ms=3.0,
        next_attempt_at=None,
        delivered=True,
    )
    store.record_delivery_attempt(
        bad.delivery_id,
        attempt=2,
        time=110.0,
        status_code=None,
        error="ReadTimeout: timed out",
        duration_ms=5000.0,
        next_attempt_at=None,
        delivered=False,
    )
    # A late report of an attempt someone else already recorded (a lease that ran out) changes nothing.
    store.record_delivery_attempt(
        ok.delivery_id,
        attempt=2,
        time=111.0,
        status_code=500,
        error=None,
        duration_ms=1.0,
        next_attempt_at=200.0,
        delivered=False,
    )
    by_id = {d.id: d for d in store.list_deliveries(hook)}
    done, failed = by_id[ok.delivery_id], by_id[bad.delivery_id]
    assert (done.status, done.attempts, done.next_attempt_at) == ("delivered", 2, None)
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 2, None)
    assert done.log == (
        DeliveryAttempt(attempt=1, time=100.0, status_code=500, error=None, duration_ms=12.5),
        DeliveryAttempt(attempt=2, time=110.0, status_code=204, error=None, duration_ms=3.0),
    )
    assert failed.log[-1] == DeliveryAttempt(
        attempt=2, time=110.0, status_code=None, error="ReadTimeout: timed out", duration_ms=5000.0
    )
    assert _mine(store.claim_deliveries(now=BIG, lease_seconds=30, limit=BIG), [hook]) == []
    with pytest.raises(NotFoundError, match="no webhook delivery"):
        store.record_delivery_attempt(
            BIG * 10,
            attempt=1,
            time=1.0,
            status_code=200,
            error=None,
            duration_ms=1.0,
            next_attempt_at=None,
            delivered=True,
        )


def test_deliveries_are_listed_newest_first_up_to_limit(store: SqlStore, project: str, hooks: Hooks) -> None:
    model = _model(store, project)
    hook = hooks.create(model=model)
    events = [_event(store, model, time=float(100 + i)) for i in range(4)]
    listed = store.list_deliveries(hook)
    assert [d.event_id for d in listed] == events[::-1]
    assert [d.event_id for d in store.list_deliveries(hook, limit=2)] == events[:1:-1]


def test_deleting_a_webhook_stops_its_deliveries(store: SqlStore, project: str, hooks: Hooks) -> None:
    model = _model(store, project)
    hook = hooks.create(model=model)
    _event(store, model, time=100.0)
    store.delete_webhook(hook)
    [dropped] = store.list_deliveries(hook)
    assert (dropped.status, dropped.attempts, dropped.next_attempt_at) == ("failed", 0, None)
    _event(store, model, time=101.0)
    assert len(store.list_deliveries(hook)) == 1  # no new deliveries
    assert _mine(store.claim_deliveries(now=BIG, lease_seconds=30, limit=BIG), [hook]) == []


def test_concurrent_claims_never_share_a_delivery(store: SqlStore, project: str, hooks: Hooks) -> None:
    model = _model(store, project)
    hook = hooks.create(model=model)
    for i in range(30):
        _event(store, model, time=float(i))
    taken: list[list[int]] = [[], [], []]
    barrier = threading.Barrier(len(taken))

    def claim(into: list[int]) -> None:
        barrier.wait()
        while batch := store.claim_deliveries(now=1000.0, lease_seconds=600, limit=4):
            into.extend(c.delivery_id for c in batch if c.webhook_id == hook)

    threads = [threading.Thread(target=claim, args=(into,)) for into in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    every = [d for into in taken for d in into]
    assert len(every) == len(set(every)) == 30
