"""Webhook subscriptions (``WebhookService``) and their delivery with retries (``WebhookDispatcher``).

The store queues one pending delivery per event and subscribed webhook in the event's own transaction; the
dispatcher leases due deliveries, POSTs them through an injected ``Poster`` (``mltrail.notify.HttpPoster``
in the server), and records every attempt. The request that caused an event only appends it and calls
``wake()``: sending happens on the dispatcher's thread.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import logging
import math
import random
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol
from urllib.parse import urlsplit

from mltrail.entities import WEBHOOK_EVENTS, Webhook, WebhookDelivery
from mltrail.errors import InvalidInputError
from mltrail.store.registry import ClaimedDelivery, RegistryStore

__all__ = [
    "DEFAULT_BACKOFF",
    "MAX_URL_LENGTH",
    "SECRET_PREFIX",
    "PostOutcome",
    "Poster",
    "WebhookDispatcher",
    "WebhookService",
]

log = logging.getLogger(__name__)

MAX_URL_LENGTH = 2048
MAX_DELIVERY_PAGE = 1000
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix that marks secrets, not one
DEFAULT_BACKOFF = (1.0, 5.0, 30.0, 120.0, 600.0)
USER_AGENT = "mltrail-webhooks"


class PostOutcome(Protocol):
    """What a ``Poster`` reports: a status code, or the error (timeout, refused connection) instead."""

    @property
    def status_code(self) -> int | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def duration_ms(self) -> float: ...


class Poster(Protocol):
    """Sends one POST and reports how it went; it must not raise (``mltrail.notify.HttpPoster`` is one)."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> PostOutcome: ...


