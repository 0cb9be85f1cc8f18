"""The segments, alerts and validation tables of the HTML monitoring report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail.render.html_values import (
    DASH,
    as_float,
    as_list,
    as_mapping,
    as_text,
    badge,
    card,
    empty,
    esc,
    fmt_int,
    fmt_num,
    fmt_pct,
    fmt_time,
    time_format,
    window_labels,
    windows,
)
from mltrail.render.svg_charts import bar_strip

__all__ = ["alerts_table", "segments_table", "validation_table"]

_STATE_TONES = {"open": "bad", "acknowledged": "warn", "resolved": "good", "closed": "muted"}


def _table(css: str, heads: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{h}</th>" for h in heads)
    return (
        f'<div class="table-wrap"><table class="{css}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _chips(names: list[str]) -> str:
    if not names:
        return f'<span class="dim">{DASH}</span>'
    return "".join(f'<span class="chip">{esc(n)}</span>' for n in names)


def segments_table(report: Mapping[str, Any]) -> str:
    """Segments by share of drifted features, most drifted first."""
    segments = as_mapping(report.get("segments"))
    if not segments:
        return card("Segments", empty("No segments are monitored"))
    items = sorted(
        ((str(name), as_mapping(seg)) for name, seg in segments.items()),
        key=lambda item: -(as_float(item[1].get("share_drifted")) or 0.0),
    )
    rows = []
    for name, seg in items:
        share = as_float(seg.get("share_drifted"))
        width = 0.0 if share is None else min(max(share, 0.0), 1.0) * 100
        meter = f'<span class="meter"><i style="width:{width:.0f}%"></i></span> {fmt_pct(share)}'
        drifted = [str(c) for c in as_list(seg.get("drifted_columns"))]
        found = _chips(drifted)
        if seg.get("new") is True:
            meter = badge("new", "warn")
            found = '<span class="dim">not in the reference: no drift figures</span>'
        elif seg.get("reference") == "whole":
            found += '<div class="dim">against the whole reference</div>'
        rows.append(
            f'<tr><td class="name">{esc(name)}</td><td class="num">{fmt_int(seg.get("rows"))}</td>'
            f"<td>{meter}</td><td>{found}</td><td>{_segment_performance(seg)}</td></tr>"
        )
    how = as_text(report.get("segment_reference"))
    sub = {
        "segment": "each compared with the same segment of the reference",
        "whole": "compared with the whole reference: it has no per-segment profiles (a training dataset's"
        " profile); pass reference= rows to compare each with its own",
        "mixed": "compared with the same segment of the reference where it has one, else the whole reference",
    }.get(how or "", "")
    sub = f"{len(items)} segments" + (f", {sub}" if sub else "")
    if how:
        sub += "; a segment's own column is never tested"
    return card(
        "Segments",
        _table("segments", ["Segment", "Rows", "Share drifted", "Drifted features", "Performance"], rows),
        sub,
    )


_SEGMENT_METRICS = ("accuracy", "f1", "roc_auc", "mae", "rmse")


def _segment_performance(seg: Mapping[str, Any]) -> str:
    """The segment's performance from its labels: its main figures and how many were labeled."""
    perf = as_mapping(seg.get("performance"))
    labeled = as_float(perf.get("labeled"))
    if not labeled:
        return f'<span class="dim">{DASH} no labels</span>'
    shown = [
        f"{m} <b>{fmt_num(perf.get(m))}</b>" for m in _SEGMENT_METRICS if as_float(perf.get(m)) is not None
    ]
    return " · ".join(shown[:3]) + f'<div class="dim">{fmt_int(labeled)} labeled</div>'


