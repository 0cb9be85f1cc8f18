"""Small inline SVG charts for HTML reports: line charts, sparklines, histograms and bar strips."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

__all__ = [
    "CURRENT_COLOR",
    "DRIFT_COLOR",
    "MUTED_COLOR",
    "PALETTE",
    "REFERENCE_COLOR",
    "Band",
    "RefLine",
    "Series",
    "bar_strip",
    "category_bars",
    "histogram",
    "legend",
    "line_chart",
    "nice_ticks",
    "sparkline",
]

PALETTE = ("#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#ea580c")
REFERENCE_COLOR = "#b8c4d6"
CURRENT_COLOR = "#2563eb"
DRIFT_COLOR = "#dc2626"
MUTED_COLOR = "#6b7280"
_GRID = "#e5e7eb"
_TEXT = "#6b7280"


@dataclass(frozen=True)
class Series:
    """One line: a value per window (None for a gap); ``alert`` marks points drawn red."""

    label: str
    values: Sequence[float | None]
    color: str
    alert: Sequence[bool] = ()
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class Band:
    """A shaded range per window (a confidence band): None where there is none."""

    lower: Sequence[float | None]
    upper: Sequence[float | None]
    color: str
    label: str = ""


@dataclass(frozen=True)
class RefLine:
    """A horizontal dashed line (a threshold, a training value)."""

    value: float
    label: str
    color: str = MUTED_COLOR


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _c(x: float) -> str:
    """A coordinate with one decimal, trailing zeros dropped: keeps the file small."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _g(value: float) -> str:
    return f"{value:.3g}"


def _finite(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _open(width: int, height: int, label: str, css: str) -> str:
    return (
        f'<svg class="{css}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(label)}" xmlns="http://www.w3.org/2000/svg">'
    )


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10ᵏ) from at or below ``lo`` to at or above ``hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi <= lo:
        hi = lo + (abs(lo) * 0.1 or 1.0)
    raw = (hi - lo) / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * magnitude >= raw * (1 - 1e-9))
    start = math.floor(lo / step + 1e-9) * step
    steps = math.ceil((hi - start) / step - 1e-9)
    return [round(start + i * step, 12) for i in range(max(steps, 1) + 1)]


def legend(items: Sequence[tuple[str, str, bool]]) -> str:
    """HTML legend of (label, color, dashed) entries."""
    spans = []
    for label, color, dashed in items:
        style = f"border-top:2px {'dashed' if dashed else 'solid'} {color}"
        spans.append(f'<span><i style="{style}"></i>{_e(label)}</span>')
    return f'<div class="legend">{"".join(spans)}</div>'


def line_chart(
    series: Sequence[Series],
    x_labels: Sequence[str],
    *,
    tips: Sequence[str] = (),
    refs: Sequence[RefLine] = (),
    y_range: tuple[float, float] | None = None,
    y_format: Callable[[float], str] = _g,
    width: int = 620,
    height: int = 240,
    label: str = "line chart",
    bands: Sequence[Band] = (),
) -> str:
    """Lines over windows with y grid, x labels, dashed reference lines, shaded ``bands`` and a tooltip on
    every point (naming its window by ``tips``, else by ``x_labels``)."""
    left, right, top, bottom = 46, 14, 12, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max([len(x_labels), *(len(s.values) for s in series)])
    values = [v for s in series for v in _finite(s.values)] + _finite([r.value for r in refs])
    values += [v for b in bands for v in _finite([*b.lower, *b.upper])]
    lo, hi = y_range or ((min(values), max(values)) if values else (0.0, 1.0))
    ticks = nice_ticks(lo, hi)
    y0, y1 = ticks[0], ticks[-1]

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - (min(max(v, y0), y1) - y0) / (y1 - y0))

    out = [_open(width, height, label, "chart")]
    for tick in ticks:
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_c(y(tick))}" y2="{_c(y(tick))}" stroke="{_GRID}"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{_c(y(tick) + 3.5)}" text-anchor="end" fill="{_TEXT}">'
            f"{_e(y_format(tick))}</text>"
        )
    every = max(1, math.ceil(n / 8))
    for i in range(0, len(x_labels), every):
        out.append(
            f'<text x="{_c(x(i))}" y="{height - 8}" text-anchor="middle" fill="{_TEXT}">'
            f"{_e(x_labels[i])}</text>"
        )
    for ref in refs:
        if math.isfinite(ref.value):
            ry = _c(y(ref.value))
            out.append(
                f'<line x1="{left}" x2="{width - right}" y1="{ry}" y2="{ry}" stroke="{ref.color}" '
                f'stroke-width="1.5" stroke-dasharray="5 4"><title>{_e(ref.label)}</title></line>'
            )
            out.append(
                f'<text x="{width - right - 2}" y="{_c(y(ref.value) - 4)}" text-anchor="end" '
                f'fill="{ref.color}">{_e(ref.label)}</text>'
            )
    for band in bands:
        out.extend(_band_svg(band, x, y))
    for s in series:
        out.extend(_series_svg(s, tips or x_labels, x, y, y_format))
    out.append("</svg>")
    return "".join(out)


