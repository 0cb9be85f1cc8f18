"""Approval gates on serving evidence: ``evidence.shadow.requests >= 10000``,
``evidence.shadow.agreement >= 0.95``, ``evidence.shadow.error_rate <= evidence.primary.error_rate``.

A gate names a role (``shadow`` or ``canary``: the version under approval serving as such; ``primary``:
whatever answered beside it in the same deployment), a figure of that role's evidence, a comparison and a
number or another role's figure. The evidence is the version's in a deployment where it served as shadow
or canary, from its first window there; with several such deployments, the gates pass when they all
pass in one of them. The evidence itself comes from an ``EvidenceSource`` (the deployments area's
``EvidenceService``), injected by the composition root so that the registry needs no deployment code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from mltrail.entities import GateResult, VariantEvidence
from mltrail.errors import InvalidInputError

__all__ = [
    "EVIDENCE_FIGURES",
    "EvidenceGate",
    "EvidenceSource",
    "evaluate_evidence_gates",
    "is_evidence_gate",
    "parse_evidence_gate",
]

PREFIX = "evidence."
ROLES = ("primary", "canary", "shadow")
SUBJECT_ROLES = ("canary", "shadow")  # the roles the version under approval can have served in

_Figure = Callable[[VariantEvidence], float | None]


def _agreement(e: VariantEvidence) -> float | None:
    return None if e.agreement is None else e.agreement.get("value")


def _compared(e: VariantEvidence) -> float | None:
    return None if e.agreement is None else float(e.agreement.get("compared", 0))


def _performance(e: VariantEvidence) -> float | None:
    return None if e.performance is None else e.performance.get("value")


def _labelled(e: VariantEvidence) -> float | None:
    return None if e.performance is None else float(e.performance.get("labelled", 0))


EVIDENCE_FIGURES: dict[str, _Figure] = {
    "requests": lambda e: float(e.requests),
    "rows": lambda e: float(e.rows),
    "errors": lambda e: float(e.errors),
    "dropped": lambda e: float(e.dropped),
    "error_rate": lambda e: e.error_rate,
    "fallback_rate": lambda e: e.fallback_rate,
    "guard_rate": lambda e: e.guard_rate,
    "latency_p50": lambda e: e.latency_ms.get("p50"),
    "latency_p95": lambda e: e.latency_ms.get("p95"),
    "latency_p99": lambda e: e.latency_ms.get("p99"),
    "agreement": _agreement,
    "compared": _compared,
    "performance": _performance,
    "labelled": _labelled,
}
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}
_OPERAND = r"evidence\.([a-z]+)\.([a-z_0-9]+)"
_GATE = re.compile(rf"^\s*{_OPERAND}\s*(<=|>=|==|!=|<|>)\s*(?:{_OPERAND}|([-+]?[0-9][0-9_.eE+-]*))\s*$")


@dataclass(frozen=True, slots=True)
class EvidenceGate:
    text: str
    role: str
    figure: str
    op: str
    number: float | None = None  # the right side: a number, or another role's figure
    other_role: str | None = None
    other_figure: str | None = None

    @property
    def subjects(self) -> set[str]:
        return {r for r in (self.role, self.other_role) if r in SUBJECT_ROLES}


def is_evidence_gate(gate: str) -> bool:
    return gate.strip().startswith(PREFIX)


def _check_operand(role: str, figure: str, gate: str) -> None:
    if role not in ROLES:
        raise InvalidInputError(
            f"gate {gate!r}: unknown role {role!r} (known: {', '.join(ROLES)})", field="gates"
        )
    if figure not in EVIDENCE_FIGURES:
        raise InvalidInputError(
            f"gate {gate!r}: unknown figure {figure!r} (known: {', '.join(EVIDENCE_FIGURES)})", field="gates"
        )


def parse_evidence_gate(gate: str) -> EvidenceGate:
    """``evidence.ROLE.FIGURE OP NUMBER`` or ``… OP evidence.ROLE.FIGURE``; a mistake is a 400 naming
    ``gates`` and saying what is allowed."""
    match = _GATE.match(gate)
    if match is None:
        raise InvalidInputError(
            f"gate {gate!r}: an evidence gate is evidence.ROLE.FIGURE OP NUMBER or OP evidence.ROLE.FIGURE,"
            " e.g. 'evidence.shadow.agreement >= 0.95' or"
            " 'evidence.shadow.error_rate <= evidence.primary.error_rate'",
            field="gates",
        )
    role, figure, op, other_role, other_figure, literal = match.groups()
    _check_operand(role, figure, gate)
    number = None
    if other_role is not None:
        _check_operand(other_role, other_figure, gate)
    else:
        try:
            number = float(literal.replace("_", ""))
        except ValueError:
            raise InvalidInputError(f"gate {gate!r}: {literal!r} is not a number", field="gates") from None
        if not math.isfinite(number):
            raise InvalidInputError(f"gate {gate!r}: the number must be finite", field="gates")
    parsed = EvidenceGate(gate, role, figure, op, number, other_role, other_figure)
    if not parsed.subjects:
        raise InvalidInputError(
            f"gate {gate!r}: name the version's own role, shadow or canary (primary is what it is compared"
            " with)",
            field="gates",
        )
    return parsed


class EvidenceSource(Protocol):
    def served_as(self, model: str) -> list[tuple[str, str, float]]:
        """(deployment, role ``shadow`` | ``canary``, start of its first window) where the model version
        ``model`` (``churn:7``) has evidence."""
        ...

    def role_evidence(
        self, deployment: str, role: str, model: str | None, since: float
    ) -> VariantEvidence | None:
        """The role's evidence in the deployment since ``since``, merged over its variants (of ``model``
        when given); None without any."""
        ...


def _fmt(value: float | None) -> str:
    if value is None:
        return "no value"
    return f"{value:,.0f}" if value == int(value) and abs(value) >= 1000 else f"{value:.4g}"


def evaluate_evidence_gates(
    gates: Sequence[str], source: EvidenceSource | None, model: str
) -> list[GateResult]:
    """Each evidence gate of a policy for the version ``model``: passed when the version's evidence in
    one deployment meets every one of them; the detail names the deployment and the figures seen."""
    parsed = [parse_evidence_gate(g) for g in gates if is_evidence_gate(g)]
    if not parsed:
        return []
    served = [] if source is None else source.served_as(model)
    if not served:
        reason = (
            f"failed: {model} has not served as shadow or canary in any deployment yet: no evidence"
            if source is not None
            else "failed: this registry has no deployment evidence to read"
        )
        return [GateResult(g.text, False, reason) for g in parsed]
    assert source is not None
    firsts: dict[str, float] = {}
    for deployment, _, first in served:
        firsts[deployment] = min(first, firsts.get(deployment, first))
    best: list[GateResult] = []
    for deployment, since in firsts.items():
        evidence = _RoleEvidence(source, deployment, model, since)
        results = [_one(g, evidence, deployment) for g in parsed]
        if all(r.passed for r in results):
            return results
        if not best or sum(r.passed for r in results) > sum(r.passed for r in best):
            best = results
    return best


class _RoleEvidence:
    """One deployment's evidence per role, each read once."""

    def __init__(self, source: EvidenceSource, deployment: str, model: str, since: float) -> None:
        self._source = source
        self._deployment = deployment
        self._model = model
        self._since = since
        self._read: dict[str, VariantEvidence | None] = {}

    def __call__(self, role: str) -> VariantEvidence | None:
        if role not in self._read:
            model = None if role == "primary" else self._model
            self._read[role] = self._source.role_evidence(self._deployment, role, model, self._since)
        return self._read[role]


