"""The terminal view of a monitoring report dict: header, windows, features, segments and open alerts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mltrail.cli.monitoring.common import utc_window
from mltrail.cli.monitoring.estimation_view import estimation_table
from mltrail.cli.monitoring.views import alerts_table
from mltrail.cli.render import format_number, pairs
from mltrail.entities import Alert, Monitor

__all__ = ["primary_metric", "render_report"]

_MISSING_CHANGE = 0.01  # a missing rate moving by less than a point is not worth a cell


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _percent(value: Any) -> str:
    number = _float(value)
    return "-" if number is None else f"{number:.0%}"


def _names(names: Sequence[str], limit: int = 3) -> str:
    if not names:
        return "-"
    return ", ".join(names[:limit]) + (f" +{len(names) - limit}" if len(names) > limit else "")


def primary_metric(report: Mapping[str, Any]) -> str | None:
    """Accuracy when there is one, else the first metric the training run or the labels give."""
    perf = report.get("performance") or {}
    keys = [k for k in {**(perf.get("training") or {}), **(perf.get("overall") or {})} if k != "labeled"]
    return "accuracy" if "accuracy" in keys else (keys[0] if keys else None)


def _header(report: Mapping[str, Any]) -> Panel:
    mon = report.get("monitor") or {}
    gran = str(mon.get("granularity") or "day")
    period = report.get("period") or {}
    ref = report.get("reference") or {}
    model = mon.get("model")
    version = mon.get("version")
    ref_text = "-" if model is None else (str(model) if version is None else f"{model}:{version}")
    # The same figures as the windows table and the alerts: features that drifted in some window.
    summary = report.get("summary")
    if isinstance(summary, Mapping):
        drifted = list(summary.get("drifted_features") or [])
    else:  # a report from a server without the summary
        drifted = list((report.get("overall") or {}).get("drifted_columns") or [])
    rows: list[tuple[str, RenderableType | str]] = [
        ("model version", ref_text),
        ("run", str(mon.get("run_id") or "-")),
        (
            "period",
            f"{utc_window(period.get('start'), gran)} → {utc_window(period.get('end'), gran)} UTC"
            f" ({period.get('windows', 0)} {gran} windows)",
        ),
        (
            "rows",
            f"{report.get('current_rows', 0):,} current vs {int(ref.get('rows') or 0):,} reference"
            f" ({ref.get('source') or '-'})",
        ),
    ]
    output = ref.get("output") or {}
    if output.get("statement"):  # a model wrong from day one looks normal against its launch day
        given = output.get("source") == "reference"
        rows.append(("output reference", Text(str(output["statement"]), style="" if given else "yellow")))
    rows += [
        (
            "drift",
            Text(
                f"{len(drifted)} drifted in some window: {_names(drifted, 8)}"
                if drifted
                else "no feature drifted in any window",
                style="bold red" if drifted else "green",
            ),
        ),
    ]
    metric = primary_metric(report)
    if metric is not None:
        perf = report.get("performance") or {}
        now = _float((perf.get("overall") or {}).get(metric))
        trained = _float((perf.get("training") or {}).get(metric))
        labeled = (perf.get("overall") or {}).get("labeled")
        if now is None:
            text = f"no labels yet; {format_number(trained)} in training"
        else:
            text = f"{format_number(now)} vs {format_number(trained)} in training"
            text += f" ({int(labeled or 0):,} labeled)"
        rows.append((metric, text))
    if report.get("unmatched_labels"):
        rows.append(("unmatched labels", str(report["unmatched_labels"])))
    return Panel(pairs(rows), title=f"[bold]{mon.get('name') or 'monitor'}[/bold]", title_align="left")


def _windows_table(report: Mapping[str, Any]) -> Table:
    gran = str((report.get("monitor") or {}).get("granularity") or "day")
    metric = primary_metric(report)
    trained = _float(((report.get("performance") or {}).get("training") or {}).get(metric or ""))
    table = Table(title="Windows", title_justify="left", title_style="bold", box=None, header_style="bold")
    table.add_column("window (UTC)", no_wrap=True)
    table.add_column("rows", justify="right")
    table.add_column("drifted features")
    table.add_column("share", justify="right")
    table.add_column("missing-rate changes")
    table.add_column("violations", justify="right")
    table.add_column(f"{metric or 'performance'}" + ("" if trained is None else f" (train {trained:.3g})"))
    for w in report.get("windows") or []:
        drifted = list(w.get("drifted") or [])
        changes = []
        for name, col in (w.get("scores") or {}).items():
            delta = _float(col.get("missing_delta"))
            if delta is not None and abs(delta) >= _MISSING_CHANGE:
                changes.append(f"{name} {delta:+.0%}")
        violations = sum(int(n) for n in (w.get("violations") or {}).values())
        value = _float((w.get("performance") or {}).get(metric or ""))
        perf = Text("-")
        if value is not None:
            worse = trained is not None and (value < trained if metric not in _LOWER else value > trained)
            perf = Text(format_number(value), style="red" if worse else "green")
        table.add_row(
            utc_window(w.get("start"), gran),
            f"{int(w.get('rows') or 0):,}",
            Text(_names(drifted), style="red" if drifted else "dim"),
            Text(_percent(w.get("share_drifted")), style="red" if drifted else ""),
            Text(_names(changes, 2), style="yellow" if changes else "dim"),
            Text(f"{violations:,}", style="red" if violations else "dim"),
            perf,
        )
    return table


_LOWER = ("log_loss", "mae", "rmse")  # lower is better


def _features_table(report: Mapping[str, Any]) -> Table:
    table = Table(
        title="Features over the period",
        title_justify="left",
        title_style="bold",
        box=None,
        header_style="bold",
    )
    for column in ("feature", "kind", "test", "statistic", "p-value", "threshold", "drifted", "missing"):
        right = column in ("statistic", "p-value", "threshold")
        table.add_column(column, justify="right" if right else ("center" if column == "drifted" else "left"))
    overall = report.get("overall") or {}
    for col in overall.get("columns") or []:
        ref_missing = _percent(col.get("missing_rate_ref"))
        cur_missing = _percent(col.get("missing_rate_cur"))
        missing = Text(f"{ref_missing} → {cur_missing}", style="yellow" if col.get("missing_drifted") else "")
        drifted = bool(col.get("drifted"))
        table.add_row(
            Text(str(col.get("column")), style="bold" if drifted else ""),
            str(col.get("kind") or "-"),
            str(col.get("test") or "-"),
            format_number(_float(col.get("statistic"))),
            format_number(_float(col.get("p_value"))),
            format_number(_float(col.get("threshold"))),
            Text("✓", style="bold red") if drifted else Text("✗", style="green"),
            missing,
        )
    return table


def segment_performance(seg: Mapping[str, Any], metric: str | None) -> str:
    """``accuracy 0.912 (1,000 labeled)`` from a segment's labels; ``-`` before any."""
    perf = seg.get("performance") or {}
    labeled = _float(perf.get("labeled"))
    if not labeled:
        return "-"
    shown = metric if metric in perf else next((k for k in perf if k != "labeled"), None)
    value = None if shown is None else _float(perf.get(shown))
    figure = "" if value is None else f"{shown} {format_number(value)} "
    return f"{figure}({labeled:,.0f} labeled)"


