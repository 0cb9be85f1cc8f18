"""``build_gateway``: a deployment's ``Gateway`` from ``Settings`` — the spec read and every model loaded
through ``mltrail.connect()`` (the embedded store or a team server), the monitor opened."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from mltrail.errors import InvalidInputError
from mltrail.sdk.client.connection import connect
from mltrail.serving.evidence import EvidenceCollector
from mltrail.serving.gateway import Gateway
from mltrail.serving.metrics import GatewayMetrics
from mltrail.serving.recorder import MonitorRecorder
from mltrail.serving.shadow import Record, ShadowRunner
from mltrail.serving.variants import Variant, load_variant
from mltrail.settings import Settings

__all__ = ["build_gateway"]

log = logging.getLogger("mltrail.serving")


def build_gateway(
    settings: Settings,
    name: str,
    *,
    trust: bool = False,
    max_rows: int | None = None,
    monitor_interval: float = 0.2,
    evidence_interval: float = 2.0,
) -> Gateway:
    connection = connect(settings=settings)
    deployment = connection.deployments().get(name)
    spec = deployment.spec
    metrics = GatewayMetrics(name)
    deployments = connection.deployments()
    evidence = EvidenceCollector(
        name,
        deployment.version,
        lambda windows: deployments.record_evidence(name, windows),
        interval=evidence_interval,
    )
    budget = None if spec.timeout_ms is None else spec.timeout_ms / 1000

    def load(ref: str) -> Variant:
        return load_variant(ref, settings, trust=trust)

    primary = load(spec.primary)
    canary = None if spec.canary is None else load(spec.canary.ref)
    fallback = {i: load(step.ref) for i, step in enumerate(spec.fallback) if step.ref is not None}
    monitoring = connection.monitoring
    recorder = None
    schema = None if spec.input_guard is None else spec.input_guard.schema
    if spec.monitor is not None:
        monitor = monitoring.get(spec.monitor)
        if schema is None and spec.input_guard is not None:
            schema = monitor.schema
        recorder = MonitorRecorder(monitoring, monitor, monitor.features, interval=monitor_interval)
    if spec.input_guard is not None and schema is None:
        raise InvalidInputError(f"{name}: the input guard has no schema and no monitor", field="guards.input")
    shadows = []
    for index, shadow in enumerate(spec.shadow):
        variant = load(shadow.ref)
        record = None
        if shadow.monitor is not None:
            watched = monitoring.get(shadow.monitor)
            shadow_recorder = MonitorRecorder(
                monitoring, watched, watched.features, interval=monitor_interval
            )
            record = _shadow_record(shadow_recorder, variant)
        shadows.append(
            ShadowRunner(
                variant,
                metrics,
                record=record,
                timeout=budget,
                evidence=evidence.for_shadow(f"shadow[{index}]", variant.version),
            )
        )
    gateway = Gateway(
        deployment,
        primary=primary,
        canary=canary,
        fallback_models=fallback,
        shadows=shadows,
        schema=schema,
        recorder=recorder,
        metrics=metrics,
        evidence=evidence,
        **({} if max_rows is None else {"max_rows": max_rows}),
    )
    log.info("deployment %s v%d serving %s", name, deployment.version, gateway.variants())
    return gateway


def _shadow_record(recorder: MonitorRecorder, variant: Variant) -> Record:
    def record(
        rows: Sequence[dict[str, Any]], answers: Sequence[Any], ids: Sequence[str], latency_ms: float
    ) -> None:
        recorder.add(
            [
                {
                    **row,
                    "answer": answer,
                    "id": row_id,
                    "_variant": "shadow",
                    "_model": variant.version,
                    "_latency_ms": latency_ms,
                }
                for row, answer, row_id in zip(rows, answers, ids, strict=True)
            ]
        )

    return record