def alerts_table(report: Mapping[str, Any]) -> str:
    """Alerts of the period: open ones first, then newest first."""
    alerts = [as_mapping(a) for a in as_list(report.get("alerts"))]
    if not alerts:
        return card("Alerts", empty("No alerts in this period"))
    pattern = time_format(as_mapping(report.get("monitor")).get("granularity"))
    alerts.sort(key=lambda a: (a.get("state") != "open", -(as_float(a.get("opened_at")) or 0.0)))
    rows = []
    for a in alerts:
        state = as_text(a.get("state")) or DASH
        rows.append(
            f'<tr><td class="num">{esc(as_text(a.get("id")) or DASH)}</td>'
            f"<td>{badge(state, _STATE_TONES.get(state, 'muted'))}</td>"
            f'<td class="name">{esc(as_text(a.get("title")) or DASH)}</td>'
            f"<td><code>{esc(as_text(a.get('metric')) or DASH)}</code></td>"
            f"<td>{esc(as_text(a.get('feature')) or DASH)}</td>"
            f"<td>{esc(as_text(a.get('segment')) or DASH)}</td>"
            f'<td class="num">{fmt_num(a.get("value"))}</td>'
            f'<td class="num">{fmt_num(a.get("threshold"))}</td>'
            f"<td>{fmt_time(a.get('opened_at'))}</td><td>{fmt_time(a.get('window_start'), pattern)}</td></tr>"
        )
    open_count = sum(a.get("state") == "open" for a in alerts)
    heads = [
        "#",
        "State",
        "Alert",
        "Metric",
        "Feature",
        "Segment",
        "Value",
        "Threshold",
        "Opened (UTC)",
        "Window",
    ]
    return card("Alerts", _table("alerts", heads, rows), f"{open_count} open of {len(alerts)}")


def validation_table(report: Mapping[str, Any]) -> str:
    """Each validation rule with its total and its violations per window."""
    validation = as_mapping(report.get("validation"))
    rows_of = windows(report)
    rules = dict.fromkeys(str(r) for r in as_list(validation.get("rules")))
    totals = as_mapping(validation.get("totals"))
    rules.update(dict.fromkeys(str(r) for r in totals))
    for w in rows_of:
        rules.update(dict.fromkeys(str(r) for r in as_mapping(w.get("violations"))))
    if not rules:
        return card("Validation", empty("No validation rules"))
    labels = window_labels(report, short=False)
    rows = []
    for rule in rules:
        per = [as_float(as_mapping(w.get("violations")).get(rule, 0)) for w in rows_of]
        total = as_float(totals.get(rule))
        if total is None and rule not in totals:
            total = sum(v for v in per if v is not None)
        windows_broken = sum(1 for v in per if v)
        strip = bar_strip(per, labels, label=f"{rule}: violations per window") if per else DASH
        status = badge("violated", "bad") if total else badge("passing", "good")
        rows.append(
            f'<tr><td class="name"><code>{esc(rule)}</code></td><td>{status}</td>'
            f'<td class="num">{fmt_int(total)}</td><td class="num">{windows_broken} / {len(per)}</td>'
            f"<td>{strip}</td><td class='num'>{fmt_int(per[-1]) if per else DASH}</td></tr>"
        )
    heads = ["Rule", "Status", "Violations", "Windows broken", "Violations per window", "Last window"]
    return card(
        "Validation",
        _table("validation", heads, rows) + _kind_changes(report),
        f"{len(rules)} rules checked on every window",
    )


def _kind_changes(report: Mapping[str, Any]) -> str:
    """Columns a window holds in two kinds: the other kind's rows, kept beside and not drift-tested."""
    changes = [as_mapping(c) for c in as_list(report.get("kind_changes"))]
    if not changes:
        return ""
    items = "; ".join(
        f"{esc(as_text(c.get('column')) or DASH)} as {esc(as_text(c.get('kind')) or DASH)}:"
        f" {fmt_int(c.get('rows'))} rows in {len(as_list(c.get('windows')))} windows"
        for c in changes
    )
    return f'<p class="warn-text">Kept in another kind beside the column (not drift-tested): {items}</p>'
