"""The deployment gateway's entities: a deployment, its versioned spec and the spec's parts.

A spec says which registered models answer a deployment's requests and how: the ``primary`` (an alias or
stage reference such as ``churn@production``), a sticky ``canary`` share, ``shadow`` copies off the caller's
path, a ``fallback`` chain (model versions, then a rule), input and output ``guards``, a ``timeout_ms``
budget and the ``monitor`` every request feeds. ``DeploymentSpec.from_dict`` (``deployment_spec.py``)
parses the JSON form, naming the field of any mistake; ``to_dict`` writes it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEPLOYMENT_ACTIONS",
    "GATEWAY_COLUMNS",
    "ON_INVALID",
    "VARIANT_COLUMN",
    "Canary",
    "Condition",
    "Deployment",
    "DeploymentSpec",
    "DeploymentVersion",
    "FallbackStep",
    "InputGuard",
    "OutputRule",
    "Shadow",
]

# What a spec version records as its cause.
DEPLOYMENT_ACTIONS = ("created", "updated", "rolled_back", "promoted")
# The columns the gateway adds to each row it sends to a deployment's monitor: which variant answered
# (the monitor is segmented by it), the model version, the latency, the guards and the fallback step that
# fired. Monitoring counts none of them as an extra column.
VARIANT_COLUMN = "_variant"
GATEWAY_COLUMNS = (VARIANT_COLUMN, "_model", "_latency_ms", "_guards", "_fallback")
# What an input guard does with a row that breaks the validation schema.
ON_INVALID = ("reject", "impute", "fallback")


@dataclass(frozen=True, slots=True)
class Condition:
    """``amount > 10000``: a column of the request (or ``prediction``), a comparison and a literal."""

    column: str
    op: str  # < <= > >= == !=
    value: float | str

    @property
    def text(self) -> str:
        literal = repr(self.value) if isinstance(self.value, str) else f"{self.value:g}"
        return f"{self.column} {self.op} {literal}"


@dataclass(frozen=True, slots=True)
class Canary:
    """Another model reference answering ``percent`` of the request keys (sticky by a hash of the key)."""

    ref: str
    percent: float


@dataclass(frozen=True, slots=True)
class Shadow:
    """A model scoring a copy of every request off the caller's path; its answers go to the log and, when
    ``monitor`` names one, to that monitor — never to the caller."""

    ref: str
    monitor: str | None = None


@dataclass(frozen=True, slots=True)
class FallbackStep:
    """One link of the fallback chain: a model (``kind="model"``, ``ref``), a constant (``value``) or a
    threshold on one numeric feature (``feature`` ≥ ``threshold`` → ``above``, else ``below``)."""

    kind: str  # model | constant | threshold
    ref: str | None = None
    value: Any = None
    feature: str | None = None
    threshold: float | None = None
    above: Any = None
    below: Any = None

    @property
    def label(self) -> str:
        """How metrics and monitor rows name it: ``model:churn:2``, ``constant``, ``threshold:tenure``."""
        if self.kind == "model":
            return f"model:{self.ref}"
        if self.kind == "threshold":
            return f"threshold:{self.feature}"
        return "constant"


@dataclass(frozen=True, slots=True)
class InputGuard:
    """Rows that break the validation schema (the monitor's when ``schema`` is None) are rejected (the
    request gets a 422 naming the column), imputed (the column's value from ``defaults``) or answered by
    the fallback chain."""

    on_invalid: str = "reject"
    schema: dict[str, Any] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutputRule:
    """``clip`` a numeric output into [``min``, ``max``], or ``override`` it with ``then`` when ``when``
    holds for the row."""

    kind: str  # clip | override
    min: float | None = None
    max: float | None = None
    when: Condition | None = None
    then: Any = None

    @property
    def label(self) -> str:
        if self.kind == "clip":
            return "clip"
        assert self.when is not None
        return f"override:{self.when.text}"


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    primary: str
    canary: Canary | None = None
    shadow: tuple[Shadow, ...] = ()
    fallback: tuple[FallbackStep, ...] = ()
    input_guard: InputGuard | None = None
    output_rules: tuple[OutputRule, ...] = ()
    timeout_ms: float | None = None
    monitor: str | None = None
    # An alert rule with ``action: rollback:NAME`` may roll this deployment back by itself only when true.
    auto_rollback: bool = False

    def refs(self) -> list[tuple[str, str]]:
        """Every model reference with the field that holds it: ``("primary", "churn@production")``, …"""
        found = [("primary", self.primary)]
        if self.canary is not None:
            found.append(("canary.ref", self.canary.ref))
        found += [(f"shadow[{i}].ref", s.ref) for i, s in enumerate(self.shadow)]
        found += [(f"fallback[{i}].model", f.ref) for i, f in enumerate(self.fallback) if f.ref is not None]
        return found

    @classmethod
    def from_dict(cls, data: Any) -> DeploymentSpec:
        from mltrail.entities.deployment_spec import parse_spec

        return parse_spec(data)

    def to_dict(self) -> dict[str, Any]:
        from mltrail.entities.deployment_spec import spec_to_dict

        return spec_to_dict(self)


@dataclass(frozen=True, slots=True)
class DeploymentVersion:
    """One version of a deployment's spec: never changed once written, it is the deployment's audit trail
    (who, when, from where, why, and the model versions its references named then)."""

    deployment: str
    version: int
    spec: DeploymentSpec
    action: str  # one of DEPLOYMENT_ACTIONS
    user: str | None
    time: float
    comment: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    client: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Deployment:
    """A named deployment in a project (its primary model's) with its current spec version."""

    name: str
    project: str
    created_at: float
    created_by: str | None
    current: DeploymentVersion

    @property
    def version(self) -> int:
        return self.current.version

    @property
    def spec(self) -> DeploymentSpec:
        return self.current.spec
