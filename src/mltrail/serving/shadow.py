"""Shadow copies off the caller's path: one bounded queue and one thread per shadow model.

The request thread only appends to a queue (dropping the copy, counted, when the queue is full), so a
shadow that crashes or hangs costs the caller nothing: its thread is stuck or its exception is counted and
logged, and the queue drops what it cannot take. Answers are logged and counted (with agreement against the
answer the caller got), and written to the shadow's own monitor when the spec names one; never returned.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mltrail.serving.evidence import ShadowEvidence
from mltrail.serving.metrics import GatewayMetrics
from mltrail.serving.variants import Variant

__all__ = ["Record", "ShadowJob", "ShadowRunner"]

log = logging.getLogger("mltrail.serving.shadow")
QUEUE_SIZE = 1000
Record = Callable[[Sequence[dict[str, Any]], Sequence[Any], Sequence[str], float], None]


@dataclass(frozen=True, slots=True)
class ShadowJob:
    request_id: str
    rows: Sequence[dict[str, Any]]
    answers: Sequence[Any]  # what the caller got, for agreement
    ids: Sequence[str]


class ShadowRunner:
    def __init__(
        self,
        variant: Variant,
        metrics: GatewayMetrics,
        *,
        record: Record | None = None,
        timeout: float | None = None,
        queue_size: int = QUEUE_SIZE,
        evidence: ShadowEvidence | None = None,
    ) -> None:
        self.variant = variant
        self._evidence = evidence
        self._metrics = metrics
        self._record = record
        self._timeout = timeout
        self._queue: queue.Queue[ShadowJob | None] = queue.Queue(queue_size)
        self._thread = threading.Thread(target=self._run, name=f"mltrail-shadow-{variant.ref}", daemon=True)
        self._thread.start()

    @property
    def label(self) -> str:
        return f"shadow:{self.variant.ref}"

    def submit(self, job: ShadowJob) -> None:
        """Queue a copy; never blocks."""
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self._metrics.inc("mltrail_gateway_shadow_total", shadow=self.variant.ref, outcome="dropped")
            if self._evidence is not None:
                self._evidence.dropped(len(job.rows))

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            started = time.perf_counter()
            try:
                answers = self.variant.predict(job.rows, self._timeout)
            except Exception as exc:  # noqa: BLE001 - a broken shadow is counted and logged, never raised
                self._metrics.inc("mltrail_gateway_shadow_total", shadow=self.variant.ref, outcome="error")
                if self._evidence is not None:
                    self._evidence.failed(len(job.rows), time.perf_counter() - started)
                log.warning("shadow %s failed on request %s: %s", self.variant.version, job.request_id, exc)
                continue
            took = time.perf_counter() - started
            latency = took * 1000
            if self._evidence is not None:
                self._evidence.answered(answers, job.answers, took)
            self._metrics.inc("mltrail_gateway_shadow_total", shadow=self.variant.ref, outcome="ok")
            agree = sum(1 for a, b in zip(answers, job.answers, strict=True) if a == b)
            shadow = self.variant.ref
            self._metrics.inc("mltrail_gateway_shadow_agreement_total", agree, shadow=shadow, agree="1")
            self._metrics.inc(
                "mltrail_gateway_shadow_agreement_total", len(answers) - agree, shadow=shadow, agree="0"
            )
            log.info(
                "shadow %s answered request %s in %.2f ms: %s",
                self.variant.version,
                job.request_id,
                latency,
                answers[:10],
            )
            if self._record is not None:
                try:
                    self._record(job.rows, answers, job.ids, latency)
                except Exception:  # the monitor's troubles stay off the shadow thread too
                    log.exception("shadow %s: could not queue monitor rows", self.variant.version)

    def close(self) -> None:
        # A stuck shadow with a full queue: its daemon thread ends with the process.
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
