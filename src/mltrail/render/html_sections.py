"""The header, summary strip and per-feature table of the HTML monitoring report."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from mltrail.render.html_charts import feature_scores, trend
from mltrail.render.html_values import (
    DASH,
    as_float,
    as_int,
    as_list,
    as_mapping,
    as_text,
    badge,
    card,
    columns_by_name,
    empty,
    esc,
    feature_names,
    fmt_int,
    fmt_num,
    fmt_pct,
    fmt_time,
    time_format,
    windows,
)
from mltrail.render.svg_charts import category_bars, histogram

__all__ = ["feature_table", "header", "primary_metric", "sketch_note", "summary_strip"]

_P_VALUE_TESTS = frozenset({"ks", "chisquare"})


def header(report: Mapping[str, Any]) -> str:
    monitor = as_mapping(report.get("monitor"))
    period = as_mapping(report.get("period"))
    reference = as_mapping(report.get("reference"))
    name = as_text(monitor.get("name")) or "Monitoring report"
    model = as_text(monitor.get("model"))
    version = as_text(monitor.get("version"))
    run_id = as_text(monitor.get("run_id"))
    model_html = esc(model or DASH) + (f" <b>v{esc(version)}</b>" if version else "")
    if run_id:
        short = run_id if len(run_id) <= 12 else run_id[:12] + "…"
        model_html += f' <code title="{esc(run_id)}">run {esc(short)}</code>'
    following = _following(monitor)
    if following:
        model_html += f'<div class="dim">{esc(following)}</div>'
    pattern = time_format(monitor.get("granularity"))
    count = as_int(period.get("windows"))
    count = count if count is not None else len(windows(report)) or None
    granularity = as_text(monitor.get("granularity"))
    span = f"{fmt_time(period.get('start'), pattern)} → {fmt_time(period.get('end'), pattern)}"
    if count is not None:
        every = {"hour": "hourly ", "day": "daily ", "week": "weekly ", "month": "monthly "}.get(
            granularity or "", ""
        )
        span += f" · {count:,} {every}"
        span += "window" + ("" if count == 1 else "s")
    source = as_text(reference.get("source"))
    rows = (
        f"<b>{fmt_int(report.get('current_rows'))}</b> current · {fmt_int(reference.get('rows'))} reference"
    )
    facts = [
        ("Model", model_html),
        ("Project", esc(as_text(monitor.get("project")) or DASH)),
        ("Period", esc(span)),
        ("Rows", rows + (f'<div class="dim">{esc(source)}</div>' if source else "")),
    ]
    items = "".join(
        f'<div class="fact"><span>{label}</span><div>{value}</div></div>' for label, value in facts
    )
    return (
        '<header class="top"><div class="eyebrow">mltrail · production monitoring report</div>'
        f'<h1>{esc(name)}</h1><div class="facts">{items}</div>{_output_note(reference)}</header>'
    )


def _output_note(reference: Mapping[str, Any]) -> str:
    """What the model's output is compared with; a warning when it is the first day of traffic."""
    output = as_mapping(reference.get("output"))
    statement = as_text(output.get("statement"))
    if not statement:
        return ""
    tone = "" if output.get("source") == "reference" else " warn-text"
    return f'<p class="output-ref{tone}">Output reference: {esc(statement)}</p>'


def _following(monitor: Mapping[str, Any], shown: int = 3) -> str | None:
    """``follows churn@production · v3 until 2026-11-20, v4 since`` for a monitor of an alias."""
    alias, model = as_text(monitor.get("alias")), as_text(monitor.get("model"))
    if alias is None or model is None:
        return None
    entries = [as_mapping(v) for v in as_list(monitor.get("versions"))]
    parts = []
    for i, entry in enumerate(entries):
        version = as_text(entry.get("version")) or DASH
        if i + 1 < len(entries):
            parts.append(f"v{version} until {fmt_time(entries[i + 1].get('since'), '%Y-%m-%d')}")
        else:
            parts.append(
                f"v{version} since" + ("" if parts else f" {fmt_time(entry.get('since'), '%Y-%m-%d')}")
            )
    history = ", ".join((["…"] if len(parts) > shown else []) + parts[-shown:])
    return f"follows {model}@{alias}" + (f" · {history}" if history else "")