def _band_svg(band: Band, x: Callable[[int], float], y: Callable[[float], float]) -> list[str]:
    """One polygon per run of windows that have both edges (a lone window: a short bar)."""
    edges: list[tuple[float, float] | None] = [
        (lo, hi) if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi) else None
        for lo, hi in zip(band.lower, band.upper, strict=False)
    ]
    out: list[str] = []
    run: list[tuple[int, float, float]] = []
    for i, edge in enumerate([*edges, None]):
        if edge is not None:
            run.append((i, *edge))
            continue
        if len(run) == 1:
            j, lo, hi = run[0]
            out.append(
                f'<line x1="{_c(x(j))}" x2="{_c(x(j))}" y1="{_c(y(lo))}" y2="{_c(y(hi))}" '
                f'stroke="{band.color}" stroke-opacity="0.3" stroke-width="8"/>'
            )
        elif run:
            points = [f"{_c(x(j))},{_c(y(hi))}" for j, _, hi in run]
            points += [f"{_c(x(j))},{_c(y(lo))}" for j, lo, _ in reversed(run)]
            out.append(
                f'<polygon points="{" ".join(points)}" fill="{band.color}" fill-opacity="0.15" '
                f'stroke="none"><title>{_e(band.label)}</title></polygon>'
            )
        run = []
    return out


def _series_svg(
    s: Series,
    x_labels: Sequence[str],
    x: Callable[[int], float],
    y: Callable[[float], float],
    y_format: Callable[[float], str],
) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    points = [*s.values, None]
    for i, value in enumerate(points):
        if value is not None and math.isfinite(value):
            run.append(f"{_c(x(i))},{_c(y(value))}")
            continue
        if len(run) > 1:
            out.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{s.color}" stroke-width="2" '
                'stroke-linejoin="round"/>'
            )
        run = []
    for i, value in enumerate(s.values):
        if value is None or not math.isfinite(value):
            continue
        alert = i < len(s.alert) and s.alert[i]
        when = x_labels[i] if i < len(x_labels) else f"#{i + 1}"
        note = f" · {s.notes[i]}" if i < len(s.notes) and s.notes[i] else ""
        # A drifted point keeps its line's colour inside a red ring, so several lines stay told apart.
        ring, r, ring_w = (DRIFT_COLOR, 3.6, 1.6) if alert else ("#fff", 2.5, 1)
        out.append(
            f'<circle cx="{_c(x(i))}" cy="{_c(y(value))}" r="{r}" fill="{s.color}" stroke="{ring}" '
            f'stroke-width="{ring_w}">'
            f"<title>{_e(s.label)} · {_e(when)}: {_e(y_format(value))}{_e(note)}</title></circle>"
        )
    return out


