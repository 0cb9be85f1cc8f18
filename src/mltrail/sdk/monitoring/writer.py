"""``PredictionWriter``: the queue and background thread behind ``ModelMonitor.log``.

Batches are queued as Arrow tables; the thread merges them (up to ``max_rows`` rows and the client's byte
bound) and ingests them every ``flush_interval`` seconds, or at once past ``max_rows``. A ``StoreError``
(store busy, server unreachable or 5xx) keeps the rows first in the queue and retries with exponential
backoff up to 5 s; any other error drops the batch, and ``flush()`` raises it.

Every batch sent carries an idempotency key, and a batch that failed with a ``StoreError`` is sent again
whole with the same key (not merged with rows queued since): when the server had stored it and only the
response was lost (a read timeout), the retry is recognised and not stored twice. The one exception is a
batch the server refused as too large (413): nothing was stored, so it is split and sent under new keys.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque

import pyarrow as pa

from mltrail.errors import MltrailError, StoreError
from mltrail.sdk.monitoring.client import MonitorClient

__all__ = ["MAX_BACKOFF", "PredictionWriter"]

log = logging.getLogger(__name__)
MAX_BACKOFF = 5.0


class PredictionWriter:
    """Ingests the queued batches of one monitor through ``client``, in a daemon thread."""

    def __init__(
        self, client: MonitorClient, name: str, *, flush_interval: float = 0.5, max_rows: int = 200_000
    ) -> None:
        self.client = client
        self.name = name
        self.flush_interval = flush_interval
        self.max_rows = max_rows
        self._queue: deque[pa.Table] = deque()
        self._unsent: tuple[pa.Table, str] | None = None  # a batch sent before (StoreError) and its key
        self._queued_rows = 0
        self._count_lock = threading.Lock()
        self._wake = threading.Event()  # ingest now (max_rows reached, flush, close)
        self._kick = threading.Event()  # cut a retry's backoff short (flush, close)
        self._idle = threading.Condition()
        self._busy = False
        self._stopping = False
        self._abandon = False
        self._refused: BaseException | None = None  # the last batch refused: raised at flush
        self._retrying: StoreError | None = None  # what the queued rows wait on
        self._delay = 0.0
        self.rows_ingested = 0
        self.rows_dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"mltrail-monitor-{name}", daemon=True)
        self._thread.start()

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    def put(self, table: pa.Table) -> None:
        """Queue a batch (never blocks on the store or the network)."""
        self._queue.append(table)
        with self._count_lock:
            self._queued_rows += table.num_rows
            full = self._queued_rows >= self.max_rows
        if full:
            self._wake.set()

    # -- the thread -------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            failed = self._drain()
            if self._stopping and ((not self._queue and self._unsent is None) or self._abandon):
                return
            if failed:  # the store or server is unavailable: back off, then try the same rows again
                self._delay = min(MAX_BACKOFF, max(self.flush_interval, self._delay * 2))
                self._kick.wait(self._delay)
                self._kick.clear()
            else:
                self._delay = 0.0

    def _take(self) -> list[pa.Table]:
        """Queued batches to send together: up to ``max_rows`` rows and the client's byte bound (a batch
        alone above the byte bound is split; the rest stays first in the queue)."""
        budget = self.client.max_batch_bytes
        parts: list[pa.Table] = []
        rows = size = 0
        while self._queue and rows < self.max_rows and (budget is None or size < budget):
            part = self._queue.popleft()
            if budget is not None and part.num_rows > 1 and size + part.nbytes > budget:
                if parts:
                    self._queue.appendleft(part)
                    break
                fit = max(1, part.num_rows * budget // max(1, part.nbytes))
                self._queue.appendleft(part.slice(fit))
                part = part.slice(0, fit)
            parts.append(part)
            rows += part.num_rows
            size += part.nbytes
        return parts

    @staticmethod
    def _merge(parts: list[pa.Table]) -> list[pa.Table]:
        """One table of the parts, or the parts themselves when their columns have no common type."""
        if len(parts) == 1:
            return parts
        try:
            return [pa.concat_tables(parts, promote_options="permissive")]
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return parts

    def _next(self) -> list[tuple[pa.Table, str]]:
        """What to send now, each with its key: the batch that failed before, whole and with its key;
        else queued batches merged, under new keys."""
        if self._unsent is not None:
            batch, key = self._unsent
            self._unsent = None
            budget = self.client.max_batch_bytes
            if budget is None or batch.num_rows < 2 or batch.nbytes <= budget:
                return [(batch, key)]
            self._queue.appendleft(batch)  # refused as too large (413): nothing stored; split it
        return [(batch, uuid.uuid4().hex) for batch in self._merge(self._take())]

    def _done(self, rows: int) -> None:
        with self._count_lock:
            self._queued_rows -= rows

    def _drain(self) -> bool:
        """Ingest what is queued; True when a ``StoreError`` left rows queued for a retry."""
        with self._idle:
            self._busy = True
        try:
            while (self._queue or self._unsent is not None) and not self._abandon:
                pieces = self._next()
                for k, (batch, key) in enumerate(pieces):
                    try:
                        self.client.ingest(self.name, batch, key)
                    except StoreError as exc:  # unavailable: keep the rows, this batch first, same key
                        self._unsent = (batch, key)
                        self._queue.extendleft(reversed([rest for rest, _ in pieces[k + 1 :]]))
                        self._retrying = exc
                        return True
                    except Exception as exc:  # refused (or a bug): drop the batch, report it at flush
                        if not isinstance(exc, MltrailError):
                            log.exception("monitor %s: ingestion failed", self.name)
                        exc.add_note(
                            f"monitor {self.name}: a batch of {batch.num_rows} rows was refused by"
                            f" {self.client.where} and dropped"
                        )
                        self._refused = exc
                        self.rows_dropped += batch.num_rows
                    else:
                        self.rows_ingested += batch.num_rows
                        self._retrying = None
                    self._done(batch.num_rows)
            return False
        finally:
            with self._idle:
                self._busy = False
                self._idle.notify_all()

    # -- waiting and stopping ---------------------------------------------------------------------------
    def flush(self, timeout: float = 60.0) -> None:
        """Wait until every queued batch is ingested; raise the last refusal, or ``StoreError`` when rows
        are still queued after ``timeout`` seconds (they stay queued and are retried)."""
        deadline = time.monotonic() + timeout
        self._kick.set()
        self._wake.set()
        with self._idle:
            while (self._queue or self._unsent is not None or self._busy) and time.monotonic() < deadline:
                self._wake.set()
                self._idle.wait(0.05)
        refused, self._refused = self._refused, None
        if refused is not None:
            raise refused
        if self._queued_rows > 0:  # queued, or in flight when the time ran out
            cause = self._retrying
            raise StoreError(
                f"monitor {self.name}: {self._queued_rows} rows still queued after {timeout:g} s, not yet"
                f" in {self.client.where}" + ("" if cause is None else f": {cause.message}")
            ) from cause

    def close(self, timeout: float = 60.0) -> None:
        """Stop the thread once the queue is written, or after ``timeout`` seconds: the rows still queued
        are then given up, with a warning in the log."""
        self._stopping = True
        self._kick.set()
        self._wake.set()
        self._thread.join(timeout=timeout)
        if self._thread.is_alive():
            self._abandon = True
            self._kick.set()
            self._wake.set()
            self._thread.join(timeout=1.0)
            log.warning(
                "monitor %s: closed with %d rows not written to %s",
                self.name,
                self._queued_rows,
                self.client.where,
            )