def _tile(label: str, value: str, note: str, tone: str = "") -> str:
    return (
        f'<div class="tile {tone}"><div class="label">{esc(label)}</div>'
        f'<div class="value">{value}</div><div class="note">{note}</div></div>'
    )


def primary_metric(report: Mapping[str, Any]) -> str | None:
    """The headline metric: accuracy if reported, else the first metric the overall performance has."""
    perf = as_mapping(report.get("performance"))
    keys = [
        str(k)
        for k, v in {**as_mapping(perf.get("training")), **as_mapping(perf.get("overall"))}.items()
        if as_float(v) is not None and k != "labeled"
    ]
    if "accuracy" in keys:
        return "accuracy"
    return keys[0] if keys else None


def _names(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit]) + (f" +{len(names) - limit}" if len(names) > limit else "")
    return esc(shown) if names else "none"


def summary_strip(report: Mapping[str, Any]) -> str:
    summary = as_mapping(report.get("summary"))
    tiles = _drift_tiles(report, summary) if summary else _overall_tiles(report)
    violations = _violation_totals(report)
    total = sum(violations.values())
    broken = sum(v > 0 for v in violations.values())
    tiles.append(
        _tile(
            "Validation violations",
            fmt_int(total) if violations else DASH,
            f"{broken} of {len(violations)} rules broken" if violations else "no rules",
            "bad" if total else "good" if violations else "",
        )
    )
    alerts = [as_mapping(a) for a in as_list(report.get("alerts"))]
    open_count = sum(a.get("state") == "open" for a in alerts)
    tiles.append(
        _tile("Open alerts", str(open_count), f"of {len(alerts)} in the period", "bad" if open_count else "")
    )
    tiles.append(_metric_tile(report))
    return f'<div class="tiles">{"".join(tiles)}</div>'


def _overall_tiles(report: Mapping[str, Any]) -> list[str]:
    """The drift tiles of a report dict without ``summary`` (older reports): from the merged period."""
    overall = as_mapping(report.get("overall"))
    columns = columns_by_name(report)
    drifted = [str(c) for c in as_list(overall.get("drifted_columns"))]
    tested = [c for c in columns.values() if c.get("test") is not None] or list(columns.values())
    share = as_float(overall.get("share_drifted"))
    tiles = [
        _tile(
            "Drifted features",
            f"{len(drifted)}<small> / {len(tested)}</small>" if overall else DASH,
            f"{fmt_pct(share)} of tested · {_names(drifted)}",
            "bad" if drifted else "good" if overall else "",
        )
    ]
    dataset = overall.get("dataset_drifted")
    threshold = as_float(overall.get("drift_share"))
    tiles.append(
        _tile(
            "Dataset drift",
            {True: "Yes", False: "No"}.get(dataset, DASH) if isinstance(dataset, bool) else DASH,
            f"when ≥ {fmt_pct(threshold, 0)} of features drift" if threshold is not None else "no result",
            {True: "bad", False: "good"}.get(dataset, "") if isinstance(dataset, bool) else "",
        )
    )
    missing = [str(c) for c in as_list(overall.get("missing_drifted_columns"))]
    tiles.append(_tile("Missing-rate changes", str(len(missing)), _names(missing), "warn" if missing else ""))
    return tiles