def sparkline(
    values: Sequence[float | None],
    *,
    threshold: float | None = None,
    alert: Sequence[bool] = (),
    width: int = 130,
    height: int = 30,
    label: str = "trend",
) -> str:
    """A tiny trend line with a dashed threshold; alert points are red dots."""
    finite = _finite(values) + _finite([threshold])
    hi = max(finite) * 1.08 if finite else 1.0
    lo = min(0.0, *finite) if finite else 0.0
    hi = hi if hi > lo else lo + 1.0
    n = len(values)

    def x(i: int) -> float:
        return 3 + (width - 6) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return 3 + (height - 6) * (1 - (v - lo) / (hi - lo))

    out = [_open(width, height, label, "spark")]
    if threshold is not None and math.isfinite(threshold):
        ty = _c(y(threshold))
        out.append(
            f'<line x1="0" x2="{width}" y1="{ty}" y2="{ty}" stroke="{MUTED_COLOR}" stroke-dasharray="3 3"/>'
        )
    points = [f"{_c(x(i))},{_c(y(v))}" for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if points:
        out.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{CURRENT_COLOR}" stroke-width="1.5"/>'
        )
    for i, v in enumerate(values):
        if v is not None and math.isfinite(v) and i < len(alert) and alert[i]:
            out.append(f'<circle cx="{_c(x(i))}" cy="{_c(y(v))}" r="2" fill="{DRIFT_COLOR}"/>')
    out.append("</svg>")
    return "".join(out)


def _shares(values: Sequence[float | None]) -> list[float]:
    """Values as shares of their total (counts or probabilities alike); gaps and negatives count as 0."""
    clean = [v if v is not None and math.isfinite(v) and v > 0 else 0.0 for v in values]
    total = sum(clean)
    return [v / total for v in clean] if total > 0 else clean


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _value_scaled(edges: Sequence[float | None], n: int) -> list[float] | None:
    """The edges as floats if a value axis reads well: finite, increasing, no bin over 60% of the range."""
    if n == 0 or len(edges) != n + 1:
        return None
    values = [e for e in edges if e is not None and math.isfinite(e)]
    if len(values) != n + 1 or any(b <= a for a, b in itertools.pairwise(values)):
        return None
    span = values[-1] - values[0]
    return values if max(b - a for a, b in itertools.pairwise(values)) <= 0.6 * span else None


