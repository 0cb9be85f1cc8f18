"""``GatewayReloader``: moves without downtime. Each gateway process (each ``--workers`` worker on its own)
polls its deployment every ``interval`` seconds — the spec's version and the version every reference
resolves to now (an alias moved, a stage changed) — and on a change builds the new ``Gateway`` beside the
one serving (every model loaded and verified by digest, as ``models.load`` does), swaps it in with one
assignment, then lets the old one drain (requests already inside it finish there) and closes it.

A build that fails (a missing model, a blob whose digest does not match) is refused: the old gateway keeps
serving, the failure is logged, counted (``mltrail_gateway_reloads_total{outcome="refused"}``), shown by
``/readyz`` and raised as a ``gateway.reload_failed`` alert on the deployment's monitor. The same refused
target is tried again only after ``retry_after`` seconds (a model uploaded again, a blob repaired). A poll
that cannot reach the store or server changes nothing and is counted; serving goes on from the loaded
models.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from mltrail.serving.gateway import Gateway

__all__ = ["DEFAULT_POLL", "Fingerprint", "GatewayReloader", "GatewaySource", "served"]

log = logging.getLogger("mltrail.serving.reload")
DEFAULT_POLL = 2.0
# What a gateway serves: the spec's version and each reference with the version it resolved to.
Fingerprint = tuple[int, tuple[tuple[str, str], ...]]


class GatewaySource(Protocol):
    def build(self, previous: Gateway | None) -> Gateway:
        """The gateway as the deployment stands now (``previous``: the one it replaces)."""

    def look(self) -> Fingerprint:
        """What the deployment names now; raises when the store or server cannot be reached."""

    def refused(self, serving: Gateway, detail: str) -> str | None:
        """Raise the alert of a refused reload; where it went (None: nowhere to raise it)."""


class Holder(Protocol):
    gateway: Gateway


def served(gateway: Gateway) -> Fingerprint:
    """The fingerprint of what ``gateway`` loaded."""
    variants = [gateway.primary, gateway.canary, *gateway.fallback_models.values()]
    variants += [runner.variant for runner in gateway.shadows]
    pinned = {(v.ref, v.version) for v in variants if v is not None}
    return gateway.deployment.version, tuple(sorted(pinned))


class GatewayReloader:
    """Polls ``source`` and swaps ``holder.gateway`` (the app's state, read once per request)."""

    def __init__(
        self,
        holder: Holder,
        source: GatewaySource,
        *,
        interval: float = DEFAULT_POLL,
        grace: float = 1.0,
        drain_timeout: float = 60.0,
        retry_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.holder = holder
        self.source = source
        self.interval = interval
        # A request reads the gateway before its body has arrived: it may enter the old one shortly after
        # the swap. The old one waits ``grace`` seconds, then until no request is inside it.
        self.grace = grace
        self.drain_timeout = drain_timeout
        self.retry_after = retry_after
        self._clock = clock
        self._lock = threading.Lock()  # one check at a time (the thread, or a test calling ``check``)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._serving = served(holder.gateway)
        self._refused: tuple[Fingerprint, float] | None = None  # the target refused, and when
        self._alert_pending: str | None = None  # a refusal not yet raised (the store was away)
        self.reloads = 0
        self.refusals = 0
        self.last_error: str | None = None
        self.last_alert: str | None = None
        self.last_check: float | None = None

    @property
    def metrics(self) -> Any:
        return self.holder.gateway.metrics

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mltrail-gateway-reload", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # the poller must outlive anything: log it and poll again
                log.exception("deployment %s: the reload poll failed", self.holder.gateway.name)

    # -- one poll ---------------------------------------------------------------------------------------
    def check(self) -> str:
        """Poll once: ``same``, ``reloaded``, ``refused``, ``waiting`` (a refused target not yet retried)
        or ``unreachable``."""
        with self._lock:
            name = self.holder.gateway.name
            try:
                wanted = self.source.look()
            except Exception as exc:  # noqa: BLE001 - the store or server is away: keep serving
                self.metrics.inc("mltrail_gateway_reload_checks_failed_total")
                log.warning("deployment %s: cannot check for changes: %s", name, exc)
                return "unreachable"
            self.last_check = time.time()
            if self._alert_pending is not None:
                self._raise(self._alert_pending)
            if wanted == self._serving:
                self._refused = None
                return "same"
            refused = self._refused
            if refused is not None and refused[0] == wanted and self._clock() - refused[1] < self.retry_after:
                return "waiting"
            return self._reload(wanted)

    def _reload(self, wanted: Fingerprint) -> str:
        old = self.holder.gateway
        started = time.perf_counter()
        try:
            new = self.source.build(old)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the old gateway keeps serving
            self._refused = (wanted, self._clock())
            self.refusals += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.metrics.inc("mltrail_gateway_reloads_total", outcome="refused")
            log.error(
                "deployment %s: refused v%d %s, still serving v%d: %s",
                old.name,
                wanted[0],
                dict(wanted[1]),
                self._serving[0],
                self.last_error,
            )
            self._raise(
                f"reload to v{wanted[0]} refused, still serving v{self._serving[0]}: {self.last_error}"
            )
            return "refused"
        self.holder.gateway = new  # the swap: the next request reads the new gateway
        self._serving = served(new)
        self._refused = None
        self.last_error = None
        self.reloads += 1
        self.metrics.inc("mltrail_gateway_reloads_total", outcome="ok")
        log.warning(
            "deployment %s: now serving v%d %s (loaded in %.2f s)",
            new.name,
            new.deployment.version,
            new.variants(),
            time.perf_counter() - started,
        )
        self._retire(old, new)
        return "reloaded"

    def _retire(self, old: Gateway, new: Gateway) -> None:
        """Close the replaced gateway once no request is left in it, without what the new one took over."""
        self._stop.wait(self.grace)
        if not old.drain(self.drain_timeout):
            log.warning(
                "deployment %s: requests still inside the old gateway after %g s",
                old.name,
                self.drain_timeout,
            )
        if old.recorder is not None and old.recorder is new.recorder:
            old.recorder = None  # the new gateway sends these rows now
        old.close()

    def _raise(self, detail: str) -> None:
        try:
            where = self.source.refused(self.holder.gateway, detail)
        except Exception as exc:  # noqa: BLE001 - the store is away too: raise it at the next poll
            self._alert_pending = detail
            log.warning("deployment %s: could not raise the alert yet: %s", self.holder.gateway.name, exc)
            return
        self._alert_pending = None
        self.last_alert = where
        if where is None:
            log.error("deployment %s: no monitor to raise the refused reload on", self.holder.gateway.name)

    def status(self) -> dict[str, Any]:
        """For ``/readyz``: what is served, and the last refusal if the newest target was refused."""
        out: dict[str, Any] = {
            "poll_seconds": self.interval,
            "reloads": self.reloads,
            "refusals": self.refusals,
            "last_check": self.last_check,
        }
        refused = self._refused
        if refused is not None:
            out["refused"] = {
                "version": refused[0][0],
                "models": dict(refused[0][1]),
                "error": self.last_error,
                "alert": self.last_alert,
            }
        return out