def _drift_tiles(report: Mapping[str, Any], summary: Mapping[str, Any]) -> list[str]:
    """The drift tiles from ``summary``: counted from the per-window figures the charts draw and the alert
    rules read, so a card cannot say "no drift" beside windows marked drifted."""
    drift = as_mapping(summary.get("drift"))
    count = as_int(summary.get("windows")) or 0
    pattern = time_format(as_mapping(report.get("monitor")).get("granularity"))
    drifted = [str(c) for c in as_list(summary.get("drifted_features"))]
    latest = [
        str(name)
        for name, feature in as_mapping(summary.get("features")).items()
        if as_mapping(feature).get("latest_drifted") is True
    ]
    tiles = [
        _tile(
            "Drifted features",
            f"{len(drifted)}<small> / {fmt_int(summary.get('tested'))}</small>",
            f"in any window · {_names(drifted)}; latest window: {_names(latest)}",
            "bad" if drifted else "good" if count else "",
        )
    ]
    windows_drifted = as_int(drift.get("windows_drifted")) or 0
    threshold = as_float(drift.get("drift_share"))
    when = f"when ≥ {fmt_pct(threshold, 0)} of features drift" if threshold is not None else ""
    if windows_drifted:
        note = (
            f"in {windows_drifted} of {count} windows, from {fmt_time(drift.get('first_drifted'), pattern)}"
            f" · {when}"
        )
    else:
        note = f"in none of {count} windows · {when}" if count else "no windows"
    tiles.append(
        _tile(
            "Dataset drift",
            ("Yes" if windows_drifted else "No") if count else DASH,
            esc(note),
            ("bad" if windows_drifted else "good") if count else "",
        )
    )
    missing = [str(c) for c in as_list(summary.get("missing_changed"))]
    alerted = as_list(summary.get("missing_alerts"))
    note = _names(missing)
    if alerted:
        note += f" · {len(alerted)} missing-rate alert{'s' * (len(alerted) != 1)} open"
    tiles.append(_tile("Missing-rate changes", str(len(missing)), note, "warn" if missing else ""))
    return tiles


def _metric_tile(report: Mapping[str, Any]) -> str:
    metric = primary_metric(report)
    perf = as_mapping(report.get("performance"))
    if metric is None:
        return _tile("Performance", DASH, "no labelled predictions yet")
    now = as_float(as_mapping(perf.get("overall")).get(metric))
    trained = as_float(as_mapping(perf.get("training")).get(metric))
    note = f"training {fmt_num(trained)}"
    tone = ""
    if now is not None and trained is not None:
        delta = now - trained
        sign, css = ("−", "down") if delta < 0 else ("+", "up")
        note += f' <b class="{css}">{sign}{fmt_num(abs(delta))}</b>'
        tone = "warn" if delta < -0.02 else "good"
    return _tile(f"{metric.replace('_', ' ').capitalize()} now", fmt_num(now), note, tone)


def _violation_totals(report: Mapping[str, Any]) -> dict[str, float]:
    validation = as_mapping(report.get("validation"))
    totals = {str(r): 0.0 for r in as_list(validation.get("rules"))}
    given = as_mapping(validation.get("totals"))
    if given:
        totals.update({str(k): as_float(v) or 0.0 for k, v in given.items()})
    else:
        for w in windows(report):
            for rule, count in as_mapping(w.get("violations")).items():
                totals[str(rule)] = totals.get(str(rule), 0.0) + (as_float(count) or 0.0)
    return totals


