"""Retraining cadence, pure: a model's production versions, their intervals and age, performance against
age, and the age at which performance typically fell below the training figure by a margin."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mltrail.entities import ProductionEvent

__all__ = ["MIN_POINTS", "AgePoint", "cadence_report"]

DAY = 86400.0
MIN_POINTS = 3  # performance points needed before an interval is suggested


@dataclass(frozen=True)
class AgePoint:
    """One monitor window's performance of the version serving then (``kind`` realized or estimated)."""

    version: int
    window_start: float
    value: float
    kind: str
    monitor: str


def _fell(value: float, training: float, margin: float, higher_is_better: bool) -> bool:
    if higher_is_better:
        return value < training - abs(training) * margin
    return value > training + abs(training) * margin


def cadence_report(
    model: str,
    productions: Sequence[ProductionEvent],
    points: Sequence[AgePoint],
    training: Mapping[int, float],
    *,
    metric: str | None,
    higher_is_better: bool,
    margin: float,
    now: float,
) -> dict[str, Any]:
    """``productions``: each version's first move to production, oldest first; ``training``: the training
    figure of ``metric`` per version. A point's age is its window's start minus its version's move."""
    moved = {e.version: e.time for e in productions}
    times = [e.time for e in productions]
    intervals = [round((b - a) / DAY, 3) for a, b in itertools.pairwise(times)]
    aged: list[dict[str, Any]] = []
    for p in points:
        if p.version not in moved or p.window_start < moved[p.version]:
            continue
        age = (p.window_start - moved[p.version]) / DAY
        base = training.get(p.version)
        fell = None if base is None else _fell(p.value, base, margin, higher_is_better)
        aged.append(
            {
                "version": p.version,
                "monitor": p.monitor,
                "window_start": p.window_start,
                "age_days": round(age, 3),
                "value": p.value,
                "kind": p.kind,
                "training": base,
                "fell": fell,
            }
        )
    aged.sort(key=lambda a: (a["version"], a["age_days"]))
    crossings: dict[int, float] = {}
    observed: dict[int, float] = {}
    for a in aged:
        observed[a["version"]] = max(observed.get(a["version"], 0.0), a["age_days"])
        if a["fell"] and a["version"] not in crossings:
            crossings[a["version"]] = a["age_days"]
    suggestion: dict[str, Any]
    if metric is None or not points:
        suggestion = {
            "days": None,
            "enough_data": False,
            "reason": "not enough data: no monitor of this model has windows with realized or estimated"
            " performance",
        }
    elif len(aged) < MIN_POINTS or not training:
        suggestion = {
            "days": None,
            "enough_data": False,
            "reason": f"not enough data: {len(aged)} performance point(s) of production versions"
            f" (at least {MIN_POINTS} needed)"
            + ("" if training else f", and no training figure of {metric} to compare with"),
        }
    elif not crossings:
        suggestion = {
            "days": None,
            "enough_data": False,
            "reason": f"no version fell below its training {metric} by {margin:.0%} within the"
            f" {max(observed.values()):.1f} days observed: retraining is not yet due by this evidence",
            "at_least_days": round(max(observed.values()), 3),
        }
    else:
        ages = sorted(crossings.values())
        suggestion = {
            "days": round(statistics.median(ages), 3),
            "enough_data": True,
            "reason": f"median age at which {len(ages)} version(s) fell below their training {metric}"
            f" by {margin:.0%}",
            "crossings": [{"version": v, "age_days": d} for v, d in sorted(crossings.items())],
        }
    current = productions[-1] if productions else None
    return {
        "model": model,
        "metric": metric,
        "higher_is_better": higher_is_better,
        "margin": margin,
        "production_versions": [{"version": e.version, "time": e.time} for e in productions],
        "intervals_days": intervals,
        "median_interval_days": round(statistics.median(intervals), 3) if intervals else None,
        "current_version": None if current is None else current.version,
        "age_days": None if current is None else round((now - current.time) / DAY, 3),
        "points": aged,
        "suggested_retraining": suggestion,
    }
