"""Readers, formatters and markup helpers of the HTML report; None, NaN, inf and bad types show "—"."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

__all__ = [
    "DASH",
    "as_float",
    "as_int",
    "as_list",
    "as_mapping",
    "as_text",
    "badge",
    "card",
    "columns_by_name",
    "empty",
    "esc",
    "feature_names",
    "fmt_int",
    "fmt_num",
    "fmt_pct",
    "fmt_time",
    "time_format",
    "window_labels",
    "windows",
]

DASH = "—"
_EMPTY: Mapping[str, Any] = {}


def esc(value: object) -> str:
    """HTML-escaped text of any value (quotes too, so it is safe in attributes)."""
    return escape(str(value), quote=True)


def as_mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else _EMPTY


def as_list(value: object) -> list[Any]:
    # A string is a sequence too, but never a list of items here.
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return []


def as_float(value: object) -> float | None:
    """A finite float, or None for None, NaN, ±inf, booleans and anything not a real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def as_int(value: object) -> int | None:
    number = as_float(value)
    return round(number) if number is not None else None


def as_text(value: object) -> str | None:
    """A non-empty string form of a str or number, else None."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, numbers.Real):
        return str(value) if as_float(value) is not None else None
    return None


def fmt_num(value: object) -> str:
    """Three significant digits below 1,000, thousands separators above."""
    number = as_float(value)
    if number is None:
        return DASH
    if number == 0:
        return "0"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.3g}"


def fmt_int(value: object) -> str:
    number = as_int(value)
    return DASH if number is None else f"{number:,}"


def fmt_pct(value: object, digits: int = 1) -> str:
    number = as_float(value)
    return DASH if number is None else f"{number * 100:.{digits}f}%"


def time_format(granularity: object) -> str:
    """strftime pattern for window times: dates for daily or coarser windows, minutes below."""
    return "%Y-%m-%d %H:%M" if granularity in ("minute", "hour") else "%Y-%m-%d"


def fmt_time(value: object, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """Epoch seconds as UTC time."""
    seconds = as_float(value)
    if seconds is None:
        return DASH
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime(pattern)
    except (OverflowError, OSError, ValueError):
        return DASH


def badge(text: str, tone: str) -> str:
    """A pill; tone is one of bad, good, warn, muted, info (CSS classes)."""
    return f'<span class="badge {tone}">{esc(text)}</span>'


def empty(text: str) -> str:
    return f'<p class="empty">{esc(text)}</p>'


def card(title: str, body: str, sub: str = "", css: str = "") -> str:
    head = f"<h2>{esc(title)}</h2>" + (f'<p class="sub">{esc(sub)}</p>' if sub else "")
    return f'<section class="card {css}"><div class="card-head">{head}</div>{body}</section>'


def windows(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [as_mapping(w) for w in as_list(report.get("windows"))]


def window_labels(report: Mapping[str, Any], *, short: bool) -> list[str]:
    """Window start times: short for axes, full (start → end) for tooltips and tables."""
    granularity = as_mapping(report.get("monitor")).get("granularity")
    fine = granularity in ("minute", "hour")
    labels = []
    for i, window in enumerate(windows(report)):
        if short:
            label = fmt_time(window.get("start"), "%d %H:%M" if fine else "%b %d")
        else:
            label = fmt_time(window.get("start"), time_format(granularity))
        labels.append(f"#{i + 1}" if label == DASH else label)
    return labels


def columns_by_name(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The ColumnDrift dicts of the overall result, by column name."""
    out: dict[str, Mapping[str, Any]] = {}
    for column in as_list(as_mapping(report.get("overall")).get("columns")):
        name = as_text(as_mapping(column).get("column"))
        if name is not None:
            out.setdefault(name, as_mapping(column))
    return out


def feature_names(report: Mapping[str, Any]) -> list[str]:
    """Every feature of the report: overall columns first, then any only in distributions or windows."""
    names = dict.fromkeys(columns_by_name(report))
    names.update(dict.fromkeys(str(k) for k in as_mapping(report.get("distributions"))))
    for window in windows(report):
        names.update(dict.fromkeys(str(k) for k in as_mapping(window.get("scores"))))
    return list(names)