def _edge(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _distribution(name: str, dist: Mapping[str, Any]) -> str:
    ref = [as_float(v) for v in as_list(dist.get("reference"))]
    cur = [as_float(v) for v in as_list(dist.get("current"))]
    if not ref and not cur:
        return DASH
    categories = [as_text(c) or DASH for c in as_list(dist.get("categories"))]
    if dist.get("kind") == "categorical" or categories:
        return (
            category_bars(categories, ref, cur, label=f"{name}: reference vs current") if categories else DASH
        )
    edges = [_edge(e) for e in as_list(dist.get("edges"))]
    return histogram(edges, ref, cur, label=f"{name}: reference vs current")


def _threshold(column: Mapping[str, Any]) -> str:
    value = fmt_num(column.get("threshold"))
    if value == DASH:
        return DASH
    return f"p &lt; {value}" if column.get("test") in _P_VALUE_TESTS else f"≥ {value}"


def _status(column: Mapping[str, Any], per_window: Mapping[str, Any] | None = None, count: int = 0) -> str:
    """The feature's status: from its per-window figures when the report has a summary (the windows the
    charts mark), else from the merged period (older report dicts)."""
    if per_window is not None and (column.get("test") is not None or not column):
        drifted = as_int(per_window.get("windows_drifted")) or 0
        if drifted:
            return f'{badge("drifted", "bad")}<div class="dim">in {drifted} of {count} windows</div>'
        return badge("no drift", "good")
    if not column:
        return badge("no result", "muted")
    if column.get("test") is None:
        return f'<span title="{esc(as_text(column.get("note")) or "")}">{badge("not tested", "muted")}</span>'
    return badge("drifted", "bad") if column.get("drifted") is True else badge("no drift", "good")


def _missing(column: Mapping[str, Any]) -> str:
    text = f"{fmt_pct(column.get('missing_rate_ref'))} → {fmt_pct(column.get('missing_rate_cur'))}"
    if column.get("missing_drifted") is True:
        return f'<span class="warn-text">{esc(text)}</span> {badge("changed", "warn")}'
    return esc(text)


def feature_table(report: Mapping[str, Any]) -> str:
    """One row per feature, drifted first: test, statistic, threshold, status, missing rates, trend, chart."""
    names = feature_names(report)
    if not names:
        return card("Features", empty("No features in this report"))
    columns = columns_by_name(report)
    scores = feature_scores(report)
    dists = as_mapping(report.get("distributions"))
    summary = as_mapping(report.get("summary"))
    per_feature = as_mapping(summary.get("features")) if summary else None
    count = as_int(summary.get("windows")) or 0

    def drifted_in_windows(name: str) -> bool:
        if per_feature is None:
            return columns.get(name, {}).get("drifted") is True
        return (as_int(as_mapping(per_feature.get(name)).get("windows_drifted")) or 0) > 0

    order = sorted(
        range(len(names)),
        key=lambda i: (
            not drifted_in_windows(names[i]),
            columns.get(names[i], {}).get("missing_drifted") is not True,
            i,
        ),
    )
    rows = []
    for i in order:
        name = names[i]
        column = columns.get(name, {})
        dist = as_mapping(dists.get(name))
        kind = as_text(column.get("kind")) or as_text(dist.get("kind")) or DASH
        extra = ""
        new = [str(c) for c in as_list(column.get("new_categories"))]
        if new:
            extra = f'<div class="dim">new: {_names(new)}</div>'
        p_value = as_float(column.get("p_value"))
        stat = fmt_num(column.get("statistic")) + (
            f'<div class="dim">p = {fmt_num(p_value)}</div>' if p_value is not None else ""
        )
        drifted = "drifted" if drifted_in_windows(name) else ""
        feature_windows = None if per_feature is None else as_mapping(per_feature.get(name))
        rows.append(
            f'<tr class="{drifted}"><td class="name">{esc(name)}{extra}</td><td>{esc(kind)}</td>'
            f"<td>{esc(as_text(column.get('test')) or DASH)}</td><td class='num'>{stat}</td>"
            f"<td class='num'>{_threshold(column)}</td><td>{_status(column, feature_windows, count)}</td>"
            f"<td>{_missing(column)}</td>"
            f"<td>{trend(scores.get(name, []), name)}</td><td>{_distribution(name, dist)}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Feature",
            "Kind",
            "Test",
            "Statistic",
            "Threshold",
            "Status",
            "Missing ref → cur",
            "Score per window",
            "Reference vs current",
        )
    )
    legend = (
        '<div class="legend"><span><i class="box" style="background:#b8c4d6"></i>reference</span>'
        '<span><i class="box" style="background:#2563eb"></i>current</span></div>'
    )
    sub = f"{len(names)} features, drifted first; charts compare the reference with the whole period"
    if per_feature is not None:
        sub = (
            f"{len(names)} features, drifted first; status from the {count} windows (as charted and alerted),"
            " statistic and charts for the whole period against the reference"
        )
    body = (
        f'<div class="table-wrap"><table class="features"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    return card("Features", legend + body, sub)


def sketch_note(report: Mapping[str, Any]) -> str:
    """How far the sketch-based figures may be from exact ones (KLL's normalized rank error)."""
    sketch = as_mapping(report.get("sketch"))
    rank, pmf, k = as_float(sketch.get("rank_error")), as_float(sketch.get("pmf_error")), sketch.get("kll_k")
    if rank is None or pmf is None:
        return ""
    return (
        f'<p class="dim">Numeric distributions are KLL sketches (k = {esc(as_text(k) or DASH)}):'
        f" a quantile's rank is within ±{fmt_pct(rank, 2)} of the exact one,"
        f" a bin's mass within ±{fmt_pct(pmf, 2)}"
        " (99 % confidence); figures are the same on every read of the same windows.</p>"
    )
