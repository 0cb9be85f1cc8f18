"""``build_gateway``: a deployment's ``Gateway`` from ``Settings`` — the spec read and every model loaded
through ``mltrail.connect()`` (the embedded store or a team server), the monitor opened. ``RegistrySource``:
the same, plus what the poller of ``serving/reload.py`` needs (what the deployment names now, and the alert
for a refused reload)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from mltrail.entities import EVENT_METRICS
from mltrail.errors import InvalidInputError
from mltrail.sdk.client.connection import connect
from mltrail.sdk.registry import models
from mltrail.serving.evidence import EvidenceCollector
from mltrail.serving.gateway import Gateway
from mltrail.serving.metrics import GatewayMetrics
from mltrail.serving.recorder import MonitorRecorder
from mltrail.serving.reload import Fingerprint
from mltrail.serving.shadow import Record, ShadowRunner
from mltrail.serving.variants import Variant, load_variant
from mltrail.settings import Settings

__all__ = ["RegistrySource", "build_gateway"]

log = logging.getLogger("mltrail.serving")


def build_gateway(
    settings: Settings,
    name: str,
    *,
    trust: bool = False,
    max_rows: int | None = None,
    monitor_interval: float = 1.0,
    evidence_interval: float = 2.0,
    previous: Gateway | None = None,
) -> Gateway:
    """The gateway of ``name`` as its spec and references stand now. ``previous``: the gateway it replaces,
    whose metrics it continues and whose monitor recorder it takes over when the monitor is the same (the
    rows queued there are never dropped or sent twice)."""
    connection = connect(settings=settings)
    deployment = connection.deployments().get(name)
    spec = deployment.spec
    metrics = GatewayMetrics(name) if previous is None else previous.metrics
    budget = None if spec.timeout_ms is None else spec.timeout_ms / 1000

    def load(ref: str) -> Variant:
        return load_variant(ref, settings, trust=trust)

    # Everything that can fail (a model missing or tampered, a monitor gone) comes before any thread is
    # started, so a refused reload leaves nothing running behind it.
    primary = load(spec.primary)
    canary = None if spec.canary is None else load(spec.canary.ref)
    fallback = {i: load(step.ref) for i, step in enumerate(spec.fallback) if step.ref is not None}
    shadow_variants = [load(shadow.ref) for shadow in spec.shadow]
    monitoring = connection.monitoring
    watched = [None if s.monitor is None else monitoring.get(s.monitor) for s in spec.shadow]
    monitor = None if spec.monitor is None else monitoring.get(spec.monitor)
    schema = None if spec.input_guard is None else spec.input_guard.schema
    if monitor is not None and schema is None and spec.input_guard is not None:
        schema = monitor.schema
    if spec.input_guard is not None and schema is None:
        raise InvalidInputError(f"{name}: the input guard has no schema and no monitor", field="guards.input")
    recorder = None
    if monitor is not None:
        kept = None if previous is None else previous.recorder
        if kept is not None and kept.entity.id == monitor.id and kept.columns == tuple(monitor.features):
            recorder = kept
        else:
            recorder = MonitorRecorder(monitoring, monitor, monitor.features, interval=monitor_interval)
    deployments = connection.deployments()
    evidence = EvidenceCollector(
        name,
        deployment.version,
        lambda windows: deployments.record_evidence(name, windows),
        interval=evidence_interval,
    )
    shadows = []
    for index, (variant, shadow_monitor) in enumerate(zip(shadow_variants, watched, strict=True)):
        record = None
        if shadow_monitor is not None:
            shadow_recorder = MonitorRecorder(
                monitoring, shadow_monitor, shadow_monitor.features, interval=monitor_interval
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


class RegistrySource:
    """A deployment as the store or team server of ``settings`` describes it: built into a ``Gateway``,
    looked at by the poller (the spec's version and the version each reference resolves to), and told
    when a reload was refused (an alert on the deployment's monitor)."""

    def __init__(self, settings: Settings, name: str, *, trust: bool = False) -> None:
        self.settings = settings
        self.name = name
        self.trust = trust

    def build(self, previous: Gateway | None) -> Gateway:
        return build_gateway(self.settings, self.name, trust=self.trust, previous=previous)

    def look(self) -> Fingerprint:
        deployment = connect(settings=self.settings).deployments().get(self.name)
        resolved = set()
        for _, ref in deployment.spec.refs():
            version = models.get(ref, settings=self.settings)
            resolved.add((ref, f"{version.model}:{version.version}"))
        return deployment.version, tuple(sorted(resolved))

    def refused(self, serving: Gateway, detail: str) -> str | None:
        """Raise the ``gateway.reload_failed`` alert on the monitor of the spec being served (else on the
        new spec's, when it names one that exists); where it was raised, or None without a monitor."""
        monitoring = connect(settings=self.settings).monitoring
        names = [serving.spec.monitor]
        try:
            names.append(connect(settings=self.settings).deployments().get(self.name).spec.monitor)
        except Exception:
            log.debug("could not read %s's new spec for its monitor", self.name, exc_info=True)
        for monitor_name in names:
            if monitor_name is None:
                continue
            monitor = monitoring.get(monitor_name)
            alert = monitoring.raise_event(monitor, EVENT_METRICS[0], f"deployment {self.name}: {detail}")
            return f"alert {alert.id} on monitor {monitor.name}"
        return None
