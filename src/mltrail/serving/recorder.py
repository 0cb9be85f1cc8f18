"""Every answered row to a monitor, off the request path.

The request thread appends plain dicts to a list (no Arrow, no I/O); a thread turns what accumulated into
one table every ``interval`` seconds (1 s: each batch the monitor ingests has a fixed cost, profiles merged
and figures refreshed, which at 0.2 s took about a tenth of a core per busy worker) and hands it to a
``ModelMonitor``, whose own writer merges batches,
ingests them with idempotency keys and retries while the store or server is unavailable. Rows carry the
model's inputs, the answer, the request's id (for delayed labels), and the gateway's columns:
``_variant``, ``_model``, ``_latency_ms``, ``_guards``, ``_fallback``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from mltrail.entities import Monitor
from mltrail.sdk.monitoring.client import MonitorClient
from mltrail.sdk.monitoring.monitor import ModelMonitor

__all__ = ["MonitorRecorder"]

log = logging.getLogger("mltrail.serving.monitor")
MAX_PENDING = 200_000  # rows held while the writer is behind; beyond, the oldest are dropped and counted


def _column(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed answers (a class and "manual_review"): as text
        return pa.array([None if v is None else str(v) for v in values], pa.string())


class MonitorRecorder:
    def __init__(
        self,
        client: MonitorClient,
        entity: Monitor,
        columns: Sequence[str],
        *,
        interval: float = 1.0,
    ) -> None:
        self.entity = entity
        self._columns = tuple(columns)
        self._monitor = ModelMonitor(client, entity, flush_interval=interval)
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._interval = interval
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"mltrail-record-{entity.name}", daemon=True)
        self._thread.start()

    @property
    def columns(self) -> tuple[str, ...]:
        """The monitor's feature columns each row is sent with."""
        return self._columns

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Queue rows (each with the inputs, ``answer``, ``id`` and the gateway's columns); never blocks."""
        with self._lock:
            self._pending.extend(rows)
            over = len(self._pending) - MAX_PENDING
            if over > 0:
                del self._pending[:over]
                self.dropped += over

    def _table(self, rows: list[dict[str, Any]]) -> tuple[dict[str, pa.Array], list[Any], list[Any]]:
        features = {c: _column([r.get(c) for r in rows]) for c in self._columns}
        for name in ("_variant", "_model", "_latency_ms", "_guards", "_fallback"):
            features[name] = _column([r.get(name) for r in rows])
        return features, [r["answer"] for r in rows], [r["id"] for r in rows]

    def _drain(self) -> None:
        with self._lock:
            rows, self._pending = self._pending, []
        if not rows:
            return
        try:
            features, answers, ids = self._table(rows)
            self._monitor.log(features, _column(answers), ids=ids)
        except Exception:  # a malformed row must not stop the recorder: log it and go on
            log.exception("monitor %s: could not queue %d rows", self.entity.name, len(rows))

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._drain()

    def flush(self, timeout: float = 30.0) -> None:
        """Hand every queued row to the monitor and wait until it has ingested them."""
        self._drain()
        self._monitor.flush(timeout)

    @property
    def rows_ingested(self) -> int:
        return self._monitor.rows_ingested

    def close(self, timeout: float = 10.0) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout)
        self._drain()
        try:
            self._monitor.writer.close(timeout)
        except Exception:  # at shutdown there is no caller left to raise to
            log.exception("monitor %s: rows still queued at shutdown", self.entity.name)