def histogram(
    edges: Sequence[float | None],
    reference: Sequence[float | None],
    current: Sequence[float | None],
    *,
    width: int = 240,
    height: int = 60,
    label: str = "distribution",
) -> str:
    """Reference bars under a current step line.

    On a value axis with density heights when the edges allow (see ``_value_scaled``); otherwise one
    equal slot per bin with share heights, as for equal-mass bins with a far tail or infinite ends.
    """
    ref, cur = _shares(reference), _shares(current)
    n = max(len(ref), len(cur))
    ref, cur = ref + [0.0] * (n - len(ref)), cur + [0.0] * (n - len(cur))
    labelled = len(edges) == n + 1
    scaled = _value_scaled(edges, n)
    if scaled is not None:
        span = scaled[-1] - scaled[0]
        xs = [2 + (width - 4) * (e - scaled[0]) / span for e in scaled]
        widths = [b - a for a, b in itertools.pairwise(scaled)]
        ref_h = [r / w for r, w in zip(ref, widths, strict=True)]
        cur_h = [c / w for c, w in zip(cur, widths, strict=True)]
    else:
        xs = [2 + (width - 4) * i / max(n, 1) for i in range(n + 1)]
        ref_h, cur_h = ref, cur
    bottom = 14 if labelled else 2
    plot_h = height - bottom - 4
    top = max([*ref_h, *cur_h, 1e-12])

    def y(value: float) -> float:
        return 4 + plot_h * (1 - value / top)

    out = [_open(width, height, label, "mini")]
    for i in range(n):
        bin_text = f"[{_g_or_dash(edges[i])}, {_g_or_dash(edges[i + 1])})" if labelled else f"bin {i + 1}"
        bar_w = max(xs[i + 1] - xs[i] - 1, 0.5)
        out.append(
            f'<rect x="{_c(xs[i] + 0.5)}" y="{_c(y(ref_h[i]))}" width="{_c(bar_w)}" '
            f'height="{_c(4 + plot_h - y(ref_h[i]))}" fill="{REFERENCE_COLOR}"><title>{_e(bin_text)}: '
            f"reference {_pct(ref[i])}, current {_pct(cur[i])}</title></rect>"
        )
    if n:
        steps = [f"{_c(xs[0])},{_c(y(0))}"]
        steps += [f"{_c(xs[i])},{_c(y(cur_h[i]))} {_c(xs[i + 1])},{_c(y(cur_h[i]))}" for i in range(n)]
        steps.append(f"{_c(xs[n])},{_c(y(0))}")
        out.append(
            f'<polyline points="{" ".join(steps)}" fill="{CURRENT_COLOR}" fill-opacity="0.12" '
            f'stroke="{CURRENT_COLOR}" stroke-width="1.6"/>'
        )
    out.append(f'<line x1="2" x2="{width - 2}" y1="{_c(y(0))}" y2="{_c(y(0))}" stroke="#9ca3af"/>')
    if labelled and n:
        ticks: list[tuple[float, float | None, str]] = [(xs[0], edges[0], "start"), (xs[n], edges[n], "end")]
        if scaled is not None:
            ticks.insert(1, ((xs[0] + xs[n]) / 2, (scaled[0] + scaled[-1]) / 2, "middle"))
        else:
            ticks.insert(1, (xs[n // 2], edges[n // 2], "middle"))
        for x, value, anchor in ticks:
            out.append(
                f'<text x="{_c(x)}" y="{height - 2}" text-anchor="{anchor}" fill="{_TEXT}">'
                f"{_e(_g_or_dash(value))}</text>"
            )
    out.append("</svg>")
    return "".join(out)


def _g_or_dash(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return _g(value) if math.isfinite(value) else ("∞" if value > 0 else "−∞")


def category_bars(
    categories: Sequence[str],
    reference: Sequence[float | None],
    current: Sequence[float | None],
    *,
    width: int = 240,
    height: int = 60,
    limit: int = 8,
    label: str = "categories",
) -> str:
    """Side-by-side reference and current bars for the first ``limit`` categories, names underneath."""
    n = min(len(categories), limit)
    ref, cur = _shares(reference), _shares(current)
    ref, cur = ref + [0.0] * (n - len(ref)), cur + [0.0] * (n - len(cur))
    plot_h = height - 18
    top_share = max([*ref[:n], *cur[:n], 1e-12])
    slot = (width - 4) / max(n, 1)
    bar = min(14.0, (slot - 4) / 2)

    def y(share: float) -> float:
        return 4 + plot_h * (1 - share / top_share)

    out = [_open(width, height, label, "mini")]
    for i in range(n):
        center = 2 + (i + 0.5) * slot
        tip = f"<title>{_e(categories[i])}: reference {_pct(ref[i])}, current {_pct(cur[i])}</title>"
        for x0, share, color in (
            (center - bar - 0.5, ref[i], REFERENCE_COLOR),
            (center + 0.5, cur[i], CURRENT_COLOR),
        ):
            out.append(
                f'<rect x="{_c(x0)}" y="{_c(y(share))}" width="{_c(bar)}" '
                f'height="{_c(4 + plot_h - y(share))}" fill="{color}">{tip}</rect>'
            )
        name = categories[i] if len(categories[i]) <= 8 else categories[i][:7] + "…"
        out.append(
            f'<text x="{_c(center)}" y="{height - 3}" text-anchor="middle" fill="{_TEXT}">'
            f"{_e(name)}{tip}</text>"
        )
    out.append(f'<line x1="2" x2="{width - 2}" y1="{_c(y(0))}" y2="{_c(y(0))}" stroke="#9ca3af"/>')
    out.append("</svg>")
    return "".join(out)


def bar_strip(
    values: Sequence[float | None],
    x_labels: Sequence[str],
    *,
    width: int = 180,
    height: int = 26,
    label: str = "per window",
) -> str:
    """One bar per window, red where the value is above zero; a gap is a grey tick."""
    n = len(values)
    finite = _finite(values)
    top = max([*finite, 1e-12])
    slot = width / max(n, 1)
    out = [_open(width, height, label, "spark")]
    for i, value in enumerate(values):
        when = x_labels[i] if i < len(x_labels) else f"#{i + 1}"
        if value is None or not math.isfinite(value):
            bar_h, color, text = 1.0, _GRID, "—"
        else:
            bar_h = max(1.0, (height - 2) * value / top) if value > 0 else 1.0
            color, text = (DRIFT_COLOR if value > 0 else "#cbd5e1"), f"{value:,.0f}"
        out.append(
            f'<rect x="{_c(i * slot + 0.5)}" y="{_c(height - bar_h)}" width="{_c(max(slot - 1, 0.5))}" '
            f'height="{_c(bar_h)}" fill="{color}"><title>{_e(when)}: {_e(text)}</title></rect>'
        )
    out.append("</svg>")
    return "".join(out)
