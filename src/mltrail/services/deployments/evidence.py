"""Shadow and canary evidence: what serving gateways counted per variant, kept and read back per period.

Gateways send (``record``) each replica's whole counts of the minute windows they touched; the store
replaces a replica's rows of a window, so a send repeated after a timeout counts once. A read
(``evidence``) adds the windows of the period up per variant and model — counters summed, latency
sketches merged (``stats.latency_sketch``: exact merge, so percentiles are of all requests, never averages
of percentiles) — and adds the realized performance the deployment's monitor has from delayed labels (its
``_variant`` segments; a shadow's own monitor when it has one). ``served_as`` and ``role_evidence`` are what
the registry's ``evidence.…`` approval gates read (``services/registry/evidence_gates.py``).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mltrail.entities import (
    EVIDENCE_WINDOW_SECONDS,
    Deployment,
    DeploymentEvidence,
    EvidenceWindow,
    VariantCounts,
    VariantEvidence,
)
from mltrail.entities.deployment_evidence import VARIANT_ROLE, variant_role
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.monitoring.service import MonitoringService
from mltrail.stats.latency_sketch import LatencySketch
from mltrail.store.deployment_evidence import EvidenceStore

__all__ = ["MAX_WINDOWS", "EvidenceService", "merge_counts"]

MAX_WINDOWS = 1000  # per send
MAX_COUNTS = 64  # variants × models per window
MAX_AGE = 31 * 86400  # a window older than this is refused (a gateway's clock far off, or a replay)
MAX_AHEAD = 300
_REPLICA = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}:[0-9]{1,9}$")
_COUNTERS = ("requests", "rows", "errors", "fallbacks", "guarded", "dropped", "compared", "agreed", "numeric")


@dataclass(slots=True)
class _Sum:
    variant: str
    model: str
    counters: dict[str, int]
    abs_diff: float
    latency: LatencySketch
    first: float
    last: float


def merge_counts(
    windows: Iterable[EvidenceWindow], key: Callable[[VariantCounts], tuple[str, str]]
) -> list[_Sum]:
    """The counts of ``windows`` summed per ``key`` (variant and model, or a role), sketches merged."""
    sums: dict[tuple[str, str], _Sum] = {}
    for window in windows:
        for c in window.counts:
            k = key(c)
            found = sums.get(k)
            if found is None:
                found = sums[k] = _Sum(
                    k[0], k[1], dict.fromkeys(_COUNTERS, 0), 0.0, LatencySketch(), window.start, window.start
                )
            for name in _COUNTERS:
                found.counters[name] += getattr(c, name)
            found.abs_diff += c.abs_diff
            found.latency.merge(LatencySketch.from_dict(c.latency))
            found.first = min(found.first, window.start)
            found.last = max(found.last, window.start + EVIDENCE_WINDOW_SECONDS)
    return list(sums.values())


def _order(variant: str) -> tuple[int, str]:
    return ({"primary": 0, "canary": 1}.get(variant, 2), variant)


class EvidenceService:
    def __init__(
        self,
        store: EvidenceStore,
        deployments: Callable[[str], Deployment],
        monitoring: MonitoringService,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._deployment = deployments
        self._monitoring = monitoring
        self.clock = clock

    # -- gateways send --------------------------------------------------------------------------------------
    def record(self, name: str, windows: Sequence[EvidenceWindow]) -> int:
        """Keep what a gateway replica counted (each window's whole counts so far); rows written. A malformed
        window is a 400 naming its field (``windows[2].counts[0].rows``) and nothing is written."""
        deployment = self._deployment(name)
        if len(windows) > MAX_WINDOWS:
            raise InvalidInputError(
                f"at most {MAX_WINDOWS} windows per send, got {len(windows)}: send more often",
                field="windows",
            )
        now = self.clock()
        for i, window in enumerate(windows):
            _check_window(window, f"windows[{i}]", now, deployment.version)
        return self.store.put_evidence(name, windows)

    # -- reading --------------------------------------------------------------------------------------------
    def evidence(
        self, name: str, *, since: float | None = None, until: float | None = None
    ) -> DeploymentEvidence:
        """Per variant and model over [since, until) (default: since the current spec version was written,
        counting only its windows; until now), with realized performance from the monitors' labels."""
        deployment = self._deployment(name)
        now = self.clock()
        end = now if until is None else until
        if since is None:
            begin = deployment.current.time
            windows = self.store.list_evidence(name, spec_version=deployment.version, until=end)
        else:
            begin = since
            start = math.floor(since / EVIDENCE_WINDOW_SECONDS) * EVIDENCE_WINDOW_SECONDS
            windows = self.store.list_evidence(name, since=start, until=end)
        sums = merge_counts(windows, lambda c: (c.variant, c.model))
        models_per_variant: dict[str, int] = {}
        for s in sums:
            models_per_variant[s.variant] = models_per_variant.get(s.variant, 0) + 1
        kind = self._agreement_kind(deployment)
        variants = []
        for s in sorted(sums, key=lambda s: (*_order(s.variant), s.model)):
            single = models_per_variant[s.variant] == 1
            performance = self._performance(deployment, s.variant, begin, end) if single else None
            variants.append(_evidence(s, kind, performance))
        return DeploymentEvidence(name, deployment.version, begin, end, tuple(variants))

    def _agreement_kind(self, deployment: Deployment) -> str | None:
        """``mae`` for a regression monitor, ``classes`` for a classification one; None (decided by the
        answers: all floats → mae) without a monitor."""
        if deployment.spec.monitor is None:
            return None
        try:
            task = self._monitoring.get(deployment.spec.monitor).task
        except NotFoundError:
            return None
        return "mae" if task == "regression" else "classes"

    def _performance(
        self, deployment: Deployment, variant: str, since: float, until: float
    ) -> dict[str, Any] | None:
        """The variant's realized performance: the deployment monitor's ``_variant=`` segment for primary
        and canary, a shadow's own monitor when the spec gives it one; None without a monitor."""
        spec = deployment.spec
        segment = f"_variant={variant}"
        monitor = spec.monitor
        if variant.startswith("shadow["):
            index = int(variant[len("shadow[") : -1])
            monitor = spec.shadow[index].monitor if index < len(spec.shadow) else None
            segment = ""
        if monitor is None:
            return None
        try:
            task = self._monitoring.get(monitor).task
            figures = self._monitoring.labelled_performance(
                monitor, segment=segment, since=since, until=until
            )
        except NotFoundError:
            return None
        metric = "mae" if task == "regression" else "accuracy"
        labelled = int(figures.get("labeled", 0))
        return {"metric": metric, "value": figures.get(metric) if labelled else None, "labelled": labelled}

    # -- for the registry's evidence gates ---------------------------------------------------------------
    def served_as(self, model: str) -> list[tuple[str, str, float]]:
        found = []
        for deployment, variant, first in self.store.evidence_served(model):
            role = variant_role(variant)
            if role in ("shadow", "canary"):
                found.append((deployment, role, first))
        return found

    def role_evidence(
        self, deployment: str, role: str, model: str | None, since: float
    ) -> VariantEvidence | None:
        """The role's evidence in ``deployment`` from ``since`` to now, its variants and models merged
        (only ``model``'s rows when given); realized performance when one model held the role."""
        found = self._deployment(deployment)
        windows = self.store.list_evidence(deployment, since=since, model=model)
        picked = [
            EvidenceWindow(
                w.start,
                w.spec_version,
                w.replica,
                tuple(c for c in w.counts if variant_role(c.variant) == role),
            )
            for w in windows
        ]
        sums = merge_counts(picked, lambda c: (role, c.model if model is not None else "*"))
        if not sums:
            return None
        total = sums[0]
        variants = {c.variant for w in picked for c in w.counts}
        models = {c.model for w in picked for c in w.counts}
        performance = None
        if len(variants) == 1 and len(models) == 1:
            performance = self._performance(found, variants.pop(), since, self.clock())
        total.model = models.pop() if len(models) == 1 else "*"
        return _evidence(total, self._agreement_kind(found), performance)


def _evidence(s: _Sum, kind: str | None, performance: dict[str, Any] | None) -> VariantEvidence:
    c = s.counters
    agreement = None
    if variant_role(s.variant) == "shadow":
        compared = c["compared"]
        chosen = kind or ("mae" if compared and c["numeric"] == compared else "classes")
        if chosen == "mae":
            value = s.abs_diff / c["numeric"] if c["numeric"] else None
        else:
            value = c["agreed"] / compared if compared else None
        agreement = {"kind": chosen, "value": value, "compared": compared}
    p50, p95, p99 = s.latency.quantiles((0.5, 0.95, 0.99))
    return VariantEvidence(
        variant=s.variant,
        model=s.model,
        requests=c["requests"],
        rows=c["rows"],
        errors=c["errors"],
        fallbacks=c["fallbacks"],
        guarded=c["guarded"],
        dropped=c["dropped"],
        latency_ms={"p50": p50, "p95": p95, "p99": p99},
        agreement=agreement,
        performance=performance,
        first=s.first,
        last=s.last,
    )


def _count(value: Any, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise InvalidInputError(f"{field}: a count (a non-negative integer), got {value!r}", field=field)


def _check_window(window: EvidenceWindow, field: str, now: float, current_version: int) -> None:
    start = window.start
    if not isinstance(start, int | float) or not math.isfinite(start) or start % EVIDENCE_WINDOW_SECONDS:
        raise InvalidInputError(
            f"{field}.start: a multiple of {EVIDENCE_WINDOW_SECONDS} s, got {start!r}", field=f"{field}.start"
        )
    if not now - MAX_AGE <= start <= now + MAX_AHEAD:
        raise InvalidInputError(
            f"{field}.start: {start:.0f} is not within the last 31 days (is the gateway's clock right?)",
            field=f"{field}.start",
        )
    if not _REPLICA.match(window.replica or ""):
        raise InvalidInputError(
            f"{field}.replica: 1-64 letters, digits and ._:- , got {window.replica!r}",
            field=f"{field}.replica",
        )
    if not 1 <= window.spec_version <= current_version:
        raise InvalidInputError(
            f"{field}.spec_version: the deployment has versions 1 to {current_version},"
            f" got {window.spec_version}",
            field=f"{field}.spec_version",
        )
    if len(window.counts) > MAX_COUNTS:
        raise InvalidInputError(f"{field}.counts: at most {MAX_COUNTS} per window", field=f"{field}.counts")
    seen = set()
    for j, c in enumerate(window.counts):
        where = f"{field}.counts[{j}]"
        if not VARIANT_ROLE.match(c.variant):
            raise InvalidInputError(
                f"{where}.variant: primary, canary or shadow[i], got {c.variant!r}", field=f"{where}.variant"
            )
        if not _MODEL.match(c.model):
            raise InvalidInputError(f"{where}.model: NAME:VERSION, got {c.model!r}", field=f"{where}.model")
        if (c.variant, c.model) in seen:
            raise InvalidInputError(f"{where}: {c.variant} {c.model} twice in one window", field=where)
        seen.add((c.variant, c.model))
        for name in _COUNTERS:
            _count(getattr(c, name), f"{where}.{name}")
        if c.agreed > c.compared or c.numeric > c.compared or c.errors > c.rows:
            raise InvalidInputError(f"{where}: agreed, numeric ≤ compared and errors ≤ rows", field=where)
        if not isinstance(c.abs_diff, int | float) or not math.isfinite(c.abs_diff) or c.abs_diff < 0:
            raise InvalidInputError(f"{where}.abs_diff: a finite number ≥ 0", field=f"{where}.abs_diff")
        try:
            LatencySketch.from_dict(c.latency)
        except ValueError as exc:
            raise InvalidInputError(f"{where}.latency: {exc}", field=f"{where}.latency") from None
