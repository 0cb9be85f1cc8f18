"""What of a monitoring report a caller asked for: its optional sections (``include``) and how much of each
window's per-column test a window carries (``detail``).

A report of 30 days of hourly windows over 25 columns is 7 MB in full, ~9 KB a window, almost all of it
every drift measure of every column (``scores``), the p-value and the missing-rate delta. A page that draws
the feature × window heatmap needs only the chosen test's statistic, its threshold and the verdict, which is
what ``detail=summary`` keeps; the period's figures, the summary and the distributions are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail.errors import InvalidInputError

__all__ = ["SECTIONS", "parse_include", "shaped_report"]

# sections a caller may leave out; the rest (monitor, period, reference, overall, summary, validation,
# performance, estimation) is always there, since the summary cards and charts of every view read it
SECTIONS = ("windows", "segments", "distributions", "alerts")
_WINDOW_SCORE = ("test", "statistic", "threshold", "drifted")


def parse_include(include: str | None) -> frozenset[str]:
    """``"windows,segments"`` → the named sections; None or empty → every section."""
    if include is None or not include.strip():
        return frozenset(SECTIONS)
    names = {part.strip() for part in include.split(",") if part.strip()}
    unknown = sorted(names - set(SECTIONS))
    if unknown:
        raise InvalidInputError(
            f"include: unknown section {', '.join(repr(u) for u in unknown)}; "
            f"name any of {', '.join(SECTIONS)} (comma-separated), or leave include out for all",
            field="include",
        )
    return frozenset(names)


def shaped_report(report: dict[str, Any], include: frozenset[str], detail: str) -> dict[str, Any]:
    """``report`` without the sections not in ``include``, its windows' scores cut down when ``detail`` is
    ``"summary"``."""
    out = {k: v for k, v in report.items() if k not in SECTIONS or k in include}
    if detail == "summary" and "windows" in out:
        out["windows"] = [_summary_window(w) for w in out["windows"]]
    return out


def _summary_window(window: Mapping[str, Any]) -> dict[str, Any]:
    scores = window.get("scores") or {}
    return {
        **window,
        "scores": {
            column: {k: score[k] for k in _WINDOW_SCORE if k in score} for column, score in scores.items()
        },
    }
