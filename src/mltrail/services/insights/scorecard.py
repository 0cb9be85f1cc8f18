"""The ML maturity scorecard, pure: each dimension scored 0-100 from what the team actually did, with the
runs, models or monitors behind it (never a questionnaire)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from mltrail.entities import MonitorCoverage, ProductionEvent, ReproCounts

__all__ = ["LEVELS", "RESPONSE_BEST_DAYS", "RESPONSE_WORST_DAYS", "scorecard"]

DAY = 86400.0
RESPONSE_BEST_DAYS = 7.0  # an alert answered by a new production version within a week scores 100
RESPONSE_WORST_DAYS = 90.0  # ... after 90 days (or never), 0
LEVELS = ((25, "ad hoc"), (50, "repeatable"), (75, "managed"), (101, "optimized"))


def _score(part: float, whole: float) -> int | None:
    return round(100 * part / whole) if whole else None


def _dimension(name: str, score: int | None, figure: str, evidence: list[dict[str, Any]]) -> dict[str, Any]:
    return {"dimension": name, "score": score, "figure": figure, "evidence": evidence}


def _response_score(days: float) -> float:
    if days <= RESPONSE_BEST_DAYS:
        return 100.0
    if days >= RESPONSE_WORST_DAYS:
        return 0.0
    return 100.0 * (RESPONSE_WORST_DAYS - days) / (RESPONSE_WORST_DAYS - RESPONSE_BEST_DAYS)


def scorecard(
    repro: Sequence[ReproCounts],
    productions: Sequence[ProductionEvent],
    coverage: Sequence[MonitorCoverage],
) -> dict[str, Any]:
    """``productions``: each version's first move to production, oldest first."""
    runs = sum(c.runs for c in repro)
    env = sum(c.environment for c in repro)
    code = sum(c.code for c in repro)
    both = sum(c.both for c in repro)
    per_project = [
        {"project": c.project, "runs": c.runs, "environment": c.environment, "code": c.code, "both": c.both}
        for c in repro
    ]
    lineage = [e for e in productions if e.run_id]
    tracked_parts = [s for s in (_score(env, runs), _score(len(lineage), len(productions))) if s is not None]
    tracked = _dimension(
        "tracked",
        round(statistics.mean(tracked_parts)) if tracked_parts else None,
        f"{env} of {runs} runs recorded their environment; {len(lineage)} of {len(productions)} production"
        " versions come from a tracked run",
        per_project
        + [{"model": e.model, "version": e.version, "run_id": e.run_id} for e in productions if not e.run_id],
    )
    versioned = _dimension(
        "versioned",
        _score(both, runs),
        f"{both} of {runs} runs can be rebuilt: code (a clean commit or its diff: {code}) and dataset"
        " versions recorded",
        per_project,
    )
    reviewed_events = [e for e in productions if e.via_request]
    reviewed = _dimension(
        "reviewed",
        _score(len(reviewed_events), len(productions)),
        f"{len(reviewed_events)} of {len(productions)} moves to production went through an approved request",
        [{"model": e.model, "version": e.version, "via_request": e.via_request} for e in productions],
    )
    in_production = sorted({e.model for e in productions})
    covered = {c.model: c for c in coverage}
    watched = [m for m in in_production if m in covered and covered[m].monitors_with_rules]
    monitored = _dimension(
        "monitored",
        _score(len(watched), len(in_production)),
        f"{len(watched)} of {len(in_production)} models in production have a monitor with an alert rule",
        [
            {
                "model": m,
                "monitors": list(covered[m].monitors) if m in covered else [],
                "with_rules": list(covered[m].monitors_with_rules) if m in covered else [],
            }
            for m in in_production
        ],
    )
    answers: list[dict[str, Any]] = []
    for c in coverage:
        moves = [e for e in productions if e.model == c.model]
        for opened in c.alerts_opened:
            answer = next((e for e in moves if e.time > opened), None)
            answers.append(
                {
                    "model": c.model,
                    "alert_opened": opened,
                    "answered_by": None if answer is None else answer.version,
                    "days": None if answer is None else round((answer.time - opened) / DAY, 3),
                }
            )
    days: list[float] = [a["days"] for a in answers if a["days"] is not None]
    response_score = (
        round(statistics.mean(_response_score(a["days"] if a["days"] is not None else 1e9) for a in answers))
        if answers
        else None
    )
    responsive = _dimension(
        "responsive",
        response_score,
        f"{len(days)} of {len(answers)} alerts were answered by a new production version"
        + (f", after {statistics.median(days):.1f} days (median)" if days else ""),
        answers,
    )
    dimensions = [tracked, versioned, reviewed, monitored, responsive]
    scored = [d["score"] for d in dimensions if d["score"] is not None]
    overall = round(statistics.mean(scored)) if scored else None
    level = None if overall is None else next(name for bound, name in LEVELS if overall < bound)
    return {"overall": overall, "level": level, "dimensions": dimensions}
