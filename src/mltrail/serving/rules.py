"""The gateway's pure decisions: which variant a request key gets, which rows break the input schema,
what a fallback rule answers, and what the output rules make of an answer. No I/O, no models."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail.entities import Condition, FallbackStep, OutputRule

__all__ = [
    "NO_ANSWER",
    "apply_output_rules",
    "canary_bucket",
    "holds",
    "is_valid_answer",
    "row_violations",
    "rule_answer",
]

NO_ANSWER = object()  # a rule that cannot answer this row (its feature is missing or not a number)


def canary_bucket(deployment: str, key: str) -> float:
    """The key's place in [0, 100): stable across processes and restarts (sha256, not ``hash``), so one
    customer sees one model while the canary share stays the same."""
    digest = hashlib.sha256(f"{deployment}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100.0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def holds(condition: Condition, row: Mapping[str, Any], prediction: Any) -> bool:
    """Whether the condition holds for the row (``prediction`` names the answer); a missing or
    incomparable value never satisfies it."""
    value = prediction if condition.column == "prediction" else row.get(condition.column)
    if isinstance(condition.value, str):
        if value is None:
            return False
        equal = str(value) == condition.value
        return equal if condition.op == "==" else not equal
    number = _number(value)
    if number is None:
        return False
    target = condition.value
    return {
        "<": number < target,
        "<=": number <= target,
        ">": number > target,
        ">=": number >= target,
        "==": number == target,
        "!=": number != target,
    }[condition.op]


def rule_answer(step: FallbackStep, row: Mapping[str, Any]) -> Any:
    """What a constant or threshold step answers for the row, or ``NO_ANSWER``."""
    if step.kind == "constant":
        return step.value
    assert step.feature is not None and step.threshold is not None
    number = _number(row.get(step.feature))
    if number is None:
        return NO_ANSWER
    return step.above if number >= step.threshold else step.below


def is_valid_answer(value: Any) -> bool:
    """A model answer the caller can be given: not missing, and finite if a number."""
    if value is None:
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    return True


def apply_output_rules(
    rules: Sequence[OutputRule], row: Mapping[str, Any], answer: Any
) -> tuple[Any, list[str]]:
    """The answer after the rules, in order, and the labels of those that changed it."""
    fired: list[str] = []
    for rule in rules:
        if rule.kind == "clip":
            number = _number(answer)
            if number is None:
                continue
            clipped = number
            if rule.min is not None and clipped < rule.min:
                clipped = rule.min
            if rule.max is not None and clipped > rule.max:
                clipped = rule.max
            if clipped != number:
                answer = clipped
                fired.append(rule.label)
        elif rule.when is not None and holds(rule.when, row, answer):
            answer = rule.then
            fired.append(rule.label)
    return answer, fired


def row_violations(row: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """The columns of ``row`` that break the validation schema (``services/monitoring/validation.py``'s
    rules: not null, numeric bounds, allowed categories), as ``column: rule``."""
    found: list[str] = []
    columns: Mapping[str, Any] = schema.get("columns", {})
    for name, rule in columns.items():
        value = row.get(name)
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        if missing:
            if rule.get("not_null"):
                found.append(f"{name}: null")
            continue
        kind = rule.get("kind")
        if kind == "numeric":
            number = _number(value)
            if number is None:
                found.append(f"{name}: wrong type")
                continue
            if rule.get("min") is not None and number < rule["min"]:
                found.append(f"{name}: below min")
            if rule.get("max") is not None and number > rule["max"]:
                found.append(f"{name}: above max")
        elif kind == "categorical" and rule.get("allowed") is not None:
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            if text not in rule["allowed"]:
                found.append(f"{name}: unknown category")
    return found
