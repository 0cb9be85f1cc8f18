"""Bodies of ``/api/v1/deployments/{name}/evidence``: what a gateway replica sends (``EvidenceIn``) and
the evidence per variant read back (``EvidencePublic``). docs/API.md and docs/DEPLOYMENTS.md describe them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mltrail.api.tracking.schemas import _In, _Out
from mltrail.entities import DeploymentEvidence, EvidenceWindow, VariantCounts
from mltrail.services.deployments.evidence import MAX_WINDOWS

__all__ = ["EvidenceIn", "EvidencePublic", "EvidenceWritten"]

_COUNT = Field(0, ge=0, lt=2**53)


class CountsIn(_In):
    variant: str = Field(max_length=32, description="primary, canary or shadow[i]")
    model: str = Field(max_length=200, description="the model version that answered, e.g. churn:3")
    requests: int = _COUNT
    rows: int = _COUNT
    errors: int = _COUNT
    fallbacks: int = _COUNT
    guarded: int = _COUNT
    dropped: int = _COUNT
    compared: int = _COUNT
    agreed: int = _COUNT
    numeric: int = _COUNT
    abs_diff: float = Field(0.0, ge=0)
    latency: dict[str, Any] = Field(
        default_factory=dict, description="a latency sketch in ms: {accuracy, zeros, sum, buckets}"
    )


class WindowIn(_In):
    start: float = Field(description="the minute window's start, epoch seconds (a multiple of 60)")
    spec_version: int = Field(ge=1, le=2**31)
    counts: list[CountsIn] = Field(max_length=64)


class EvidenceIn(_In):
    replica: str = Field(
        max_length=64, description="the gateway process that counted (its rows are replaced)"
    )
    windows: list[WindowIn] = Field(max_length=MAX_WINDOWS)

    def entities(self) -> list[EvidenceWindow]:
        return [
            EvidenceWindow(
                start=w.start,
                spec_version=w.spec_version,
                replica=self.replica,
                counts=tuple(VariantCounts(**c.model_dump()) for c in w.counts),
            )
            for w in self.windows
        ]


class EvidenceWritten(_Out):
    rows: int


class AgreementPublic(_Out):
    kind: Literal["classes", "mae"]
    value: float | None
    compared: int


class PerformancePublic(_Out):
    metric: str
    value: float | None
    labelled: int


class VariantEvidencePublic(_Out):
    variant: str
    model: str
    requests: int
    rows: int
    errors: int
    error_rate: float | None
    fallback_rate: float | None
    guard_rate: float | None
    dropped: int
    latency_ms: dict[str, float | None]
    agreement: AgreementPublic | None
    performance: PerformancePublic | None


class EvidencePublic(_Out):
    deployment: str
    version: int
    since: float
    until: float
    variants: list[VariantEvidencePublic]

    @classmethod
    def of(cls, e: DeploymentEvidence) -> EvidencePublic:
        return cls.model_validate(e.to_dict())