def _value(evidence: Callable[[str], VariantEvidence | None], role: str, figure: str) -> float | None:
    found = evidence(role)
    return None if found is None else EVIDENCE_FIGURES[figure](found)


def _one(
    gate: EvidenceGate, evidence: Callable[[str], VariantEvidence | None], deployment: str
) -> GateResult:
    left = _value(evidence, gate.role, gate.figure)
    if gate.other_role is not None:
        assert gate.other_figure is not None
        right = _value(evidence, gate.other_role, gate.other_figure)
        right_text = f"{gate.other_role}.{gate.other_figure} = {_fmt(right)}"
    else:
        right = gate.number
        right_text = _fmt(right)
    seen = f"{gate.role}.{gate.figure} = {_fmt(left)}"
    where = f"in deployment {deployment!r}"
    if left is None or right is None:
        missing = gate.role if left is None else gate.other_role
        role_seen = evidence(missing) if missing is not None else None
        why = (
            "no traffic"
            if role_seen is None
            else f"{gate.figure if left is None else gate.other_figure} not known yet"
        )
        return GateResult(
            gate.text,
            False,
            f"failed: {seen}, {gate.op} {right_text} cannot be checked ({missing}: {why}) {where}",
        )
    passed = _OPS[gate.op](left, right)
    verdict = "passed" if passed else "failed"
    need = "" if passed else f", needs {gate.op} {right_text}"
    against = f" {gate.op} {right_text}" if passed else ""
    return GateResult(gate.text, passed, f"{verdict}: {seen}{against}{need} {where}")
