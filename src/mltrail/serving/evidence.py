"""``EvidenceCollector``: what one gateway process observes per variant, counted per minute window and sent
to the store or team server every few seconds, off the request path.

The request thread (and each shadow's thread) only adds to counters and a latency sketch under a lock
(no I/O, no allocation beyond a new window's first count); a thread sends, every ``interval`` seconds, the
whole counts so far of each window that changed, through the client seam
(``connection.deployments().record_evidence``). The store replaces this replica's rows of those windows,
so a send repeated after a failure counts once; windows that could not be sent are kept (up to a day of
them) and sent again. Counted per variant (``primary``, ``canary``, ``shadow[i]``) and model version.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mltrail.entities import EVIDENCE_WINDOW_SECONDS, EvidenceWindow, VariantCounts
from mltrail.errors import MltrailError
from mltrail.stats.latency_sketch import LatencySketch

__all__ = ["EvidenceCollector", "ShadowEvidence"]

log = logging.getLogger("mltrail.serving.evidence")
MAX_KEPT_WINDOWS = 24 * 60  # windows held while sends fail; beyond, the oldest are given up (counted)
_MODEL_FAILURES = frozenset({"error", "timeout", "invalid_output"})  # not "input": a guard's choice

Send = Callable[[Sequence[EvidenceWindow]], object]


class _Counts:
    __slots__ = (
        "abs_diff",
        "agreed",
        "compared",
        "dropped",
        "errors",
        "fallbacks",
        "guarded",
        "latency",
        "numeric",
        "requests",
        "rows",
    )

    def __init__(self) -> None:
        self.requests = self.rows = self.errors = self.fallbacks = self.guarded = self.dropped = 0
        self.compared = self.agreed = self.numeric = 0
        self.abs_diff = 0.0
        self.latency = LatencySketch()

    def frozen(self, variant: str, model: str) -> VariantCounts:
        return VariantCounts(
            variant=variant,
            model=model,
            requests=self.requests,
            rows=self.rows,
            errors=self.errors,
            fallbacks=self.fallbacks,
            guarded=self.guarded,
            dropped=self.dropped,
            compared=self.compared,
            agreed=self.agreed,
            numeric=self.numeric,
            abs_diff=self.abs_diff,
            latency=self.latency.to_dict(),
        )


def _is_float(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - arrays and odd objects: not equal rather than a broken shadow
        return False


class EvidenceCollector:
    def __init__(
        self,
        deployment: str,
        spec_version: int,
        send: Send | None,
        *,
        interval: float = 2.0,
        clock: Callable[[], float] = time.time,
        replica: str | None = None,
    ) -> None:
        self.deployment = deployment
        self.spec_version = spec_version  # a reload that changes the spec sets it
        self.replica = replica or f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._send = send
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[float, int], dict[tuple[str, str], _Counts]] = {}
        self._dirty: set[tuple[float, int]] = set()
        self.given_up = 0  # windows dropped after MAX_KEPT_WINDOWS unsent
        self.sends_failed = 0
        self.rejected = 0  # windows a 4xx refused for good
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if send is not None:
            self._thread = threading.Thread(
                target=self._run, name=f"mltrail-evidence-{deployment}", daemon=True
            )
            self._thread.start()

    # -- counting (request and shadow threads) -------------------------------------------------------------
    def _counts(self, variant: str, model: str) -> _Counts:
        """The current window's counts of the variant; the caller holds the lock."""
        key = (self._clock() // EVIDENCE_WINDOW_SECONDS * EVIDENCE_WINDOW_SECONDS, self.spec_version)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = {}
        self._dirty.add(key)
        counts = window.get((variant, model))
        if counts is None:
            counts = window[(variant, model)] = _Counts()
        return counts

    def request(
        self,
        variant: str,
        model: str,
        rows: int,
        reasons: Mapping[int, str],
        used: Mapping[int, str],
        fired: list[list[str]],
        seconds: float,
        *,
        answered: bool = True,
    ) -> None:
        """One request answered by ``variant`` (or, ``answered=False``, refused with a 503 when no fallback
        step answered): its rows, the rows the model failed (``reasons`` other than an input guard's), the
        rows a fallback step answered (``used``), the rows a guard fired on, and its time in the gateway."""
        errors = sum(1 for r in reasons.values() if r in _MODEL_FAILURES) if reasons else 0
        guarded = len(fired) - fired.count([])  # rows with a guard fired (C-speed, no generator)
        with self._lock:
            counts = self._counts(variant, model)
            counts.requests += 1
            counts.rows += rows
            counts.errors += errors
            counts.fallbacks += len(used) if answered else 0
            counts.guarded += guarded
            counts.latency.add(seconds * 1000)

    def for_shadow(self, variant: str, model: str) -> ShadowEvidence:
        return ShadowEvidence(self, variant, model)

    # -- sending (its own thread) ----------------------------------------------------------------------------
    def _snapshot(self) -> list[EvidenceWindow]:
        with self._lock:
            keys = sorted(self._dirty)
            self._dirty.clear()
            return [
                EvidenceWindow(
                    start=start,
                    spec_version=version,
                    replica=self.replica,
                    counts=tuple(
                        c.frozen(v, m) for (v, m), c in sorted(self._windows[(start, version)].items())
                    ),
                )
                for start, version in keys
            ]

    def send_now(self) -> bool:
        """Send every window that changed since the last send; False when the send failed (windows the
        store or server could not take now are kept and sent again next time)."""
        if self._send is None:
            return True
        windows = self._snapshot()
        if not windows:
            return True
        sent = True
        try:
            self._send(windows)
        except MltrailError as exc:
            if not 400 <= exc.http_status < 500:
                return self._failed(windows, exc)
            # Refused for good (a key that may not write, a deployment deleted, a window refused): sending
            # the same again cannot succeed, so these counts are given up, loudly.
            self.rejected += len(windows)
            log.error(
                "deployment %s: evidence refused, %d windows given up: %s", self.deployment, len(windows), exc
            )
            sent = False
        except Exception as exc:  # noqa: BLE001 - the store or server away: keep the counts, try later
            return self._failed(windows, exc)
        current = self._clock() // EVIDENCE_WINDOW_SECONDS * EVIDENCE_WINDOW_SECONDS
        with self._lock:
            for key in [k for k in self._windows if k[0] < current and k not in self._dirty]:
                del self._windows[key]  # a past window sent whole: no count can reach it any more
        return sent

    def _failed(self, windows: Sequence[EvidenceWindow], exc: Exception) -> bool:
        """A send that may succeed later: its windows are marked to be sent again."""
        self.sends_failed += 1
        with self._lock:
            self._dirty.update((w.start, w.spec_version) for w in windows)
            self._trim()
        if self.sends_failed == 1 or self.sends_failed % 30 == 0:
            log.warning("deployment %s: evidence not sent (%s); kept, retrying", self.deployment, exc)
        return False

    def _trim(self) -> None:
        over = len(self._windows) - MAX_KEPT_WINDOWS
        if over > 0:
            for key in sorted(self._windows)[:over]:
                del self._windows[key]
                self._dirty.discard(key)
            self.given_up += over

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.send_now()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread and send what is left (once; a store still away loses it, logged)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if not self.send_now():
            log.error("deployment %s: evidence of the last windows not sent at shutdown", self.deployment)


class ShadowEvidence:
    """One shadow's counts, bound to its variant (``shadow[i]``) and model; called on its own thread."""

    __slots__ = ("_collector", "model", "variant")

    def __init__(self, collector: EvidenceCollector, variant: str, model: str) -> None:
        self._collector = collector
        self.variant = variant
        self.model = model

    def answered(self, answers: Sequence[Any], caller_answers: Sequence[Any], seconds: float) -> None:
        """The shadow answered a copy: its rows, agreement with what the caller got, its model's time."""
        agreed = numeric = 0
        abs_diff = 0.0
        for a, b in zip(answers, caller_answers, strict=True):
            if _equal(a, b):
                agreed += 1
            if _is_float(a) and _is_float(b):
                diff = abs(float(a) - float(b))
                if math.isfinite(diff):
                    numeric += 1
                    abs_diff += diff
        with self._collector._lock:
            counts = self._collector._counts(self.variant, self.model)
            counts.requests += 1
            counts.rows += len(answers)
            counts.compared += len(answers)
            counts.agreed += agreed
            counts.numeric += numeric
            counts.abs_diff += abs_diff
            counts.latency.add(seconds * 1000)

    def failed(self, rows: int, seconds: float) -> None:
        """The shadow raised or ran out of time on a copy of ``rows`` rows."""
        with self._collector._lock:
            counts = self._collector._counts(self.variant, self.model)
            counts.requests += 1
            counts.rows += rows
            counts.errors += rows
            counts.latency.add(seconds * 1000)

    def dropped(self, rows: int) -> None:
        """A copy its full queue turned away."""
        with self._collector._lock:
            self._collector._counts(self.variant, self.model).dropped += rows
