"""The HTML report's estimated-performance card: each metric estimated per window before labels (CBPE),
its confidence band, and the realized value beside it once labels arrived, with the estimate's error."""

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
    esc,
    fmt_int,
    fmt_num,
    window_labels,
    windows,
)
from mltrail.render.svg_charts import MUTED_COLOR, PALETTE, Band, Series, legend, line_chart

__all__ = ["estimated_performance"]

_TITLES = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "roc_auc": "ROC AUC",
    "mae": "MAE",
    "rmse": "RMSE",
}
_REALIZED = "#111827"


def _chart(report: Mapping[str, Any], metric: str, color: str) -> str | None:
    rows = windows(report)
    estimated = [as_mapping(as_mapping(w.get("estimated")).get(metric)) for w in rows]
    values = [as_float(e.get("value")) for e in estimated]
    if all(v is None for v in values):
        return None
    realized = [as_float(as_mapping(w.get("performance")).get(metric)) for w in rows]
    band = Band(
        [as_float(e.get("lower")) for e in estimated],
        [as_float(e.get("upper")) for e in estimated],
        color,
        f"{metric}: confidence band",
    )
    notes = [
        f"band {fmt_num(e.get('lower'))}–{fmt_num(e.get('upper'))} ·"
        f" {fmt_int(as_mapping(w.get('estimated')).get('rows'))} rows"
        if e
        else ""
        for e, w in zip(estimated, rows, strict=True)
    ]
    series = [Series(f"estimated {metric}", values, color, notes=notes)]
    if any(r is not None for r in realized):
        series.append(Series(f"realized {metric}", realized, _REALIZED))
    chart = line_chart(
        series,
        window_labels(report, short=True),
        tips=window_labels(report, short=False),
        bands=[band],
        width=620,
        height=200,
        label=f"estimated {metric} per window",
    )
    title = esc(_TITLES.get(metric, metric))
    return f'<div class="chart-box"><div class="note"><b>{title}</b></div>{chart}</div>'


def _error_line(section: Mapping[str, Any]) -> str:
    error = as_mapping(section.get("error"))
    parts = []
    for metric, figures in error.items():
        f = as_mapping(figures)
        parts.append(
            f"{esc(_TITLES.get(str(metric), str(metric)))}: mean error {fmt_num(f.get('mae'))} over"
            f" {fmt_int(f.get('windows'))} labelled windows, {fmt_int(f.get('within_band'))} inside the band"
        )
    if not parts:
        return "No labels yet: the realized line appears, with the estimate's error, once they arrive."
    return "Estimate against realized — " + "; ".join(parts) + "."


def estimated_performance(report: Mapping[str, Any]) -> str:
    """The card; a short note when the monitor is not calibrated (or the report predates estimation)."""
    section = as_mapping(report.get("estimation"))
    if not section:
        return ""
    title = "Estimated performance (before labels)"
    if not section.get("calibrated"):
        note = as_text(section.get("note")) or "not calibrated"
        return card(title, empty(f"Performance estimation: {note}"))
    metrics = [str(m) for m in as_list(section.get("metrics"))]
    charts = [
        c for k, m in enumerate(metrics) if (c := _chart(report, m, PALETTE[k % len(PALETTE)])) is not None
    ]
    if not charts:
        return card(title, empty("No predicted probabilities (score columns) in this period"))
    items = [
        ("estimated (shaded: confidence band)", PALETTE[0], False),
        ("realized, from labels", _REALIZED, False),
    ]
    classes = ", ".join(str(c) for c in as_list(section.get("classes")))
    sub = (  # card() escapes it
        f"CBPE: {as_text(section.get('kind'))} classifier calibrated on"
        f" {fmt_int(section.get('reference_rows'))} labelled reference rows (classes {classes})."
    )
    if section.get("method") == "DLE":
        inputs = ", ".join(str(c) for c in as_list(section.get("inputs")))
        sub = (
            f"Direct loss estimation: models of the absolute and squared error fitted on"
            f" {fmt_int(section.get('reference_rows'))} labelled reference rows (inputs {inputs})."
        )
    sub += f" {as_text(section.get('band')) or ''}"
    body = (
        f'<div class="grid2">{"".join(charts)}</div>'
        + legend(items)
        + f'<p class="note" style="color:{MUTED_COLOR}">{_error_line(section)}</p>'
    )
    return card(title, body, sub)