def _segments_table(segments: Mapping[str, Any], metric: str | None) -> Table:
    table = Table(title="Segments", title_justify="left", title_style="bold", box=None, header_style="bold")
    table.add_column("segment")
    table.add_column("rows", justify="right")
    table.add_column("share", justify="right")
    table.add_column("drifted features")
    table.add_column("performance")
    for name, seg in segments.items():
        drifted = list(seg.get("drifted_columns") or [])
        table.add_row(
            Text(name),
            f"{int(seg.get('rows') or 0):,}",
            Text(_percent(seg.get("share_drifted")), style="red" if drifted else ""),
            Text(_names(drifted, 5), style="red" if drifted else "dim"),
            Text(segment_performance(seg, metric)),
        )
    return table


def render_report(report: Mapping[str, Any], alerts: Sequence[Alert], monitor: Monitor) -> Group:
    parts: list[RenderableType] = [_header(report)]
    if not report.get("windows"):
        parts.append(Text("No traffic in this period.", style="dim"))
        return Group(*parts)
    parts += [_windows_table(report), Text(""), _features_table(report)]
    if (estimated := estimation_table(report)) is not None:
        parts += [Text(""), estimated]
    if report.get("segments"):
        parts += [Text(""), _segments_table(report["segments"], primary_metric(report))]
    for change in report.get("kind_changes") or []:  # kept beside the column, not drift-tested
        parts.append(
            Text(
                f"{change.get('column')}: {int(change.get('rows') or 0):,} rows came as"
                f" {change.get('kind')} and are kept beside the column (not drift-tested)",
                style="yellow",
            )
        )
    unresolved = [a for a in alerts if a.state.value != "resolved"]
    parts.append(Text(""))
    if unresolved:
        parts.append(alerts_table(unresolved, {monitor.id: monitor}, title="Open alerts"))
    else:
        parts.append(Text("No open alerts.", style="dim"))
    return Group(*parts)
