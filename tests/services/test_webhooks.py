"""Webhooks end to end: subscriptions, then signed deliveries to a real HTTP receiver on 127.0.0.1.

The receiver is a stdlib ``ThreadingHTTPServer`` on port 0 that records every request and can answer 500
first or sleep past the sender's timeout. Each test has its own SQLite store: a shared database could hold
other tests' queued deliveries, which a dispatcher would send to wherever they point.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from mltrail.entities import WEBHOOK_EVENTS, ApprovalPolicy, RegistryEvent, WebhookDelivery
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.notify import HttpPoster, verify_signature
from mltrail.services.registry.webhooks import PostOutcome, WebhookDispatcher, WebhookService
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

MODEL = "churn"
FAST = {"backoff": (0.05,), "lease_seconds": 30.0, "poll_interval": 0.05}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the test HTTP server got, and how it answers: ``fail_first`` 500s, then ``status``, each after
    ``delay`` seconds (cut short when the test ends)."""

    url: str = ""
    fail_first: int = 0
    status: int = 200
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closing: threading.Event = field(default_factory=threading.Event)

    def delivery_ids(self) -> list[str]:
        with self.lock:
            return [r.headers["X-Mltrail-Delivery"] for r in self.requests]

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"only {len(self.requests)} of {count} requests arrived"
            time.sleep(0.01)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body))
                failing = len(state.requests) <= state.fail_first
            if state.delay:
                state.closing.wait(state.delay)
            try:
                self.send_response(500 if failing else state.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the sender gave up waiting and closed the connection
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    state.closing.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    opened.create_registered_model(
        name=MODEL,
        project="p",
        description="",
        owner="ana",
        tags={},
        policy=ApprovalPolicy(),
        card={},
        created_at=1.0,
        event=RegistryEvent(time=1.0, model=MODEL, action="model_created", user="ana"),
    )
    yield opened
    opened.close()


@pytest.fixture
def poster() -> Iterator[HttpPoster]:
    # No proxy from the environment: every request of these tests must go straight to 127.0.0.1.
    with HttpPoster(trust_env=False) as made:
        yield made


def _event(store: SqlStore, action: str = "version_created", version: int = 1) -> int:
    return store.append_registry_event(
        RegistryEvent(
            time=time.time(), model=MODEL, action=action, user="ana", version=version, details={"a": 1}
        )
    )


def _drain(
    dispatcher: WebhookDispatcher, store: SqlStore, hook_id: int, timeout: float = 10.0
) -> WebhookDelivery:
    """Run passes until the webhook's only delivery is delivered or failed."""
    deadline = time.monotonic() + timeout
    while True:
        dispatcher.deliver_due()
        [delivery] = store.list_deliveries(hook_id)
        if delivery.status != "pending":
            return delivery
        assert time.monotonic() < deadline, f"still pending: {delivery}"
        time.sleep(0.02)


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- subscriptions ----------------------------------------------------------------------------------------
def test_a_webhook_is_created_with_a_secret_shown_once(store: SqlStore) -> None:
    service = WebhookService(store, clock=lambda: 42.0)
    hook, secret = service.create(
        "https://hooks.example.com/x", ["alias_moved"], model=MODEL, created_by="ana"
    )
    assert secret.startswith("whsec_") and len(secret) > 40
    assert (hook.url, hook.events, hook.model, hook.created_by, hook.created_at) == (
        "https://hooks.example.com/x",
        ("alias_moved",),
        MODEL,
        "ana",
        42.0,
    )
    assert secret not in repr(hook) and secret not in repr(service.get(hook.id))
    everything, other_secret = service.create("http://127.0.0.1:1/", [])
    assert everything.events == WEBHOOK_EVENTS and other_secret != secret
    assert [h.id for h in service.list(model=MODEL)] == [hook.id, everything.id]
    service.delete(hook.id)
    assert [h.id for h in service.list()] == [everything.id]
    assert service.deliveries(hook.id) == []
    with pytest.raises(NotFoundError):
        service.create("https://hooks.example.com/x", [], model="no-such-model")
    with pytest.raises(NotFoundError):
        service.delete(12345)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://example.com/x",
        "http://",
        "https:///path",
        "example.com/x",
        "http://a b.com/",
        "http://h:99999/",
        "https://example.com/" + "x" * 2100,
    ],
)
def test_a_bad_url_is_refused(store: SqlStore, url: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        WebhookService(store).create(url, [])
    assert caught.value.field == "url"


def test_unknown_events_and_a_bad_limit_are_refused(store: SqlStore) -> None:
    service = WebhookService(store)
    with pytest.raises(InvalidInputError, match="model_created") as caught:
        service.create("https://example.com/x", ["version_created", "model_created"])
    assert caught.value.field == "events"
    with pytest.raises(InvalidInputError) as caught:
        service.create("https://example.com/x", "version_created")
    assert caught.value.field == "events"
    hook, _ = service.create("https://example.com/x", ["version_created"])
    with pytest.raises(InvalidInputError):
        service.deliveries(hook.id, limit=0)


def test_the_dispatcher_refuses_a_lease_shorter_than_a_send(store: SqlStore, poster: HttpPoster) -> None:
    with pytest.raises(ValueError, match="lease_seconds"):
        WebhookDispatcher(store, poster, timeout=10.0, lease_seconds=5.0)
    with pytest.raises(ValueError, match="backoff"):
        WebhookDispatcher(store, poster, backoff=())


# -- deliveries --------------------------------------------------------------------------------------------
def test_a_delivery_is_signed_and_carries_the_stored_payload(
    store: SqlStore, poster: HttpPoster, receiver: Receiver
) -> None:
    hook, secret = WebhookService(store).create(receiver.url, ["version_created"])
    event_id = _event(store)
    assert WebhookDispatcher(store, poster, **FAST).deliver_due() == 1
    [request] = receiver.requests
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT id, payload FROM webhook_deliveries")).one()
    assert request.body == stored.payload.encode()  # the bytes stored, signed and sent are the same
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "mltrail-webhooks"
    assert headers["X-Mltrail-Event"] == "version_created"
    assert headers["X-Mltrail-Delivery"] == str(stored.id)
    payload = orjson.loads(request.body)
    assert payload["id"] == event_id and payload["action"] == "version_created" and payload["model"] == MODEL

    signature = headers["X-Mltrail-Signature"]
    assert verify_signature(secret, signature, request.body)
    assert not verify_signature(secret, signature, request.body.replace(b'"a":1', b'"a":2'))
    assert not verify_signature(secret + "x", signature, request.body)
    sent_at = int(signature.split(",")[0].removeprefix("t="))
    assert abs(sent_at - time.time()) < 60
    assert not verify_signature(secret, signature, request.body, now=sent_at + 301)
    assert verify_signature(secret, signature, request.body, now=sent_at + 299)
    [delivery] = store.list_deliveries(hook.id)
    assert (delivery.status, delivery.attempts, [a.status_code for a in delivery.log]) == (
        "delivered",
        1,
        [200],
    )


def test_a_500_is_retried_and_both_attempts_are_logged(
    store: SqlStore, poster: HttpPoster, receiver: Receiver
) -> None:
    receiver.fail_first = 1
    hook, _ = WebhookService(store).create(receiver.url, [])
    _event(store)
    delivery = _drain(WebhookDispatcher(store, poster, **FAST), store, hook.id)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert [(a.attempt, a.status_code, a.error) for a in delivery.log] == [(1, 500, None), (2, 200, None)]
    assert delivery.log[1].time >= delivery.log[0].time + 0.02  # waited for the (jittered) backoff
    assert len(set(receiver.delivery_ids())) == 1 and len(receiver.requests) == 2


def test_a_receiver_that_times_out_is_retried_then_failed(
    store: SqlStore, poster: HttpPoster, receiver: Receiver
) -> None:
    receiver.delay = 1.0
    hook, _ = WebhookService(store).create(receiver.url, [])
    _event(store)
    dispatcher = WebhookDispatcher(store, poster, timeout=0.2, max_attempts=3, **FAST)
    delivery = _drain(dispatcher, store, hook.id)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert [a.attempt for a in delivery.log] == [1, 2, 3]
    for attempt in delivery.log:
        assert attempt.status_code is None
        assert attempt.error is not None and "Timeout" in attempt.error
        assert 150 <= attempt.duration_ms < 900
    assert len(receiver.requests) == 3


def test_an_unreachable_receiver_is_logged(store: SqlStore, poster: HttpPoster) -> None:
    hook, _ = WebhookService(store).create(f"http://127.0.0.1:{_unused_port()}/hook", [])
    _event(store)
    delivery = _drain(WebhookDispatcher(store, poster, timeout=1.0, max_attempts=2, **FAST), store, hook.id)
    assert (delivery.status, len(delivery.log)) == ("failed", 2)
    assert all(a.status_code is None and a.error and "Connect" in a.error for a in delivery.log)


def test_wake_delivers_on_the_thread_while_the_caller_returns_at_once(
    store: SqlStore, poster: HttpPoster, receiver: Receiver
) -> None:
    receiver.delay = 2.0
    hook, _ = WebhookService(store).create(receiver.url, [])
    # A poll interval far beyond the test: only wake() can make this delivery start in time.
    dispatcher = WebhookDispatcher(store, poster, timeout=5.0, lease_seconds=30.0, poll_interval=60.0)
    dispatcher.start()
    try:
        time.sleep(0.1)  # the thread has made its first (empty) pass and waits
        started = time.monotonic()
        _event(store)
        dispatcher.wake()
        returned_after = time.monotonic() - started
        receiver.wait_for(1, timeout=3.0)
        assert returned_after < 1.0  # the receiver takes 2 s; the caller did not wait for it
        deadline = time.monotonic() + 5.0
        while store.list_deliveries(hook.id)[0].status != "delivered":
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        assert dispatcher.stop(timeout=10.0)
    assert not dispatcher.running


def test_two_dispatchers_never_send_one_attempt_twice(
    store: SqlStore, poster: HttpPoster, receiver: Receiver
) -> None:
    receiver.delay = 0.02  # long enough that the two passes overlap
    hook, _ = WebhookService(store).create(receiver.url, [])
    for version in range(24):
        _event(store, version=version)
    dispatchers = [WebhookDispatcher(store, poster, batch_size=3, **FAST) for _ in range(2)]
    barrier = threading.Barrier(2)
    counts = [0, 0]

    def run(index: int) -> None:
        barrier.wait()
        while sent := dispatchers[index].deliver_due():
            counts[index] += sent

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    ids = receiver.delivery_ids()
    assert len(ids) == len(set(ids)) == 24
    assert sum(counts) == 24 and min(counts) > 0  # both took part
    assert {d.status for d in store.list_deliveries(hook.id)} == {"delivered"}


class _FlakyPoster:
    """Raises on its first call (breaking the Poster contract), then posts for real."""

    def __init__(self, inner: HttpPoster) -> None:
        self.inner = inner
        self.calls = 0

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> PostOutcome:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("boom")
        return self.inner.post(url, body, headers, timeout)


def test_a_raising_poster_is_logged_and_retried_and_the_thread_lives_on(
    store: SqlStore, poster: HttpPoster, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    hook, _ = WebhookService(store).create(receiver.url, [])
    flaky = _FlakyPoster(poster)
    dispatcher = WebhookDispatcher(store, flaky, **FAST)
    with caplog.at_level(logging.ERROR, logger="mltrail.services.registry.webhooks"):
        dispatcher.start()
        try:
            _event(store)
            dispatcher.wake()
            deadline = time.monotonic() + 5.0
            while store.list_deliveries(hook.id)[0].status != "delivered":
                assert time.monotonic() < deadline
                time.sleep(0.02)
            assert dispatcher.running
        finally:
            assert dispatcher.stop(timeout=5.0)
    [delivery] = store.list_deliveries(hook.id)
    assert [(a.status_code, a.error) for a in delivery.log] == [(None, "RuntimeError: boom"), (200, None)]
    assert "boom" in caplog.text


def test_a_pass_with_nothing_due_sends_nothing(
    store: SqlStore, poster: HttpPoster, receiver: Receiver
) -> None:
    WebhookService(store).create(receiver.url, ["alias_moved"])
    _event(store, action="version_created")  # not subscribed
    assert WebhookDispatcher(store, poster, **FAST).deliver_due() == 0
    assert receiver.requests == []
