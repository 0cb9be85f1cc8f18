"""What a gateway observed of each variant of a deployment: counts per minute window and replica
(``VariantCounts``, ``EvidenceWindow``), and their sum over a period (``VariantEvidence``).

A gateway process (a *replica*) sends, every few seconds, the whole counts so far of each minute window
it touched; the store keeps one row per (deployment, replica, window, spec version, variant, model)
and replaces it on each send, so a repeated send never counts twice. Reads add the rows of a period up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EVIDENCE_WINDOW_SECONDS",
    "VARIANT_ROLE",
    "DeploymentEvidence",
    "EvidenceWindow",
    "VariantCounts",
    "VariantEvidence",
    "variant_role",
]

EVIDENCE_WINDOW_SECONDS = 60
# primary, canary, or the i-th shadow of the spec: shadow[0], shadow[1], …
VARIANT_ROLE = re.compile(r"^(primary|canary|shadow\[[0-9]{1,2}\])$")


def variant_role(variant: str) -> str:
    """``shadow[1]`` → ``shadow``; ``primary`` and ``canary`` as they are."""
    return "shadow" if variant.startswith("shadow[") else variant


@dataclass(frozen=True, slots=True)
class VariantCounts:
    """One variant's counts in one window of one replica.

    ``rows`` the variant was asked for (for a shadow: the rows of the copies it took); ``errors`` of them
    the model failed (an exception, the budget spent, an answer missing or not finite); ``fallbacks``
    answered by the fallback chain (errors and rows an input guard sent there); ``guarded`` rows on which
    a guard fired; ``dropped`` shadow copies' rows its full queue turned away. ``compared`` shadow rows set
    beside the caller's answer, ``agreed`` of them equal, and of the ``numeric`` pairs (both numbers) the
    sum of absolute differences ``abs_diff``. ``latency`` is a ``stats.latency_sketch`` in milliseconds:
    the request's whole time in the gateway for primary and canary, the model's time for a shadow.
    """

    variant: str
    model: str
    requests: int = 0
    rows: int = 0
    errors: int = 0
    fallbacks: int = 0
    guarded: int = 0
    dropped: int = 0
    compared: int = 0
    agreed: int = 0
    numeric: int = 0
    abs_diff: float = 0.0
    latency: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EvidenceWindow:
    """The counts one replica holds for one minute window (``start``, a multiple of 60) of one spec
    version of a deployment."""

    start: float
    spec_version: int
    replica: str
    counts: tuple[VariantCounts, ...]


@dataclass(frozen=True, slots=True)
class VariantEvidence:
    """A variant's counts summed over a period and every replica, with what follows from them."""

    variant: str
    model: str
    requests: int
    rows: int
    errors: int
    fallbacks: int
    guarded: int
    dropped: int
    latency_ms: dict[str, float | None]  # p50, p95, p99 of the merged sketches
    agreement: dict[str, Any] | None  # {"kind": "classes" | "mae", "value", "compared"}; shadows only
    performance: dict[str, Any] | None  # {"metric", "value", "labelled"} from the monitor; or None
    first: float  # the start of the first window and the end of the last one with counts
    last: float

    def _rate(self, n: int) -> float | None:
        return n / self.rows if self.rows else None

    @property
    def error_rate(self) -> float | None:
        return self._rate(self.errors)

    @property
    def fallback_rate(self) -> float | None:
        return self._rate(self.fallbacks)

    @property
    def guard_rate(self) -> float | None:
        return self._rate(self.guarded)

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "model": self.model,
            "requests": self.requests,
            "rows": self.rows,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "fallback_rate": self.fallback_rate,
            "guard_rate": self.guard_rate,
            "dropped": self.dropped,
            "latency_ms": dict(self.latency_ms),
            "agreement": None if self.agreement is None else dict(self.agreement),
            "performance": None if self.performance is None else dict(self.performance),
        }


@dataclass(frozen=True, slots=True)
class DeploymentEvidence:
    """A deployment's evidence over [since, until): one entry per variant and model."""

    deployment: str
    version: int
    since: float
    until: float
    variants: tuple[VariantEvidence, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "version": self.version,
            "since": self.since,
            "until": self.until,
            "variants": [v.to_dict() for v in self.variants],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeploymentEvidence:
        """``to_dict``'s form back (as the API sends it)."""
        since, until = float(data["since"]), float(data["until"])
        variants = tuple(
            VariantEvidence(
                variant=v["variant"],
                model=v["model"],
                requests=int(v["requests"]),
                rows=int(v["rows"]),
                errors=int(v["errors"]),
                fallbacks=round((v["fallback_rate"] or 0.0) * int(v["rows"])),
                guarded=round((v["guard_rate"] or 0.0) * int(v["rows"])),
                dropped=int(v.get("dropped", 0)),
                latency_ms=dict(v["latency_ms"]),
                agreement=None if v["agreement"] is None else dict(v["agreement"]),
                performance=None if v["performance"] is None else dict(v["performance"]),
                first=since,
                last=until,
            )
            for v in data["variants"]
        )
        return cls(data["deployment"], int(data["version"]), since, until, variants)
