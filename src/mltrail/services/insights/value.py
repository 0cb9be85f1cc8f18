"""Value metrics, pure: time from a project's first run to its first production model, per version time
from registration to production, experiments per week, and the share of reproducible runs."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from mltrail.entities import ProductionEvent, ReproCounts, UsageCell

__all__ = ["DAY", "first_productions", "value_report"]

DAY = 86400.0


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / DAY, 3)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def first_productions(events: Sequence[ProductionEvent]) -> list[ProductionEvent]:
    """Each version's first move to production, oldest first (a version moved back and forth counts once)."""
    seen: set[tuple[str, int]] = set()
    out = []
    for event in sorted(events, key=lambda e: e.time):
        if (event.model, event.version) not in seen:
            seen.add((event.model, event.version))
            out.append(event)
    return out


def _weekly(cells: Sequence[UsageCell], key: str) -> list[dict[str, Any]]:
    counts: dict[tuple[float, str], int] = {}
    for cell in cells:
        group = (cell.week_start or 0.0, str(getattr(cell, key) or ""))
        counts[group] = counts.get(group, 0) + cell.runs
    return [{"week_start": w, key: name or None, "runs": n} for (w, name), n in sorted(counts.items())]


def value_report(
    repro: Sequence[ReproCounts],
    events: Sequence[ProductionEvent],
    per_project: Sequence[UsageCell],
    per_user: Sequence[UsageCell],
) -> dict[str, Any]:
    """``per_project``/``per_user``: runs counted per week and project, and per week and user."""
    firsts = first_productions(events)
    projects = []
    for counts in repro:
        production = next((e for e in firsts if e.project == counts.project), None)
        approved = next((e for e in firsts if e.project == counts.project and e.via_request), None)
        to_production = None
        if production is not None and counts.first_run is not None:
            to_production = production.time - counts.first_run
        projects.append(
            {
                "project": counts.project,
                "first_run": counts.first_run,
                "first_production": None
                if production is None
                else {"model": production.model, "version": production.version, "time": production.time},
                "days_to_first_production": _days(to_production),
                "first_approved_production": None
                if approved is None
                else {"model": approved.model, "version": approved.version, "time": approved.time},
                "runs": counts.runs,
                "reproducible_share": _share(counts.both, counts.runs),
                "code_share": _share(counts.code, counts.runs),
                "data_share": _share(counts.data, counts.runs),
            }
        )
    versions: list[dict[str, Any]] = [
        {
            "model": e.model,
            "project": e.project,
            "version": e.version,
            "run_id": e.run_id,
            "registered_at": e.registered_at,
            "production_at": e.time,
            "via_request": e.via_request,
            "days_to_production": _days(None if e.registered_at is None else e.time - e.registered_at),
        }
        for e in firsts
    ]
    waits: list[float] = [v["days_to_production"] for v in versions if v["days_to_production"] is not None]
    by_project = _weekly(per_project, "project")
    weeks = {w["week_start"] for w in by_project}
    runs = sum(c.runs for c in repro)
    return {
        "projects": projects,
        "versions": versions,
        "median_days_to_production": round(statistics.median(waits), 3) if waits else None,
        "experiments_per_week": {"per_project": by_project, "per_user": _weekly(per_user, "user")},
        "mean_experiments_per_week": round(sum(w["runs"] for w in by_project) / len(weeks), 2)
        if weeks
        else None,
        "reproducible_share": _share(sum(c.both for c in repro), runs),
        "runs": runs,
    }
