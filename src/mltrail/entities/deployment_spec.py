"""A deployment spec's JSON form: ``parse_spec`` (every mistake an ``InvalidInputError`` naming its field,
e.g. ``canary.percent``) and ``spec_to_dict``. The model references are checked here for shape only; the
deployment service resolves them through the registry.

::

    {"primary": "churn@production",
     "canary": {"ref": "churn@challenger", "percent": 10},
     "shadow": ["churn:7", {"ref": "churn@next", "monitor": "churn-next-shadow"}],
     "fallback": [{"model": "churn:2"},
                  {"rule": "threshold", "feature": "tenure", "threshold": 12, "above": 0, "below": 1}],
     "guards": {"input": {"on_invalid": "fallback"},
                "output": [{"clip": {"min": 0, "max": 1}},
                           {"when": "amount > 10000", "then": "manual_review"}]},
     "timeout_ms": 200,
     "monitor": "churn-production"}
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from mltrail.comparisons import parse_literal, split_comparison
from mltrail.entities.deployments import (
    ON_INVALID,
    Canary,
    Condition,
    DeploymentSpec,
    FallbackStep,
    InputGuard,
    OutputRule,
    Shadow,
)
from mltrail.errors import InvalidInputError

__all__ = ["MAX_SHADOWS", "parse_condition", "parse_spec", "spec_to_dict"]

MAX_SHADOWS = 8
MAX_FALLBACK = 8
MAX_OUTPUT_RULES = 32
MAX_TIMEOUT_MS = 600_000.0
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}([:@][A-Za-z0-9_-]{1,64})?$")
_TOP = {"primary", "canary", "shadow", "fallback", "guards", "timeout_ms", "monitor", "auto_rollback"}


def _fail(message: str, field: str) -> InvalidInputError:
    return InvalidInputError(f"{field}: {message}", field=field)


def _object(value: Any, field: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(f"must be an object, got {type(value).__name__}", field)
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise _fail(
            f"unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})", f"{field}.{unknown[0]}"
        )
    return value


def _ref(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _REF.match(value.strip()):
        raise _fail(
            "a model reference is NAME@ALIAS, NAME@STAGE or NAME:VERSION (e.g. churn@production),"
            f" got {value!r}",
            field,
        )
    return value.strip()


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(f"must be a finite number, got {value!r}", field)
    return float(value)


def _scalar(value: Any, field: str) -> Any:
    """An answer a rule gives: a number, text, a boolean or null (what JSON carries to the caller)."""
    if value is None or isinstance(value, bool | str):
        return value
    return _number(value, field) if not isinstance(value, int) else value


def _name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise _fail(f"must be a non-empty name of at most 200 characters, got {value!r}", field)
    return value.strip()


def parse_condition(text: Any, field: str = "when") -> Condition:
    """``amount > 10000``, ``country == "FR"``, ``prediction >= 0.9``."""
    parts = split_comparison(text)
    if parts is None or parts[1] == "=":
        raise _fail(f"a condition is COLUMN OP VALUE with OP one of < <= > >= == != (got {text!r})", field)
    column, op, literal = parts
    try:
        value = parse_literal(literal)
    except ValueError as exc:
        raise _fail(str(exc), field) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(f"{literal!r} is not a finite number", field)
    if isinstance(value, str) and op not in ("==", "!="):
        raise _fail("only == and != compare text", field)
    return Condition(column, op, value)


def _canary(value: Any) -> Canary | None:
    if value is None:
        return None
    data = _object(value, "canary", {"ref", "percent"})
    percent = _number(data.get("percent"), "canary.percent")
    if not 0 < percent < 100:
        raise _fail("must be above 0 and below 100 (the canary's share of request keys)", "canary.percent")
    return Canary(_ref(data.get("ref"), "canary.ref"), percent)


def _shadows(value: Any) -> tuple[Shadow, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail("must be a list of model references", "shadow")
    if len(value) > MAX_SHADOWS:
        raise _fail(f"at most {MAX_SHADOWS} shadows", "shadow")
    found = []
    for i, item in enumerate(value):
        where = f"shadow[{i}]"
        if isinstance(item, str):
            found.append(Shadow(_ref(item, where)))
            continue
        data = _object(item, where, {"ref", "monitor"})
        monitor = data.get("monitor")
        found.append(
            Shadow(
                _ref(data.get("ref"), f"{where}.ref"),
                None if monitor is None else _name(monitor, f"{where}.monitor"),
            )
        )
    return tuple(found)


def _fallback(value: Any) -> tuple[FallbackStep, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(
            "must be a list of steps: {model: REF}, {rule: constant, …} or {rule: threshold, …}", "fallback"
        )
    if len(value) > MAX_FALLBACK:
        raise _fail(f"at most {MAX_FALLBACK} steps", "fallback")
    steps: list[FallbackStep] = []
    for i, item in enumerate(value):
        where = f"fallback[{i}]"
        if steps and steps[-1].kind == "constant":
            raise _fail("comes after a constant, which always answers: it would never be used", where)
        if not isinstance(item, Mapping):
            raise _fail("must be an object", where)
        if "model" in item:
            _object(item, where, {"model"})
            steps.append(FallbackStep("model", ref=_ref(item["model"], f"{where}.model")))
        elif item.get("rule") == "constant":
            data = _object(item, where, {"rule", "value"})
            if "value" not in data:
                raise _fail("a constant rule needs a value", f"{where}.value")
            steps.append(FallbackStep("constant", value=_scalar(data["value"], f"{where}.value")))
        elif item.get("rule") == "threshold":
            data = _object(item, where, {"rule", "feature", "threshold", "above", "below"})
            for key in ("above", "below"):
                if key not in data:
                    raise _fail(f"a threshold rule needs {key!r} (the answer on that side)", f"{where}.{key}")
            steps.append(
                FallbackStep(
                    "threshold",
                    feature=_name(data.get("feature"), f"{where}.feature"),
                    threshold=_number(data.get("threshold"), f"{where}.threshold"),
                    above=_scalar(data["above"], f"{where}.above"),
                    below=_scalar(data["below"], f"{where}.below"),
                )
            )
        else:
            raise _fail("a step is {model: REF} or has rule: constant or rule: threshold", where)
    return tuple(steps)


def _input_guard(value: Any) -> InputGuard | None:
    if value is None:
        return None
    data = _object(value, "guards.input", {"on_invalid", "schema", "defaults"})
    on_invalid = data.get("on_invalid", "reject")
    if on_invalid not in ON_INVALID:
        raise _fail(f"must be one of {', '.join(ON_INVALID)}, got {on_invalid!r}", "guards.input.on_invalid")
    schema = data.get("schema")
    if schema is not None:
        columns = schema.get("columns") if isinstance(schema, Mapping) else None
        if not isinstance(columns, Mapping) or not columns:
            raise _fail(
                "must be a validation schema: {columns: {name: rules}, allow_extra}", "guards.input.schema"
            )
        for name, rule in columns.items():
            where = f"guards.input.schema.columns.{name}"
            rule = _object(rule, where, {"kind", "not_null", "min", "max", "allowed"})
            if rule.get("kind", "numeric") not in ("numeric", "categorical", "other", "null"):
                raise _fail("kind must be numeric or categorical", f"{where}.kind")
            for bound in ("min", "max"):
                if rule.get(bound) is not None:
                    _number(rule[bound], f"{where}.{bound}")
            allowed = rule.get("allowed")
            if allowed is not None and not (
                isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)
            ):
                raise _fail("must be a list of strings", f"{where}.allowed")
        schema = {
            "columns": {str(k): dict(v) for k, v in columns.items()},
            "allow_extra": bool(schema.get("allow_extra")),
        }
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise _fail("must be an object of column → default value", "guards.input.defaults")
    clean = {str(k): _scalar(v, f"guards.input.defaults.{k}") for k, v in defaults.items()}
    if on_invalid == "impute" and not clean:
        raise _fail("imputing needs a default per column it may fill in", "guards.input.defaults")
    return InputGuard(on_invalid, schema, clean)


def _output_rules(value: Any) -> tuple[OutputRule, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(
            "must be a list of rules: {clip: {min, max}} or {when: CONDITION, then: VALUE}", "guards.output"
        )
    if len(value) > MAX_OUTPUT_RULES:
        raise _fail(f"at most {MAX_OUTPUT_RULES} rules", "guards.output")
    rules = []
    for i, item in enumerate(value):
        where = f"guards.output[{i}]"
        if isinstance(item, Mapping) and "clip" in item:
            _object(item, where, {"clip"})
            bounds = _object(item["clip"], f"{where}.clip", {"min", "max"})
            lo = None if bounds.get("min") is None else _number(bounds["min"], f"{where}.clip.min")
            hi = None if bounds.get("max") is None else _number(bounds["max"], f"{where}.clip.max")
            if lo is None and hi is None:
                raise _fail("needs min, max or both", f"{where}.clip")
            if lo is not None and hi is not None and lo > hi:
                raise _fail(f"min {lo:g} is above max {hi:g}", f"{where}.clip")
            rules.append(OutputRule("clip", min=lo, max=hi))
        elif isinstance(item, Mapping) and "when" in item:
            data = _object(item, where, {"when", "then"})
            if "then" not in data:
                raise _fail("an override needs then (the answer when the condition holds)", f"{where}.then")
            rules.append(
                OutputRule(
                    "override",
                    when=parse_condition(data["when"], f"{where}.when"),
                    then=_scalar(data["then"], f"{where}.then"),
                )
            )
        else:
            raise _fail("a rule is {clip: {min, max}} or {when: CONDITION, then: VALUE}", where)
    return tuple(rules)


def parse_spec(data: Any) -> DeploymentSpec:
    """The spec ``data`` describes (the JSON form above), or ``InvalidInputError`` naming the field."""
    spec = _object(data, "spec", _TOP)
    if "primary" not in spec:
        raise _fail("is required: the model reference that answers, e.g. churn@production", "primary")
    guards = _object(spec.get("guards") or {}, "guards", {"input", "output"})
    timeout = spec.get("timeout_ms")
    if timeout is not None:
        timeout = _number(timeout, "timeout_ms")
        if not 0 < timeout <= MAX_TIMEOUT_MS:
            raise _fail(f"must be above 0 and at most {MAX_TIMEOUT_MS:g} ms", "timeout_ms")
    monitor = spec.get("monitor")
    auto_rollback = spec.get("auto_rollback", False)
    if not isinstance(auto_rollback, bool):
        raise _fail("must be true or false", "auto_rollback")
    parsed = DeploymentSpec(
        primary=_ref(spec["primary"], "primary"),
        canary=_canary(spec.get("canary")),
        shadow=_shadows(spec.get("shadow")),
        fallback=_fallback(spec.get("fallback")),
        input_guard=_input_guard(guards.get("input")),
        output_rules=_output_rules(guards.get("output")),
        timeout_ms=timeout,
        monitor=None if monitor is None else _name(monitor, "monitor"),
        auto_rollback=auto_rollback,
    )
    guard = parsed.input_guard
    if guard is not None and guard.on_invalid == "fallback" and not parsed.fallback:
        raise _fail(
            "sends invalid rows to the fallback, but the spec has no fallback chain",
            "guards.input.on_invalid",
        )
    if guard is not None and guard.schema is None and parsed.monitor is None:
        raise _fail("needs a schema, or a monitor whose validation schema it uses", "guards.input.schema")
    return parsed


def _step_dict(step: FallbackStep) -> dict[str, Any]:
    if step.kind == "model":
        return {"model": step.ref}
    if step.kind == "constant":
        return {"rule": "constant", "value": step.value}
    return {
        "rule": "threshold",
        "feature": step.feature,
        "threshold": step.threshold,
        "above": step.above,
        "below": step.below,
    }


def _rule_dict(rule: OutputRule) -> dict[str, Any]:
    if rule.kind == "clip":
        return {"clip": {k: v for k, v in (("min", rule.min), ("max", rule.max)) if v is not None}}
    assert rule.when is not None
    return {"when": rule.when.text, "then": rule.then}


def spec_to_dict(spec: DeploymentSpec) -> dict[str, Any]:
    """The JSON form ``parse_spec`` reads back to an equal spec."""
    out: dict[str, Any] = {"primary": spec.primary}
    if spec.canary is not None:
        out["canary"] = {"ref": spec.canary.ref, "percent": spec.canary.percent}
    if spec.shadow:
        out["shadow"] = [{"ref": s.ref, "monitor": s.monitor} if s.monitor else s.ref for s in spec.shadow]
    if spec.fallback:
        out["fallback"] = [_step_dict(s) for s in spec.fallback]
    guards: dict[str, Any] = {}
    if spec.input_guard is not None:
        guard: dict[str, Any] = {"on_invalid": spec.input_guard.on_invalid}
        if spec.input_guard.schema is not None:
            guard["schema"] = spec.input_guard.schema
        if spec.input_guard.defaults:
            guard["defaults"] = dict(spec.input_guard.defaults)
        guards["input"] = guard
    if spec.output_rules:
        guards["output"] = [_rule_dict(r) for r in spec.output_rules]
    if guards:
        out["guards"] = guards
    if spec.timeout_ms is not None:
        out["timeout_ms"] = spec.timeout_ms
    if spec.monitor is not None:
        out["monitor"] = spec.monitor
    if spec.auto_rollback:
        out["auto_rollback"] = True
    return out