def _signature(secret: str, timestamp: int, body: bytes) -> str:
    # The same scheme as mltrail.notify.sign (which receivers use to verify); services may not import notify.
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _validate_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise InvalidInputError("the webhook URL is empty", field="url")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInputError(f"the webhook URL is longer than {MAX_URL_LENGTH} characters", field="url")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise InvalidInputError("the webhook URL contains whitespace or control characters", field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port raises ValueError for a malformed one
    except ValueError as exc:
        raise InvalidInputError(f"the webhook URL does not parse: {exc}", field="url") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInputError("the webhook URL must start with http:// or https://", field="url")
    if not parts.hostname:
        raise InvalidInputError("the webhook URL has no host", field="url")
    return url


def _validate_events(events: Sequence[str]) -> tuple[str, ...]:
    if isinstance(events, str):
        raise InvalidInputError("events must be a list of event names", field="events")
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    if unknown:
        raise InvalidInputError(
            f"unknown webhook events {unknown}; known: {', '.join(WEBHOOK_EVENTS)}", field="events"
        )
    chosen = set(events) or set(WEBHOOK_EVENTS)
    return tuple(e for e in WEBHOOK_EVENTS if e in chosen)


class WebhookService:
    """Creating, listing and deleting subscriptions, and reading their delivery log."""

    def __init__(
        self,
        store: RegistryStore,
        clock: Callable[[], float] = time.time,
        *,
        check_destination: Callable[[str], object] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        # A team server's destination policy (no private, loopback or link-local targets): injected.
        self._check_destination = check_destination

    def create(
        self, url: str, events: Sequence[str], model: str | None = None, created_by: str | None = None
    ) -> tuple[Webhook, str]:
        """A new webhook and its signing secret, which is returned this once and never again. No ``events``
        means all of ``WEBHOOK_EVENTS``; a ``model`` must exist (NotFoundError)."""
        url = _validate_url(url)
        if self._check_destination is not None:
            self._check_destination(url)
        chosen = _validate_events(events)
        if model is not None:
            self._store.get_registered_model(model)
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        webhook = self._store.create_webhook(
            url=url,
            secret=secret,
            events=chosen,
            model=model,
            created_by=created_by,
            created_at=self._clock(),
        )
        return webhook, secret

    def list(self, model: str | None = None) -> list[Webhook]:
        """Active webhooks (of ``model`` and those for every model, when given)."""
        return self._store.list_webhooks(model=model)

    def get(self, webhook_id: int) -> Webhook:
        return self._store.get_webhook(webhook_id)

    def delete(self, webhook_id: int) -> None:
        """Deactivate it; what it still had queued is dropped, its delivery log kept."""
        self._store.delete_webhook(webhook_id)

    def deliveries(self, webhook_id: int, limit: int = 100) -> builtins.list[WebhookDelivery]:
        """The webhook's deliveries newest first, each with its attempts."""
        if not 1 <= limit <= MAX_DELIVERY_PAGE:
            raise InvalidInputError(f"limit must be between 1 and {MAX_DELIVERY_PAGE}", field="limit")
        return self._store.list_deliveries(webhook_id, limit=limit)


class WebhookDispatcher:
    """Delivers due webhook deliveries: one synchronous pass with ``deliver_due()``, or continuously on a
    daemon thread (``start()``/``wake()``/``stop()``).

    Each pass leases up to ``batch_size`` due deliveries and POSTs them concurrently. A 2xx answer delivers;
    anything else, a timeout or a connection error is retried after ``backoff[attempt - 1]`` seconds (the
    last step repeating) scaled by a random factor in [0.5, 1] so failing receivers are not hit in lockstep,
    until ``max_attempts`` attempts have failed. Several dispatchers may share one database: the lease
    (``lease_seconds``, longer than ``timeout``) keeps them from sending the same attempt.
    """

    def __init__(
        self,
        store: RegistryStore,
        poster: Poster,
        *,
        timeout: float = 5.0,
        max_attempts: int = 6,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        lease_seconds: float = 60.0,
        poll_interval: float = 2.0,
        batch_size: int = 8,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        if not (timeout > 0 and math.isfinite(timeout)):
            raise ValueError("timeout must be a positive number of seconds")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not backoff or any(not (s >= 0 and math.isfinite(s)) for s in backoff):
            raise ValueError("backoff must be a non-empty sequence of non-negative seconds")
        # A lease shorter than a send would let a second dispatcher take the delivery while it is in flight.
        if not lease_seconds > timeout:
            raise ValueError("lease_seconds must be longer than timeout")
        if not poll_interval > 0 or batch_size < 1:
            raise ValueError("poll_interval and batch_size must be positive")
        self._store = store
        self._poster = poster
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff = tuple(float(s) for s in backoff)
        self._lease = lease_seconds
        self._poll = poll_interval
        self._batch = batch_size
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._state_lock = threading.Lock()

    # -- the thread ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the sending thread (a daemon: it never keeps a process alive); a no-op if it runs."""
        with self._state_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="mltrail-webhooks", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Deliver now rather than at the next poll; returns at once (call it after appending events)."""
        self._wakeup.set()

    def stop(self, timeout: float | None = 10.0) -> bool:
        """Ask the thread to stop after the sends in flight and wait up to ``timeout``; whether it stopped.
        Deliveries it had leased but not sent become due again when their lease runs out."""
        with self._state_lock:
            thread = self._thread
            self._stopping.set()
            self._wakeup.set()
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.is_set():
            # Cleared before the pass, so an event appended during it wakes the next one.
            self._wakeup.clear()
            try:
                sent = self.deliver_due()
            # The thread must outlive a database outage or a bug in one delivery; the next poll retries.
            except Exception:
                log.exception("webhook delivery pass failed")
                sent = 0
            if sent == 0 or self._stopping.is_set():
                self._wakeup.wait(self._poll)

    # -- one pass ------------------------------------------------------------------------------------------
    def deliver_due(self) -> int:
        """Lease the deliveries due now, send them, record the attempts; how many attempts were made. Only a
        failing store raises (a failing receiver is an attempt like any other)."""
        claimed = self._store.claim_deliveries(
            now=self._clock(), lease_seconds=self._lease, limit=self._batch
        )
        if len(claimed) <= 1:
            for delivery in claimed:
                self._deliver(delivery)
        else:
            with ThreadPoolExecutor(max_workers=len(claimed), thread_name_prefix="mltrail-webhook") as pool:
                list(pool.map(self._deliver, claimed))
        return len(claimed)

    def _deliver(self, delivery: ClaimedDelivery) -> None:
        body, action = delivery.body, delivery.action
        started = self._clock()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Mltrail-Event": action,
            "X-Mltrail-Delivery": str(delivery.delivery_id),
            "X-Mltrail-Signature": _signature(delivery.secret, int(started), body),
        }
        status_code: int | None
        try:
            outcome = self._poster.post(delivery.url, body, headers, self._timeout)
            status_code, error, duration_ms = outcome.status_code, outcome.error, outcome.duration_ms
        # A Poster should never raise; one that does still makes a logged, retried attempt.
        except Exception as exc:
            log.exception("webhook poster raised for delivery %s", delivery.delivery_id)
            status_code, error = None, f"{type(exc).__name__}: {exc}"[:500]
            duration_ms = (self._clock() - started) * 1000.0
        delivered = status_code is not None and 200 <= status_code < 300
        next_attempt_at: float | None = None
        if not delivered and delivery.attempt < self._max_attempts:
            step = self._backoff[min(delivery.attempt, len(self._backoff)) - 1]
            next_attempt_at = self._clock() + step * self._rng.uniform(0.5, 1.0)
        if not delivered:
            log.info(
                "webhook delivery %s to %s failed (attempt %s): %s%s",
                delivery.delivery_id,
                delivery.url,
                delivery.attempt,
                error or f"HTTP {status_code}",
                "" if next_attempt_at is not None else "; giving up",
            )
        try:
            self._store.record_delivery_attempt(
                delivery.delivery_id,
                attempt=delivery.attempt,
                time=started,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
                next_attempt_at=next_attempt_at,
                delivered=delivered,
            )
        # The lease runs out and the delivery is sent again: a duplicate rather than a lost event.
        except Exception:
            log.exception("could not record webhook delivery %s", delivery.delivery_id)
