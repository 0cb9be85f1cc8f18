"""The over-time cards of the HTML monitoring report: drift share, feature drift scores and performance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail.render.html_values import (
    as_float,
    as_list,
    as_mapping,
    as_text,
    card,
    empty,
    fmt_int,
    fmt_num,
    window_labels,
    windows,
)
from mltrail.render.svg_charts import PALETTE, RefLine, Series, legend, line_chart, sparkline

__all__ = ["drift_over_time", "feature_scores", "performance_over_time", "score_value"]

_P_VALUE_TESTS = frozenset({"ks", "chisquare"})
_COUNT_KEYS = frozenset({"labeled", "rows", "count", "n"})
_MAX_LINES = 8


def score_value(score: Mapping[str, Any]) -> float | None:
    """The value compared with the threshold: the p-value for KS and chi-square (when given), else the
    statistic."""
    if score.get("test") in _P_VALUE_TESTS and as_float(score.get("p_value")) is not None:
        return as_float(score.get("p_value"))
    return as_float(score.get("statistic"))


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def _share_chart(report: Mapping[str, Any], labels: list[str], tips: list[str]) -> str:
    rows = windows(report)
    shares = [as_float(w.get("share_drifted")) for w in rows]
    drift_share = as_float(as_mapping(report.get("overall")).get("drift_share"))
    alert = [
        w.get("dataset_drifted") is True or (s is not None and drift_share is not None and s >= drift_share)
        for w, s in zip(rows, shares, strict=True)
    ]
    notes = []
    for w in rows:
        drifted = [str(d) for d in as_list(w.get("drifted"))]
        shown = ", ".join(drifted[:4]) + (f" +{len(drifted) - 4}" if len(drifted) > 4 else "")
        notes.append(
            f"{len(drifted)} drifted{': ' + shown if drifted else ''} · {fmt_int(w.get('rows'))} rows"
        )
    refs = [RefLine(drift_share, f"dataset drift at {_percent(drift_share)}")] if drift_share else []
    chart = line_chart(
        [Series("share of drifted features", shares, PALETTE[0], alert=alert, notes=notes)],
        labels,
        tips=tips,
        refs=refs,
        y_range=(0.0, max([0.25, *(s for s in shares if s is not None), drift_share or 0.0])),
        y_format=_percent,
        label="share of drifted features per window",
    )
    body = f'<div class="chart-box">{chart}</div>' + legend(
        [("share of drifted features", PALETTE[0], False), ("dataset drift threshold", "#6b7280", True)]
    )
    return card(
        "Drift over time",
        body,
        "Share of tested features that drifted in each window; red points: data set drift",
    )


def feature_scores(report: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """Each feature's per-window score dicts ({} where a window has none)."""
    rows = windows(report)
    out: dict[str, list[Mapping[str, Any]]] = {}
    for i, w in enumerate(rows):
        for name, score in as_mapping(w.get("scores")).items():
            out.setdefault(str(name), [{} for _ in rows])[i] = as_mapping(score)
    return out


