"""The background writer: ``run.log`` only appends to a queue; a shared thread batches it into the transport.

One daemon thread per transport and process (``_Flusher``) serves every live run on that transport: it
flushes each run's queue every ``flush_interval`` and sends its heartbeat every ``heartbeat_interval``. A
run therefore starts no thread of its own, and ``close`` (at ``finish``) flushes what is left in the
caller's thread instead of waking a thread and joining it: a sweep of short runs pays neither.

Memory stays bounded: when more than ``max_pending_points`` are waiting, ``wait_for_room`` makes the training
loop wait (backpressure) instead of growing the queue. A failed batch is kept and retried with the same
sequence number, so a store that applies batches at most once never duplicates a point.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mltrail.entities import MetricsBatch
from mltrail.errors import MltrailError, StoreError

if TYPE_CHECKING:
    from mltrail.sdk.tracking.transport import Transport

__all__ = ["BackgroundWriter"]

log = logging.getLogger("mltrail")

Point = tuple[int, float, dict[str, float]]  # (step, wall_time, {key: value})
Op = tuple[str, Callable[[], Any]]  # (description, call)

# A batch is one transaction: small enough that a commit lands every few tens of milliseconds under load.
MAX_BATCH_POINTS = 25_000
# Backpressure keeps the queue to what the writer sends in one flush interval (never fewer than this), so a
# process killed while logging as fast as it can loses the last fraction of a second, not the whole queue.
MIN_PENDING_POINTS = 20_000
MAX_BACKOFF = 5.0
# Longest pause at close between two failed attempts.
CLOSE_BACKOFF = 0.5
# A flusher thread with no run to serve for this long ends; the next run on its transport starts another.
IDLE_EXIT = 2.0
_IDLE_POLL = 0.5


class _Flusher:
    """The thread that flushes every live writer of one transport in this process."""

    def __init__(self, key: tuple[int, int]) -> None:
        self.key = key
        self.writers: list[BackgroundWriter] = []
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None

    def alive(self) -> bool:
        thread = self.thread
        return thread is not None and thread.is_alive()

    def _loop(self) -> None:
        idle_since: float | None = None
        while True:
            with _registry_lock:
                writers = list(self.writers)
                if not writers:
                    now = time.monotonic()
                    idle_since = idle_since or now
                    if now - idle_since >= IDLE_EXIT:
                        self.thread = None
                        if _flushers.get(self.key) is self:
                            del _flushers[self.key]
                        return
                else:
                    idle_since = None
            now = time.monotonic()
            next_due = now + _IDLE_POLL
            for writer in writers:
                try:
                    next_due = min(next_due, writer._service(now))
                except Exception as exc:  # noqa: BLE001 - one run's failure must not stop the others' flushing
                    writer._record_failure(exc)
                    next_due = min(next_due, now + writer.flush_interval)
            timeout = next_due - time.monotonic()
            if timeout > 0:
                self.wake.wait(timeout)
            self.wake.clear()


_flushers: dict[tuple[int, int], _Flusher] = {}
_registry_lock = threading.Lock()


def _attach(writer: BackgroundWriter) -> _Flusher:
    """Register ``writer`` with its transport's flusher, starting the flusher's thread if needed."""
    key = (id(writer.transport), os.getpid())  # a forked child starts its own thread
    with _registry_lock:
        flusher = _flushers.get(key)
        if flusher is None:
            flusher = _flushers[key] = _Flusher(key)
        flusher.writers.append(writer)
        if not flusher.alive():
            flusher.thread = threading.Thread(
                target=flusher._loop, name=f"mltrail-writer-{len(_flushers)}", daemon=True
            )
            flusher.thread.start()
    return flusher


def _detach(writer: BackgroundWriter, flusher: _Flusher) -> None:
    with _registry_lock:
        if writer in flusher.writers:
            flusher.writers.remove(writer)


class BackgroundWriter:
    """One run's queue of points and updates, flushed by its transport's shared thread, and its heartbeat."""

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
        # What ``run.log`` lets wait before it waits itself: the points the writer sends in one flush
        # interval at the rate it has shown (within MIN_PENDING_POINTS..max_pending_points).
        self.pending_limit = min(max_pending_points, 2 * MIN_PENDING_POINTS)  # until a rate is known
        self._rate = 0.0  # points per second the transport has taken, smoothed
        self.attempts_at_close = attempts_at_close
        self.client_id = uuid.uuid4().hex
        # The training thread appends to these deques and bumps `produced`; only the thread holding `_lock`
        # (the flusher, or the caller of close/flush) pops and bumps `consumed`. deque.append/popleft are
        # atomic, so the hot path takes no lock.
        self.points: deque[Point] = deque()
        self.ops: deque[Op] = deque()
        self.produced = 0
        self.consumed = 0
        self.last_error: BaseException | None = None
        self.failures = 0
        self.dropped = 0
        self._seq = 0
        self._retry: MetricsBatch | None = None
        self._lock = threading.Lock()  # held while sending: one sender at a time keeps batches in order
        self._room = threading.Condition()
        self._stopping = False
        self._closed = False
        self._woken = False
        self._backoff = flush_interval
        now = time.monotonic()
        self._next_due = now + flush_interval
        self._last_heartbeat = now
        self._flusher: _Flusher | None = None

    def start(self) -> None:
        if self._flusher is None:
            self._flusher = _attach(self)

    # -- called from the training thread -----------------------------------------------------------------
    def wake(self) -> None:
        """Ask the flusher to send this run's queue now rather than at the next interval."""
        self._woken = True
        flusher = self._flusher
        if flusher is not None:
            flusher.wake.set()

    def submit(self, description: str, call: Callable[[], Any]) -> None:
        """Queue a rare update (tags, summary, params…) to be sent in order by the writer."""
        self.ops.append((description, call))
        self.wake()

    def wait_for_room(self) -> bool:
        """Backpressure: block until the writer has drained to half the limit.

        Returns False without waiting further when the store is failing: the caller then drops the point
        (counted in ``dropped`` and reported by ``close``) rather than grow memory without bound or stall
        training until the store comes back.
        """
        self.wake()
        with self._room:
            while self.produced - self.consumed > self.pending_limit // 2:
                flusher = self._flusher
                if self.failures or flusher is None or not flusher.alive():
                    if not self.dropped:
                        log.warning(
                            "mltrail: the store is failing and %d points are waiting; further points are"
                            " dropped until it recovers: %s",
                            self.produced - self.consumed,
                            self.last_error,
                        )
                    return False
                self._room.wait(0.5)
                self.wake()
        return True

    @property
    def pending_points(self) -> int:
        return self.produced - self.consumed

    def flush(self) -> bool:
        """Send everything queued so far from the calling thread; False if the transport failed."""
        with self._lock:
            ok = self._attempt()
        self._notify_room()
        return ok

    def close(self, timeout: float = 120.0) -> None:
        """Flush everything and stop. Raises ``StoreError`` when something could not be written.

        The rest of the queue is sent from the calling thread (the shared thread is not woken or joined);
        a failing transport is tried ``attempts_at_close`` times, with short pauses, within ``timeout``.
        """
        self._stopping = True
        deadline = time.monotonic() + timeout
        with self._lock:
            attempts_left = self.attempts_at_close
            pause = self.flush_interval
            while True:
                ok = self._attempt()
                if ok and self._idle():
                    break
                if not ok:
                    attempts_left -= 1
                    if attempts_left <= 0 or time.monotonic() + pause > deadline:
                        break
                    time.sleep(pause)
                    pause = min(CLOSE_BACKOFF, max(self.flush_interval, pause * 2))
            self._closed = True
        if self._flusher is not None:
            _detach(self, self._flusher)
        self._notify_room()
        lost_points = self.produced - self.consumed
        lost_ops = len(self.ops)
        if lost_points or lost_ops or self.dropped:
            dropped = f" ({self.dropped} more were dropped while the queue was full)" if self.dropped else ""
            raise StoreError(
                f"run {self.run_id}: {lost_points} metric points{dropped} and {lost_ops} updates could not be"
                f" written after {self.failures} failed attempts: {self.last_error}"
            )

    # -- the flusher thread -------------------------------------------------------------------------------
    def _service(self, now: float) -> float:
        """Flush if due (or woken) and send the heartbeat if due; returns when this writer is next due.

        Skips a writer whose ``close`` or ``flush`` is sending from another thread right now."""
        if not (self._woken or now >= self._next_due):
            return self._next_due
        if not self._lock.acquire(blocking=False):
            return now + self.flush_interval
        try:
            if self._closed:  # closed by its run (and detached) since the flusher listed it
                return now + _IDLE_POLL
            self._woken = False
            if self._attempt():
                self._heartbeat_if_due()
        finally:
            self._lock.release()
        self._notify_room()
        return self._next_due

    def _attempt(self) -> bool:
        """One flush under ``_lock``, with the failure count and backoff it implies."""
        ok = self._flush_once()
        if ok:
            self.failures = 0
            self._backoff = self.flush_interval
        else:
            self.failures += 1
            self._backoff = min(MAX_BACKOFF, max(self.flush_interval, self._backoff * 2))
        self._next_due = time.monotonic() + self._backoff
        return ok

    def _notify_room(self) -> None:
        with self._room:
            self._room.notify_all()

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
                started = time.monotonic()
                self.transport.log_metrics(self.run_id, batch)
                self._retry = None
                self.consumed += len(batch)
                self._learn_rate(len(batch), time.monotonic() - started)
        except Exception as exc:  # noqa: BLE001 - the writer must survive any transport failure and report it
            self._record_failure(exc)
            return False

    def _learn_rate(self, points: int, seconds: float) -> None:
        """Keep ``pending_limit`` at one flush interval's worth of what the transport takes (a journal
        takes points fast; a busy store slowly), so the queue never holds much more than that."""
        if points < 1000 or seconds <= 0:
            return
        rate = points / seconds
        self._rate = rate if not self._rate else 0.7 * self._rate + 0.3 * rate
        # Half an interval of queue, plus the batch in flight, keeps what a kill loses under one interval.
        wanted = int(self._rate * self.flush_interval / 2)
        self.pending_limit = min(self.max_pending_points, max(MIN_PENDING_POINTS, wanted))

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
