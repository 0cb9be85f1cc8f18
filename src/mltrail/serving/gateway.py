"""``Gateway``: one deployment's predictions without HTTP — variant, guards, model, fallback, output
rules, then (off the request path) the monitor and the shadows.

For one request: the body is parsed (``bodies``); the variant is chosen by the canary bucket of the
request key (the request id without one); the model's columns and kinds are checked; the input guard
rejects, imputes or sends to the fallback each row that breaks the validation schema; the model answers
within ``timeout_ms``; rows it failed (an exception, the budget spent, a missing or non-finite answer) go
down the fallback chain (model steps get what is left of the budget, rules answer at once); the output
rules apply to every answer. The request thread then only appends to the recorder's list and the shadows'
queues.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from mltrail.entities import VARIANT_COLUMN, Deployment, FallbackStep
from mltrail.errors import InvalidInputError, StoreError
from mltrail.serving.bodies import MAX_ROWS, PredictRequest, check_columns, parse_arrow, parse_body
from mltrail.serving.evidence import EvidenceCollector
from mltrail.serving.metrics import GatewayMetrics
from mltrail.serving.recorder import MonitorRecorder
from mltrail.serving.rules import (
    NO_ANSWER,
    apply_output_rules,
    canary_bucket,
    is_valid_answer,
    row_violations,
    rule_answer,
)
from mltrail.serving.shadow import ShadowJob, ShadowRunner
from mltrail.serving.variants import ModelTimeoutError, Variant

__all__ = ["INLINE_BODY_BYTES", "Gateway", "NoAnswerError"]

INLINE_BODY_BYTES = 64 << 10  # larger bodies are parsed and answered on a thread, off the event loop


class NoAnswerError(StoreError):
    """The model failed and no fallback step answered (503)."""


class Gateway:
    def __init__(
        self,
        deployment: Deployment,
        *,
        primary: Variant,
        canary: Variant | None = None,
        fallback_models: dict[int, Variant] | None = None,
        shadows: Sequence[ShadowRunner] = (),
        schema: dict[str, Any] | None = None,
        recorder: MonitorRecorder | None = None,
        metrics: GatewayMetrics | None = None,
        evidence: EvidenceCollector | None = None,
        max_rows: int = MAX_ROWS,
    ) -> None:
        self.deployment = deployment
        self.spec = deployment.spec
        self.primary = primary
        self.canary = canary
        self.fallback_models = dict(fallback_models or {})
        self.shadows = list(shadows)
        self.schema = schema
        self.recorder = recorder
        self.metrics = metrics or GatewayMetrics(deployment.name)
        self.evidence = evidence
        self.max_rows = max_rows
        self._budget = None if self.spec.timeout_ms is None else self.spec.timeout_ms / 1000
        self._inflight = 0  # requests inside ``predict``: a replaced gateway closes once none is left
        self._idle = threading.Condition()

    @property
    def name(self) -> str:
        return self.deployment.name

    def variants(self) -> dict[str, str]:
        """Each loaded model's role and the version it serves, for the readiness page."""
        found = {"primary": self.primary.version}
        if self.canary is not None:
            found["canary"] = self.canary.version
        for i, variant in sorted(self.fallback_models.items()):
            found[f"fallback[{i}]"] = variant.version
        for runner in self.shadows:
            found[runner.label] = runner.variant.version
        return found

    def _choose(self, key: str) -> tuple[str, Variant]:
        canary = self.spec.canary
        if self.canary is not None and canary is not None and canary_bucket(self.name, key) < canary.percent:
            return "canary", self.canary
        return "primary", self.primary

    def _reject(self, reason: str, exc: InvalidInputError) -> InvalidInputError:
        self.metrics.inc("mltrail_gateway_rejected_total", reason=reason)
        return exc

    # -- one request --------------------------------------------------------------------------------------
    def runs_inline(self, size: int) -> bool:
        """Whether a request body of ``size`` bytes may be answered on the caller's event loop: no budget
        to enforce (that needs the model on a pool thread), a small body, and no model seen slow."""
        if self._budget is not None or size > INLINE_BODY_BYTES:
            return False
        return not any(v.slow for v in (self.primary, self.canary, *self.fallback_models.values()) if v)

    def predict(self, body: bytes) -> dict[str, Any]:
        """The answer to one JSON request body, or ``InvalidInputError`` (4xx, naming the field) or
        ``NoAnswerError`` (503)."""
        with self._inside():
            started = time.perf_counter()
            try:
                request = parse_body(body, max_rows=self.max_rows)
            except InvalidInputError as exc:
                raise self._reject("body", exc) from None
            return self.answer(request, started)

    def predict_arrow(self, body: bytes, key: str | None = None) -> dict[str, Any]:
        """As ``predict``, for an Arrow IPC stream of rows (``bodies.parse_arrow``)."""
        with self._inside():
            started = time.perf_counter()
            try:
                request = parse_arrow(body, key=key, max_rows=self.max_rows)
            except InvalidInputError as exc:
                raise self._reject("body", exc) from None
            return self.answer(request, started)

    @contextlib.contextmanager
    def _inside(self) -> Iterator[None]:
        """Counts the request as inside this gateway, for ``drain``."""
        with self._idle:
            self._inflight += 1
        try:
            yield
        finally:
            with self._idle:
                self._inflight -= 1
                if not self._inflight:
                    self._idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until no request is inside ``predict`` (a replaced gateway, before it closes); False when
        some still were after ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._inflight == 0, timeout)

    def answer(self, request: PredictRequest, started: float) -> dict[str, Any]:
        """The answer to a parsed request that arrived at ``started`` (``time.perf_counter()``)."""
        request_id = uuid.uuid4().hex
        label, variant = self._choose(request.key or request_id)
        try:
            check_columns(request, variant.columns, variant.kinds)
        except InvalidInputError as exc:
            raise self._reject("columns", exc) from None
        rows = request.rows
        n = len(rows)
        answers: list[Any] = [None] * n
        fired: list[list[str]] = [[] for _ in range(n)]
        reasons: dict[int, str] = {}
        if self.schema is not None and self.spec.input_guard is not None:
            self._guard_inputs(request, fired, reasons)
        to_model = [i for i in range(n) if i not in reasons]
        deadline = None if self._budget is None else started + self._budget
        if to_model:
            self._ask(variant, rows, to_model, answers, reasons, deadline)
        try:
            used = self._fall_back(rows, answers, reasons, deadline) if reasons else {}
        except NoAnswerError:
            if self.evidence is not None:
                took = time.perf_counter() - started
                self.evidence.request(label, variant.version, n, reasons, {}, fired, took, answered=False)
            raise
        final = []
        for i in range(n):
            answer, changed = apply_output_rules(self.spec.output_rules, rows[i], answers[i])
            for rule in changed:
                self.metrics.inc("mltrail_gateway_guard_total", guard=f"output:{rule}")
            fired[i] += [f"output:{r}" for r in changed]
            final.append(answer)
        latency = time.perf_counter() - started
        ids = request.ids or ([request_id] if n == 1 else [f"{request_id}-{i}" for i in range(n)])
        self._count(label, n, used, latency)
        if self.evidence is not None:
            self.evidence.request(label, variant.version, n, reasons, used, fired, latency)
        self._record(variant, label, rows, final, ids, fired, used, latency)
        model_rows = [i for i in range(n) if i not in used]
        for runner in self.shadows:
            picked = [rows[i] for i in model_rows]
            if picked:
                runner.submit(
                    ShadowJob(
                        request_id, picked, [final[i] for i in model_rows], [ids[i] for i in model_rows]
                    )
                )
        out: dict[str, Any] = {
            "request_id": request_id,
            "variant": label,
            "model": variant.version,
            "predictions": final,
            "ids": ids,
        }
        if used:
            out["fallback"] = [used.get(i) for i in range(n)]
        if any(fired):
            out["guards"] = [f or None for f in fired]
        return out

    def _guard_inputs(self, request: PredictRequest, fired: list[list[str]], reasons: dict[int, str]) -> None:
        guard = self.spec.input_guard
        assert guard is not None and self.schema is not None
        for i, row in enumerate(request.rows):
            broken = row_violations(row, self.schema)
            if not broken:
                continue
            for violation in broken:
                self.metrics.inc("mltrail_gateway_guard_total", guard=f"input:{guard.on_invalid}")
                fired[i].append(f"input:{violation}")
            if guard.on_invalid == "fallback":
                reasons[i] = "input"
                continue
            for violation in broken:
                column = violation.split(":", 1)[0]
                where = f"rows[{i}].{column}" if request.layout == "rows" else f"columns.{column}[{i}]"
                if guard.on_invalid == "impute" and column in guard.defaults:
                    row[column] = guard.defaults[column]
                    continue
                raise self._reject(
                    "input_guard", InvalidInputError(f"{where}: {violation.split(': ', 1)[1]}", where)
                )

    def _ask(
        self,
        variant: Variant,
        rows: list[dict[str, Any]],
        which: list[int],
        answers: list[Any],
        reasons: dict[int, str],
        deadline: float | None,
    ) -> None:
        timeout = None if deadline is None else max(0.0, deadline - time.perf_counter())
        try:
            got = variant.predict([rows[i] for i in which], timeout)
        except ModelTimeoutError:
            reasons.update(dict.fromkeys(which, "timeout"))
            return
        except Exception:  # noqa: BLE001 - whatever the model raises, the fallback answers
            reasons.update(dict.fromkeys(which, "error"))
            return
        for i, answer in zip(which, got, strict=True):
            if is_valid_answer(answer):
                answers[i] = answer
            else:
                reasons[i] = "invalid_output"

    def _fall_back(
        self, rows: list[dict[str, Any]], answers: list[Any], reasons: dict[int, str], deadline: float | None
    ) -> dict[int, str]:
        """Answers for the rows in ``reasons`` from the chain; which step answered each."""
        used: dict[int, str] = {}
        waiting = sorted(reasons)
        for index, step in enumerate(self.spec.fallback):
            if not waiting:
                break
            waiting = self._step(index, step, rows, waiting, answers, used, deadline)
        if waiting:
            for i in waiting:
                self.metrics.inc("mltrail_gateway_fallback_total", step="none", reason=reasons[i])
            raise NoAnswerError(
                f"{self.name}: the model failed ({reasons[waiting[0]]}) on {len(waiting)} row(s) and no"
                " fallback step answered"
            )
        for i, step_label in used.items():
            self.metrics.inc("mltrail_gateway_fallback_total", step=step_label, reason=reasons[i])
        return used

    def _step(
        self,
        index: int,
        step: FallbackStep,
        rows: list[dict[str, Any]],
        waiting: list[int],
        answers: list[Any],
        used: dict[int, str],
        deadline: float | None,
    ) -> list[int]:
        if step.kind == "model":
            model = self.fallback_models[index]
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left <= 0:
                return waiting  # the budget is spent: only rules answer now
            failed: dict[int, str] = {}
            self._ask(model, rows, waiting, answers, failed, deadline)
            for i in waiting:
                if i not in failed:
                    used[i] = step.label
            return [i for i in waiting if i in failed]
        left_over = []
        for i in waiting:
            answer = rule_answer(step, rows[i])
            if answer is NO_ANSWER:
                left_over.append(i)
            else:
                answers[i] = answer
                used[i] = step.label
        return left_over

    # -- afterwards ---------------------------------------------------------------------------------------
    def _count(self, label: str, n: int, used: dict[int, str], latency: float) -> None:
        self.metrics.inc("mltrail_gateway_requests_total", variant=label, status="200")
        self.metrics.inc("mltrail_gateway_rows_total", n - len(used), variant=label)
        if used:
            self.metrics.inc("mltrail_gateway_rows_total", len(used), variant="fallback")
        self.metrics.observe_latency(latency, variant=label)

    def _record(
        self,
        variant: Variant,
        label: str,
        rows: list[dict[str, Any]],
        answers: list[Any],
        ids: list[str],
        fired: list[list[str]],
        used: dict[int, str],
        latency: float,
    ) -> None:
        if self.recorder is None:
            return
        latency_ms = latency * 1000
        records = []
        for i, row in enumerate(rows):
            step = used.get(i)
            record = dict(row)
            record.update(
                answer=answers[i],
                id=ids[i],
                _model=variant.version if step is None else step,
                _latency_ms=latency_ms,
                _guards=",".join(fired[i]) or None,
                _fallback=step,
            )
            record[VARIANT_COLUMN] = label if step is None else "fallback"
            records.append(record)
        self.recorder.add(records)
        self.metrics.inc("mltrail_gateway_monitor_rows_total", len(records))

    def close(self) -> None:
        for runner in self.shadows:
            runner.close()
        if self.evidence is not None:
            self.evidence.close()
        if self.recorder is not None:
            self.recorder.close()
        for variant in (self.primary, self.canary, *self.fallback_models.values()):
            if variant is not None:
                variant.close()
        for runner in self.shadows:
            runner.variant.close()
