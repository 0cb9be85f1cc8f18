"""Rich views of deployments, narrow enough for 80 columns: a spec as labelled lines, lists and history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mltrail.cli.render import format_relative, format_timestamp, format_value, pairs
from mltrail.entities import (
    Deployment,
    DeploymentEvidence,
    DeploymentSpec,
    DeploymentVersion,
    VariantEvidence,
)

__all__ = ["deployments_table", "evidence_table", "history_table", "render_deployment", "spec_lines"]


def _named(ref: str, resolved: Mapping[str, str]) -> str:
    found = resolved.get(ref)
    return f"{ref} → {found}" if found and found != ref else ref


def spec_lines(spec: DeploymentSpec, resolved: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(label, text) per part of the spec; references with the version they named when written."""
    names = resolved or {}
    lines = [("primary", _named(spec.primary, names))]
    if spec.canary is not None:
        lines.append(("canary", f"{_named(spec.canary.ref, names)}  ({spec.canary.percent:g}% of keys)"))
    for shadow in spec.shadow:
        where = f"  → monitor {shadow.monitor}" if shadow.monitor else ""
        lines.append(("shadow", _named(shadow.ref, names) + where))
    for i, step in enumerate(spec.fallback):
        if step.kind == "model":
            text = _named(step.ref or "", names)
        elif step.kind == "constant":
            text = f"constant {format_value(step.value)}"
        else:
            text = (
                f"{step.feature} >= {step.threshold:g} → {format_value(step.above)},"
                f" else {format_value(step.below)}"
            )
        lines.append(("fallback" if i == 0 else "", f"{i + 1}. {text}"))
    if spec.input_guard is not None:
        guard = spec.input_guard
        source = "its own schema" if guard.schema is not None else "the monitor's schema"
        lines.append(("input guard", f"{guard.on_invalid} rows that break {source}"))
    for rule in spec.output_rules:
        if rule.kind == "clip":
            lo = "-inf" if rule.min is None else f"{rule.min:g}"
            hi = "inf" if rule.max is None else f"{rule.max:g}"
            lines.append(("output rule", f"clip to [{lo}, {hi}]"))
        else:
            assert rule.when is not None
            lines.append(("output rule", f"{rule.when.text} → {format_value(rule.then)}"))
    if spec.timeout_ms is not None:
        lines.append(("timeout", f"{spec.timeout_ms:g} ms"))
    lines.append(("monitor", spec.monitor or "- (requests are not monitored)"))
    return lines


def render_deployment(deployment: Deployment) -> RenderableType:
    current = deployment.current
    head = [
        ("deployment", deployment.name),
        ("project", deployment.project),
        (
            "version",
            f"{current.version} ({current.action} by {current.user or '-'}, {format_relative(current.time)})",
        ),
    ]
    if current.comment:
        head.append(("comment", current.comment))
    resolved = current.details.get("resolved") or {}
    return Group(pairs(head, fold=True), Text(""), pairs(spec_lines(current.spec, resolved), fold=True))


def deployments_table(deployments: Sequence[Deployment]) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("name", "project", "ver", "primary", "monitor", "changed"):
        table.add_column(column, no_wrap=column in ("ver", "changed"), overflow="fold")
    for d in deployments:
        table.add_row(
            d.name,
            d.project,
            str(d.version),
            d.spec.primary,
            d.spec.monitor or "-",
            format_relative(d.current.time),
        )
    return table


def _what(version: DeploymentVersion) -> str:
    details = version.details
    if version.action == "rolled_back":
        return f"back to v{details.get('to_version')}"
    if "promoted_from" in details:
        return f"from {details['promoted_from']}"
    spec = version.spec
    parts = [spec.primary]
    if spec.canary is not None:
        parts.append(f"canary {spec.canary.percent:g}%")
    if spec.shadow:
        parts.append(f"{len(spec.shadow)} shadow")
    if spec.fallback:
        parts.append(f"{len(spec.fallback)} fallback")
    return ", ".join(parts)


def history_table(versions: Sequence[DeploymentVersion]) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("ver", "when", "action", "user", "what", "comment"):
        table.add_column(column, no_wrap=column in ("ver", "when"), overflow="fold")
    for v in versions:
        table.add_row(
            str(v.version),
            format_timestamp(v.time)[:16],
            v.action.replace("_", " "),
            v.user or "-",
            _what(v),
            v.comment or "",
        )
    return table


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _agreement(v: VariantEvidence) -> str:
    a = v.agreement
    if a is None:
        return "-"
    if a["value"] is None:
        return f"- (0 of {a['compared']})"
    shown = f"{a['value']:.1%}" if a["kind"] == "classes" else f"MAE {a['value']:.4g}"
    return f"{shown} of {a['compared']:,}"


def _performance(v: VariantEvidence) -> str:
    p = v.performance
    if p is None:
        return "-"
    if p["value"] is None:
        return f"{p['metric']} - (no labels)"
    return f"{p['metric']} {p['value']:.4g} ({p['labelled']:,} labelled)"


def evidence_table(evidence: DeploymentEvidence) -> RenderableType:
    """Each variant's counts over the period in a table narrow enough for 80 columns (requests, rates,
    latency percentiles), then its agreement with the caller's answers and its realized performance."""
    table = Table(box=None, header_style="bold")
    for column in ("variant", "model", "requests", "errors", "fallback", "guards", "p50/p95/p99 ms"):
        # Only the model's name may fold onto a second line: at 80 columns it is what does not fit.
        folds = column == "model"
        table.add_column(
            column,
            no_wrap=not folds,
            overflow="fold" if folds else "ellipsis",
            justify="right" if column == "requests" else "left",
        )
    notes: list[str] = []
    for v in evidence.variants:
        latency = "/".join(_ms(v.latency_ms.get(q)) for q in ("p50", "p95", "p99"))
        table.add_row(
            v.variant,
            v.model,
            f"{v.requests:,}",
            _rate(v.error_rate),
            _rate(v.fallback_rate),
            _rate(v.guard_rate),
            latency,
        )
        parts = []
        if v.agreement is not None:
            parts.append(f"agreement {_agreement(v)}")
        if v.performance is not None:
            parts.append(_performance(v))
        if v.dropped:
            parts.append(f"{v.dropped:,} rows dropped")
        if parts:
            notes.append(f"{v.variant} {v.model}: " + "; ".join(parts))
    period = f"{format_timestamp(evidence.since)[:16]} to {format_timestamp(evidence.until)[:16]}"
    title = Text(f"{evidence.deployment} (spec version {evidence.version}), {period}", style="bold")
    if not evidence.variants:
        return Group(title, Text("no traffic counted in this period"))
    return Group(title, table, *(Text(n) for n in notes))
