"""Rich views of monitors: their config and validation schema, alert rules, alerts and the alert trail."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mltrail.cli.monitoring.common import utc_window
from mltrail.cli.render import format_number, format_relative, format_timestamp, format_value, pairs
from mltrail.entities import Alert, AlertNotification, AlertRule, ModelVersion, Monitor
from mltrail.services.monitoring.alerts import redact_channel

__all__ = [
    "ALERT_STYLES",
    "alert_detail",
    "alerts_table",
    "followed",
    "model_ref",
    "monitor_panel",
    "monitors_table",
    "notifications_table",
    "rules_table",
    "schema_table",
    "version_history",
]

ALERT_STYLES = {"open": "bold red", "acknowledged": "yellow", "resolved": "green"}


def model_ref(monitor: Monitor, at: float | None = None) -> str:
    """``churn:4``: the version watched now, or at time ``at`` (a monitor of an alias moves)."""
    if monitor.model is None:
        return "-"
    version = monitor.version if at is None else monitor.binding_at(at)[0]
    return monitor.model if version is None else f"{monitor.model}:{version}"


def followed(monitor: Monitor) -> str:
    """``churn:4 (follows @production)`` for a monitor of an alias, else ``churn:4``."""
    return model_ref(monitor) + (f" (follows @{monitor.alias})" if monitor.alias else "")


def version_history(monitor: Monitor) -> str:
    """``v3 until 2026-11-20 10:00, v4 since`` (local times)."""
    entries = monitor.versions
    parts = [f"v{e.version} until {format_timestamp(n.since)[:16]}" for e, n in itertools.pairwise(entries)]
    if entries:
        parts.append(
            f"v{entries[-1].version} since" + ("" if parts else f" {format_timestamp(entries[0].since)[:16]}")
        )
    return ", ".join(parts) or "-"


def _names(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "") if names else "-"


def monitor_panel(monitor: Monitor, rules: int | None = None) -> Panel:
    rows: list[tuple[str, RenderableType | str]] = [
        ("model", followed(monitor)),
        *([("versions", version_history(monitor))] if monitor.alias else []),
        ("run", monitor.run_id or "-"),
        ("project", monitor.project),
        ("task", monitor.task),
        ("granularity", monitor.granularity),
        ("features", f"{len(monitor.features)}: {_names(list(monitor.features))}"),
        ("prediction", monitor.prediction),
        ("segments", ", ".join(monitor.segments) or "-"),
        ("reference", monitor.reference_source),
        ("validation rules", str(len(dict(monitor.schema.get("columns") or {})))),
        ("training metrics", _metrics(monitor.training_metrics)),
        ("created", f"{format_timestamp(monitor.created_at)} by {monitor.created_by or '-'}"),
    ]
    if rules is not None:
        rows.append(("alert rules", str(rules)))
    if monitor.drift:
        rows.append(("drift options", format_value(monitor.drift)))
    if monitor.unmatched_labels:
        rows.append(("unmatched labels", str(monitor.unmatched_labels)))
    return Panel(pairs(rows), title=f"[bold]{monitor.name}[/bold]", title_align="left", expand=False)


def _metrics(metrics: Mapping[str, float], limit: int = 6) -> str:
    items = sorted(metrics.items())
    text = ", ".join(f"{k}={format_number(v)}" for k, v in items[:limit])
    return (text + (f" (+{len(items) - limit} more)" if len(items) > limit else "")) or "-"


def monitors_table(
    monitors: Sequence[Monitor], last: Mapping[int, float | None], open_alerts: Mapping[int, int]
) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("name", "model", "features", "segments", "granularity", "last window", "open alerts"):
        table.add_column(
            column, no_wrap=column != "segments", justify="right" if column == "features" else "left"
        )
    for m in monitors:
        count = open_alerts.get(m.id, 0)
        table.add_row(
            Text(m.name),
            Text(followed(m)),
            str(len(m.features)),
            Text(", ".join(m.segments) or "-"),
            m.granularity,
            utc_window(last.get(m.id), m.granularity),
            Text(str(count), style="bold red") if count else "0",
        )
    return table


def schema_table(schema: Mapping[str, Any]) -> Table:
    table = Table(
        title="Validation schema", title_justify="left", title_style="bold", box=None, header_style="bold"
    )
    for column in ("column", "kind", "not null", "min", "max", "allowed"):
        table.add_column(column, justify="right" if column in ("min", "max") else "left")
    for name, rule in sorted(dict(schema.get("columns") or {}).items()):
        allowed = rule.get("allowed")
        table.add_row(
            Text(name),
            str(rule.get("kind") or "-"),
            "yes" if rule.get("not_null") else "no",
            format_number(rule.get("min")),
            format_number(rule.get("max")),
            Text("-" if allowed is None else _names([str(a) for a in allowed], 6)),
        )
    table.caption = "extra columns: " + ("allowed" if schema.get("allow_extra") else "counted as violations")
    table.caption_justify = "left"
    return table


def rules_table(rules: Sequence[AlertRule], title: str | None = "Alert rules") -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=None, header_style="bold")
    for column in ("id", "metric", "feature", "segment", "when", "for", "notify", "created"):
        table.add_column(column, justify="right" if column in ("id", "for") else "left")
    for r in rules:
        table.add_row(
            str(r.id),
            r.metric,
            Text(r.feature or "-"),
            Text(r.segment or "-"),
            f"{r.comparator} {format_number(r.threshold)}",
            f"{r.for_windows} window{'s' if r.for_windows != 1 else ''}",
            Text(", ".join(redact_channel(c) for c in r.channels) or "-"),
            format_relative(r.created_at),
        )
    return table


def alert_title(alert: Alert) -> str:
    where = f" on {alert.feature}" if alert.feature else ""
    segment = f" in {alert.segment}" if alert.segment else ""
    return f"{alert.metric} {alert.comparator} {format_number(alert.threshold)}{where}{segment}"


def alerts_table(alerts: Sequence[Alert], monitors: Mapping[int, Monitor], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=None, header_style="bold")
    for column in ("id", "state", "monitor", "model", "run", "alert", "value", "window", "opened", "by"):
        table.add_column(column, justify="right" if column in ("id", "value") else "left", no_wrap=True)
    for a in alerts:
        monitor = monitors.get(a.monitor_id)
        run_id = monitor.binding_at(a.opened_at)[1] if monitor else None
        table.add_row(
            str(a.id),
            Text(a.state.value, style=ALERT_STYLES.get(a.state.value, "")),
            Text(monitor.name if monitor else str(a.monitor_id)),
            Text(model_ref(monitor, a.opened_at) if monitor else "-"),
            (run_id or "-")[:12],
            Text(alert_title(a)),
            format_number(a.value),
            utc_window(a.window_start, monitor.granularity if monitor else "day"),
            format_relative(a.opened_at),
            Text(a.acknowledged_by or "-"),
        )
    return table


def notifications_table(log: Sequence[AlertNotification]) -> Table:
    table = Table(
        title="Notifications", title_justify="left", title_style="bold", box=None, header_style="bold"
    )
    for column in ("time", "channel", "sent", "status", "error"):
        table.add_column(column)
    for n in log:
        table.add_row(
            format_timestamp(n.time),
            Text(n.channel),
            Text("✓", style="green") if n.ok else Text("✗", style="red"),
            "-" if n.status_code is None else str(n.status_code),
            Text(n.error or ""),
        )
    return table


def alert_detail(
    alert: Alert,
    monitor: Monitor,
    version: ModelVersion | None,
    run: Mapping[str, Any] | None,
    log: Sequence[AlertNotification],
) -> Group:
    """An alert and the trail behind it: the monitor, the registry version and the run that trained it."""
    state = Text(alert.state.value, style=ALERT_STYLES.get(alert.state.value, ""))
    facts: list[tuple[str, RenderableType | str]] = [
        ("state", state),
        ("metric", alert.metric),
        ("feature", alert.feature or "-"),
        ("segment", alert.segment or "all traffic"),
        ("value", f"{format_number(alert.value)} ({alert.comparator} {format_number(alert.threshold)})"),
        ("window", f"{utc_window(alert.window_start, monitor.granularity)} UTC ({monitor.granularity})"),
        ("opened", format_timestamp(alert.opened_at)),
        ("updated", format_timestamp(alert.updated_at)),
        ("acknowledged by", alert.acknowledged_by or "-"),
        ("resolved", format_timestamp(alert.resolved_at)),
        ("rule", str(alert.rule_id)),
        ("monitor", monitor.name),
    ]
    parts: list[RenderableType] = [
        Panel(pairs(facts), title=f"[bold]Alert {alert.id}: {alert_title(alert)}[/bold]", title_align="left")
    ]
    # the version watched when the alert opened (a monitor of an alias moves on)
    run_id = monitor.binding_at(alert.opened_at)[1]
    lineage: list[tuple[str, RenderableType | str]] = [("model version", model_ref(monitor, alert.opened_at))]
    if version is not None:
        lineage += [
            ("stage", version.stage.value),
            ("aliases", ", ".join(f"@{a}" for a in version.aliases) or "-"),
            ("digest", version.digest),
        ]
    lineage.append(("source run", run_id or "-"))
    body: list[RenderableType] = []
    if run is not None:
        commit = run.get("commit")
        lineage += [
            ("run name", str(run.get("name") or "-")),
            ("status", str(run.get("status") or "-")),
            ("commit", "-" if not commit else f"{str(commit)[:12]} ({run.get('branch') or '-'})"),
        ]
        body.append(pairs(lineage))
        params = run.get("params") or {}
        if params:
            table = Table(title="Params", title_justify="left", title_style="bold", box=None)
            table.add_column("key", style="bold")
            table.add_column("value")
            for key, value in sorted(params.items()):
                table.add_row(Text(key), Text(format_value(value)))
            body += [Text(""), table]
    else:
        body.append(pairs(lineage))
        if run_id:
            body.append(Text("The source run is not in this store (deleted?).", style="dim"))
    parts.append(Panel(Group(*body), title="[bold]Model and training run[/bold]", title_align="left"))
    parts.append(notifications_table(log) if log else Text("No notifications sent.", style="dim"))
    return Group(*parts)
