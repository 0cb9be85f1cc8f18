"""The background writer: ``run.log`` only appends to a queue; this thread batches points into the transport.

Memory stays bounded: when more than ``max_pending_points`` are waiting, ``wait_for_room`` makes the training
loop wait (backpressure) instead of growing the queue. A failed batch is kept and retried with the same
sequence number, so a store that applies batches at most once never duplicates a point.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from mltrail.entities import MetricsBatch
from mltrail.errors import MltrailError, StoreError
from mltrail.sdk.tracking.protocol import Transport

__all__ = ["BackgroundWriter"]

log = logging.getLogger("mltrail")

Point = tuple[int, float, dict[str, float]]  # (step, wall_time, {key: value})
Op = tuple[str, Callable[[], Any]]  # (description, call)

MAX_BATCH_POINTS = 100_000
MAX_BACKOFF = 5.0


class BackgroundWriter:
    """One daemon thread per run that sends queued points and updates, and the run's heartbeat."""

    def __init__(
        self,
        transport: Transport,
        run_id: str,
        *,
        flush_interval: float = 0.2,
        heartbeat_interval: float = 5.0,
        max_pending_points: int = 200_000,
        attempts_at_close: int = 4,
    ) -> None:
        self.transport = transport
        self.run_id = run_id
        self.flush_interval = flush_interval
        self.heartbeat_interval = heartbeat_interval
        self.max_pending_points = max_pending_points
        self.attempts_at_close = attempts_at_close
        self.client_id = uuid.uuid4().hex
        # The training thread appends to these deques and bumps `produced`; only the writer thread pops
        # and bumps `consumed`. deque.append/popleft are atomic, so the hot path takes no lock.
        self.points: deque[Point] = deque()
        self.ops: deque[Op] = deque()
        self.produced = 0
        self.consumed = 0
        self.last_error: BaseException | None = None
        self.failures = 0
        self.dropped = 0
        self._seq = 0
        self._retry: MetricsBatch | None = None
        self._wake = threading.Event()
        self._room = threading.Condition()
        self._stopping = False
        self._last_heartbeat = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name=f"mltrail-writer-{run_id[:8]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # -- called from the training thread -----------------------------------------------------------------
    def submit(self, description: str, call: Callable[[], Any]) -> None:
        """Queue a rare update (tags, summary, params…) to be sent in order by the writer."""
        self.ops.append((description, call))
        self._wake.set()

    def wait_for_room(self) -> bool:
        """Backpressure: block until the writer has drained to half the limit.

        Returns False without waiting further when the store is failing: the caller then drops the point
        (counted in ``dropped`` and reported by ``close``) rather than grow memory without bound or stall
        training until the store comes back.
        """
        self._wake.set()
        with self._room:
            while self.produced - self.consumed > self.max_pending_points // 2:
                if self.failures or not self._thread.is_alive():
                    if not self.dropped:
                        log.warning(
                            "mltrail: the store is failing and %d points are waiting; further points are"
                            " dropped until it recovers: %s",
                            self.produced - self.consumed,
                            self.last_error,
                        )
                    return False
                self._room.wait(0.5)
                self._wake.set()
        return True

    @property
    def pending_points(self) -> int:
        return self.produced - self.consumed

    def close(self, timeout: float = 120.0) -> None:
        """Flush everything and stop. Raises ``StoreError`` when something could not be written."""
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        lost_points = self.produced - self.consumed
        lost_ops = len(self.ops)
        if lost_points or lost_ops or self.dropped or self._thread.is_alive():
            dropped = f" ({self.dropped} more were dropped while the queue was full)" if self.dropped else ""
            raise StoreError(
                f"run {self.run_id}: {lost_points} metric points{dropped} and {lost_ops} updates could not be"
                f" written after {self.failures} failed attempts: {self.last_error}"
            )

    # -- the writer thread --------------------------------------------------------------------------------
    def _loop(self) -> None:
        attempts_left = self.attempts_at_close
        backoff = self.flush_interval
        while True:
            self._wake.wait(self.flush_interval if self.failures == 0 else backoff)
            self._wake.clear()
            ok = self._flush_once()
            if ok:
                self.failures = 0
                backoff = self.flush_interval
                self._heartbeat_if_due()
            else:
                self.failures += 1
                backoff = min(MAX_BACKOFF, max(self.flush_interval, backoff * 2))
            with self._room:
                self._room.notify_all()
            if self._stopping:
                if self._idle():
                    return
                if not ok:
                    attempts_left -= 1
                    if attempts_left <= 0:
                        return
                    backoff = min(backoff, 0.5)

    def _idle(self) -> bool:
        return not self.ops and not self.points and self._retry is None

    def _flush_once(self) -> bool:
        """Send queued updates, then points, in batches. False if the transport failed."""
        try:
            while self.ops:
                _, call = self.ops[0]
                call()
                self.ops.popleft()
            while True:
                batch = self._retry if self._retry is not None else self._drain()
                if batch is None:
                    return True
                self._retry = batch
                self.transport.log_metrics(self.run_id, batch)
                self._retry = None
                self.consumed += len(batch)
        except Exception as exc:  # noqa: BLE001 - the writer must survive any transport failure and report it
            self._record_failure(exc)
            return False

    def _record_failure(self, exc: BaseException) -> None:
        if self.last_error is None or type(exc) is not type(self.last_error):
            log.warning("mltrail: could not write to the store, will retry: %s", exc)
        self.last_error = exc

    def _drain(self) -> MetricsBatch | None:
        points = self.points
        if not points:
            return None
        keys: list[str] = []
        steps: list[int] = []
        values: list[float] = []
        walls: list[float] = []
        popleft = points.popleft
        while points and len(keys) < MAX_BATCH_POINTS:
            step, wall, data = popleft()
            n = len(data)
            keys.extend(data)
            values.extend(data.values())
            steps.extend([step] * n)
            walls.extend([wall] * n)
        self._seq += 1
        return MetricsBatch(
            keys=keys, steps=steps, values=values, wall_times=walls, client_id=self.client_id, seq=self._seq
        )

    def _heartbeat_if_due(self) -> None:
        now = time.monotonic()
        if now - self._last_heartbeat < self.heartbeat_interval:
            return
        self._last_heartbeat = now
        try:
            self.transport.heartbeat(self.run_id)
        except MltrailError as exc:
            self._record_failure(exc)
