"""A stakeholder report's evaluated panels as HTML sections: tables and inline SVG charts, user text
escaped. Pure functions of the panel dicts ``services/reports/panels.py`` produces."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mltrail.render.html_values import (
    as_list,
    as_mapping,
    badge,
    card,
    empty,
    esc,
    fmt_num,
    fmt_pct,
    fmt_time,
)
from mltrail.render.svg_charts import PALETTE, Series, legend, line_chart

__all__ = ["render_panel"]

_MAX_X = 400  # points along a chart's x axis


def _cell(value: Any) -> str:
    if value is None:
        return '<span class="dim">–</span>'
    if isinstance(value, bool):
        return esc(str(value).lower())
    if isinstance(value, int | float):
        return f'<span class="num">{esc(fmt_num(value))}</span>'
    return esc(value)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], css: str = "") -> str:
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    table = f'<table class="{css}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'
    return f'<div class="table-wrap">{table}</div>'


def _facts(items: Sequence[tuple[str, str]]) -> str:
    return (
        '<dl class="facts">'
        + "".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in items)
        + "</dl>"
    )


def _runs(data: Mapping[str, Any]) -> str:
    columns = [str(c) for c in as_list(data.get("columns"))][1:]  # the id stays out: names are for people
    rows = [[_cell(v) for v in as_list(row)[1:]] for row in as_list(data.get("rows"))]
    if not rows:
        return empty("No run matches.")
    note = f'<p class="sub">{len(rows)} of {esc(data.get("total"))} runs</p>'
    return _table(columns, rows) + note


def _metrics(data: Mapping[str, Any]) -> str:
    out = []
    series_all = [as_mapping(s) for s in as_list(data.get("series"))]
    if not series_all:
        return empty("None of these runs logged these metrics.")
    for key in as_list(data.get("keys")):
        chosen = [s for s in series_all if s.get("key") == key]
        if not chosen:
            continue
        steps = sorted({int(x) for s in chosen for x in as_list(s.get("steps"))})
        if len(steps) > _MAX_X:
            every = len(steps) / _MAX_X
            steps = [steps[int(i * every)] for i in range(_MAX_X)]
        lines = []
        for i, s in enumerate(chosen):
            at = dict(zip(as_list(s.get("steps")), as_list(s.get("values")), strict=False))
            color = PALETTE[i % len(PALETTE)]
            values = [at.get(step) for step in steps]
            lines.append(
                Series(str(s.get("run")), [v if isinstance(v, int | float) else None for v in values], color)
            )
        chart = line_chart(lines, [str(step) for step in steps], label=f"{key} by step")
        out.append(
            f'<h3>{esc(key)}</h3><div class="chart-box">{chart}</div>'
            + legend([(ln.label, ln.color, False) for ln in lines])
        )
    return "".join(out)


def _compare(data: Mapping[str, Any]) -> str:
    a, b = as_mapping(data.get("a")), as_mapping(data.get("b"))
    rows = []
    for row in map(as_mapping, as_list(data.get("rows"))):
        mark = badge("differs", "warn") if row.get("differs") else ""
        rows.append([esc(row.get("key")), _cell(row.get("a")), _cell(row.get("b")), mark])
    return _table(["", f"a: {a.get('name')}", f"b: {b.get('name')}", ""], rows, "compare")


def _samples(data: Mapping[str, Any]) -> str:
    a, b = as_mapping(data.get("a")), as_mapping(data.get("b"))
    facts = [
        ("runs", f"{esc(a.get('name'))} → {esc(b.get('name'))}"),
        ("matched rows", esc(data.get("matched"))),
        ("error", f"{fmt_pct(data.get('error_a'))} → {fmt_pct(data.get('error_b'))}"),
        ("got worse", esc(as_mapping(data.get("right_to_wrong")).get("count", data.get("worse")))),
        ("got better", esc(as_mapping(data.get("wrong_to_right")).get("count", data.get("better")))),
    ]
    slices = [
        [
            esc(s.get("slice")),
            _cell(s.get("rows")),
            fmt_pct(s.get("error_a")),
            fmt_pct(s.get("error_b")),
            fmt_pct(s.get("rise")),
            _cell(s.get("p")),
        ]
        for s in map(as_mapping, as_list(data.get("slices")))
    ]
    table = (
        _table(["slice", "rows", "error a", "error b", "rise", "p"], slices)
        if slices
        else empty("No slice got surely worse.")
    )
    return _facts(facts) + "<h3>Slices where the error rose most</h3>" + table


def _model(data: Mapping[str, Any]) -> str:
    run = as_mapping(data.get("run"))
    facts = [
        ("version", f"{esc(data.get('model'))} v{esc(data.get('version'))}"),
        ("stage", esc(data.get("stage"))),
        ("aliases", esc(", ".join(map(str, as_list(data.get("aliases")))) or "–")),
        ("registered", f"{esc(data.get('registered_by') or '–')}, {fmt_time(data.get('registered_at'))}"),
        ("flavor", esc(data.get("flavor"))),
    ]
    desc = data.get("description") or data.get("version_description")
    parts = [_facts(facts)]
    if desc:
        parts.append(f"<p>{esc(desc)}</p>")
    if run:
        parts.append("<h3>Lineage</h3>")
        parts.append(
            _facts(
                [
                    ("run", f"{esc(run.get('name'))} <code>{esc(str(run.get('id'))[:12])}</code>"),
                    (
                        "commit",
                        f"<code>{esc(str(run.get('commit') or '–')[:12])}</code>"
                        f" {esc(run.get('branch') or '')}",
                    ),
                    ("by", esc(run.get("user") or "–")),
                ]
            )
        )
        metrics = as_mapping(data.get("metrics"))
        if metrics:
            parts.append(_table(["metric", "value"], [[esc(k), _cell(v)] for k, v in metrics.items()]))
        datasets = [as_mapping(d) for d in as_list(data.get("datasets"))]
        if datasets:
            parts.append(
                _table(
                    ["dataset", "role", "version", "rows"],
                    [
                        [esc(d.get("name")), esc(d.get("role")), esc(d.get("version")), _cell(d.get("rows"))]
                        for d in datasets
                    ],
                )
            )
    approvals = [as_mapping(r) for r in as_list(data.get("approvals"))]
    parts.append("<h3>Approvals</h3>")
    if approvals:
        rows = []
        for r in approvals:
            decided = "; ".join(
                f"{d.get('user')}: {'approved' if d.get('approve') else 'rejected'}"
                for d in map(as_mapping, as_list(r.get("decisions")))
            )
            rows.append(
                [
                    esc(r.get("target")),
                    esc(r.get("status")),
                    esc(r.get("requested_by") or "–"),
                    esc(decided or "–"),
                ]
            )
        parts.append(_table(["to", "status", "requested by", "decisions"], rows))
    else:
        parts.append(empty("No approval requests for this version."))
    return "".join(parts)


def _drift_badge(window: Mapping[str, Any]) -> str:
    columns = len(as_list(window.get("drifted")))
    if window.get("dataset_drifted"):
        return badge("dataset drift", "bad")
    if columns:
        return badge(f"{columns} column{'s' if columns > 1 else ''}", "warn")
    return badge("ok", "good")


def _monitor(data: Mapping[str, Any]) -> str:
    mon, period = as_mapping(data.get("monitor")), as_mapping(data.get("period"))
    drift = [as_mapping(w) for w in as_list(data.get("drift"))]
    drifted = [w for w in drift if w.get("dataset_drifted") or as_list(w.get("drifted"))]
    facts = [
        ("model", f"{esc(mon.get('model') or '–')} v{esc(mon.get('version') or '–')}"),
        ("period", f"{fmt_time(period.get('start'))} – {fmt_time(period.get('end'))}"),
        ("rows", esc(data.get("current_rows"))),
        ("windows with drift", f"{len(drifted)} of {len(drift)}"),
    ]
    rows = [
        [
            esc(fmt_time(w.get("start"))),
            _cell(w.get("rows")),
            _drift_badge(w),
            esc(", ".join(map(str, as_list(w.get("drifted")))) or "–"),
        ]
        for w in drift[-12:]
    ]
    parts = [_facts(facts), "<h3>Drift, latest windows</h3>"]
    parts.append(
        _table(["window", "rows", "drift", "drifted columns"], rows) if rows else empty("No traffic yet.")
    )
    perf = as_mapping(data.get("performance"))
    overall = as_mapping(perf.get("overall")) if perf else {}
    if overall:
        parts.append("<h3>Performance</h3>")
        parts.append(
            _table(
                ["figure", "value"],
                [[esc(k), _cell(v)] for k, v in overall.items() if not isinstance(v, dict | list)],
            )
        )
    alerts = [as_mapping(a) for a in as_list(data.get("alerts"))]
    if alerts:
        parts.append("<h3>Alerts</h3>")
        parts.append(
            _table(
                ["rule", "state", "opened"],
                [
                    [esc(a.get("title")), esc(a.get("state")), fmt_time(a.get("opened_at"))]
                    for a in alerts[:10]
                ],
            )
        )
    return "".join(parts)


_RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "runs": _runs,
    "metrics": _metrics,
    "compare": _compare,
    "samples": _samples,
    "model": _model,
    "monitor": _monitor,
}


def render_panel(panel: Mapping[str, Any]) -> str:
    """One panel as a card: its data, or a grey note when hidden, or a red one with its error."""
    title = str(panel.get("title") or panel.get("type"))
    status = panel.get("status")
    if status == "hidden":
        return card(title, f'<p class="hidden-note">{esc(panel.get("message"))}</p>', css="hidden")
    if status != "ok":
        return card(
            title, f'<p class="error-note">{esc(panel.get("message") or "not evaluated")}</p>', css="error"
        )
    render = _RENDERERS.get(str(panel.get("type")))
    body = render(as_mapping(panel.get("data"))) if render is not None else empty("Unknown panel type.")
    return card(title, body, sub=str(panel.get("type")))