def _score_chart(report: Mapping[str, Any], labels: list[str], tips: list[str]) -> str:
    scores = feature_scores(report)
    drifted_windows = {name: sum(s.get("drifted") is True for s in per) for name, per in scores.items()}
    overall = {str(c) for c in as_list(as_mapping(report.get("overall")).get("drifted_columns"))}
    chosen = sorted(
        (n for n in scores if drifted_windows[n] or n in overall), key=lambda n: -drifted_windows[n]
    )[:_MAX_LINES]
    sub = "Per-feature drift score of the features that drifted; dashed: threshold"
    if not chosen:
        chosen = sorted(scores, key=lambda n: -_peak_ratio(scores[n]))[:3]
        sub = "No feature drifted; the three closest to their threshold"
    if not chosen:
        return card("Feature drift scores", empty("No per-window scores in this report"))
    series: list[Series] = []
    thresholds: dict[float, str] = {}
    for k, name in enumerate(chosen):
        per = scores[name]
        color = PALETTE[(k + 1) % len(PALETTE)]
        series.append(
            Series(name, [score_value(s) for s in per], color, alert=[s.get("drifted") is True for s in per])
        )
        for s in per:
            value = as_float(s.get("threshold"))
            if value is not None:
                label = f"threshold {fmt_num(value)}" + (
                    " (p-value)" if s.get("test") in _P_VALUE_TESTS else ""
                )
                thresholds.setdefault(round(value, 9), label)
    refs = [RefLine(v, label) for v, label in sorted(thresholds.items())[:3]]
    chart = line_chart(series, labels, tips=tips, refs=refs, label="drift score per feature and window")
    items = [(s.label, s.color, False) for s in series] + [("threshold", "#6b7280", True)]
    return card("Feature drift scores", f'<div class="chart-box">{chart}</div>' + legend(items), sub)


def _peak_ratio(per: list[Mapping[str, Any]]) -> float:
    ratios = []
    for s in per:
        value, threshold = score_value(s), as_float(s.get("threshold"))
        if value is not None and threshold:
            ratios.append(
                threshold / max(value, 1e-12) if s.get("test") in _P_VALUE_TESTS else value / threshold
            )
    return max(ratios, default=0.0)


def drift_over_time(report: Mapping[str, Any]) -> str:
    """Two cards side by side: share of drifted features, and the drifted features' scores."""
    if not windows(report):
        return card("Drift over time", empty("No windows in this period"))
    labels, tips = window_labels(report, short=True), window_labels(report, short=False)
    return (
        f'<div class="grid2">{_share_chart(report, labels, tips)}{_score_chart(report, labels, tips)}</div>'
    )


def performance_over_time(report: Mapping[str, Any]) -> str:
    """Model metrics per window, each with the training run's value as a dashed line of its colour."""
    rows = windows(report)
    perf = [as_mapping(w.get("performance")) for w in rows]
    metrics: dict[str, None] = {}
    for p in perf:
        metrics.update(
            {str(k): None for k, v in p.items() if k not in _COUNT_KEYS and as_float(v) is not None}
        )
    training = as_mapping(as_mapping(report.get("performance")).get("training"))
    if not metrics:
        return card("Performance over time", empty("No labelled predictions in this period yet"))
    series, refs, items = [], [], []
    for k, metric in enumerate(list(metrics)[:4]):
        color = PALETTE[k % len(PALETTE)]
        notes = [
            f"{fmt_int(p.get('labeled'))} labelled" if p.get("labeled") is not None else "" for p in perf
        ]
        series.append(Series(metric, [as_float(p.get(metric)) for p in perf], color, notes=notes))
        items.append((metric, color, False))
        trained = as_float(training.get(metric))
        if trained is not None:
            refs.append(RefLine(trained, f"training {metric} {fmt_num(trained)}", color))
            items.append((f"training {metric}", color, True))
    chart = line_chart(
        series,
        window_labels(report, short=True),
        tips=window_labels(report, short=False),
        refs=refs,
        width=1240,
        height=230,
        label="model performance per window",
    )
    task = as_text(as_mapping(report.get("performance")).get("task"))
    sub = "Metrics on labelled predictions per window; dashed: the training run's value"
    return card(
        "Performance over time",
        f'<div class="chart-box">{chart}</div>' + legend(items),
        sub + (f" · {task}" if task else ""),
    )


def trend(per: list[Mapping[str, Any]], name: str) -> str:
    """A feature's per-window score as a sparkline, or "—" without scores."""
    values = [score_value(s) for s in per]
    if all(v is None for v in values):
        return "—"
    threshold = next(
        (as_float(s.get("threshold")) for s in per if as_float(s.get("threshold")) is not None), None
    )
    return sparkline(
        values, threshold=threshold, alert=[s.get("drifted") is True for s in per], label=f"{name} trend"
    )
