"""Rich views of the insights documents, narrow enough for 80 columns: tables with short bars."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

__all__ = ["budgets_table", "cadence_view", "cost_view", "prices_table", "scorecard_view", "value_view"]

BAR = 16


def _bar(value: float, top: float, width: int = BAR) -> str:
    if top <= 0 or value <= 0:
        return ""
    return "█" * max(1, round(width * value / top))


def _day(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _n(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _money(value: float | None) -> str:
    """An amount to the cent; one that is spent but under half a cent says so rather than 0.00."""
    if value is not None and 0 < value < 0.005:
        return "<0.01"
    return _n(value)


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right", overflow="ellipsis", no_wrap=True)
    return table


def cost_view(doc: Mapping[str, Any]) -> RenderableType:
    cur = doc.get("currency") or ""
    total = doc["total"]
    head = Text(
        f"{total['runs']} runs · {_n(total['cpu_hours'], 1)} core-h · {_n(total['gpu_hours'], 1)} GPU-h"
        + (f" · {_money(total['cost'])} {cur}" if cur else "")
    )
    parts: list[RenderableType] = [head]
    if not cur:
        hint = "no price table yet, costs are 0: mltrail insights price cpu 0.04 sets one"
        parts.append(Text(hint, style="yellow"))
    elif total["unpriced_hours"]:
        parts.append(Text(f"{_n(total['unpriced_hours'], 2)} h of hardware without a price", style="yellow"))
    weeks = doc["per_week"]
    top = max((w["cost"] for w in weeks), default=0.0)
    week_table = _table("per week", "week", "runs", "core-h", "GPU-h", f"cost {cur}".strip(), "")
    for w in weeks[-12:]:
        week_table.add_row(
            _day(w["week_start"]),
            str(w["runs"]),
            _n(w["cpu_hours"], 1),
            _n(w["gpu_hours"], 1),
            _money(w["cost"]),
            _bar(w["cost"], top),
        )
    parts.append(week_table)
    for key, title in (("per_project", "project"), ("per_user", "user")):
        table = _table(f"per {title}", title, "runs", "core-h", "GPU-h", f"cost {cur}".strip())
        for row in doc[key][:10]:
            table.add_row(
                str(row[title] or "-"),
                str(row["runs"]),
                _n(row["cpu_hours"], 1),
                _n(row["gpu_hours"], 1),
                _money(row["cost"]),
            )
        parts.append(table)
    runs = _table("costliest runs", "run", "project", "user", "hours", f"cost {cur}".strip())
    for r in doc.get("top_runs", []):
        runs.add_row(
            f"{r['run_id'][:8]} {r['name']}"[:24],
            r["project"][:16],
            str(r["user"] or "-")[:12],
            _n(r["hours"]),
            _money(r["cost"]),
        )
    parts.append(runs)
    if doc.get("budgets"):
        parts.append(budgets_table(doc["budgets"]))
    return Group(*parts)


def budgets_table(budgets: Sequence[Mapping[str, Any]]) -> Table:
    table = _table("budgets (this month)", "project", "spent", "budget", "share", "state", "notify")
    notify = table.columns[-1]  # channels are long: wrapped rather than cut
    notify.justify, notify.no_wrap, notify.overflow = "left", False, "fold"
    for b in budgets:
        style = {"ok": "green", "alert": "yellow", "over": "red"}.get(b["state"], "")
        table.add_row(
            b["project"],
            _n(b["spent"]),
            f"{_n(b['amount'])} {b['currency']}",
            _pct(b["share"]),
            Text(b["state"], style=style),
            ", ".join(b.get("channels") or ()) or "-",
        )
    return table


def prices_table(prices: Sequence[Any]) -> Table:
    table = _table("price table", "kind", "per hour", "set by", "set on")
    for p in prices:
        table.add_row(p.kind, f"{p.per_hour:g} {p.currency}", p.updated_by or "-", _day(p.updated_at))
    return table


def value_view(doc: Mapping[str, Any]) -> RenderableType:
    head = Text(
        f"{doc['runs']} runs · {_n(doc['mean_experiments_per_week'], 1)} a week"
        f" · reproducible {_pct(doc['reproducible_share'])}\n"
        f"median registration → production: {_n(doc['median_days_to_production'], 1)} days"
    )
    projects = _table("projects", "project", "first run", "1st prod.", "days", "repro.")
    for p in doc["projects"]:
        first = p["first_production"]
        projects.add_row(
            p["project"],
            _day(p["first_run"]),
            _day(first["time"] if first else None),
            _n(p["days_to_first_production"], 1),
            _pct(p["reproducible_share"]),
        )
    versions = _table(
        "versions to production", "model:version", "registered", "production", "days", "approved"
    )
    for v in doc["versions"][-15:]:
        versions.add_row(
            f"{v['model']}:{v['version']}",
            _day(v["registered_at"]),
            _day(v["production_at"]),
            _n(v["days_to_production"], 1),
            "yes" if v["via_request"] else "no",
        )
    weekly = _table("experiments per week", "week", "project", "runs")
    for w in doc["experiments_per_week"]["per_project"][-15:]:
        weekly.add_row(_day(w["week_start"]), str(w["project"] or "-")[:40], str(w["runs"]))
    return Group(head, projects, versions, weekly)


def cadence_view(models: Sequence[Mapping[str, Any]]) -> RenderableType:
    if not models:
        return Text("no model has reached production yet")
    parts: list[RenderableType] = []
    for m in models:
        s = m["suggested_retraining"]
        intervals = ", ".join(f"{d:g}" for d in m["intervals_days"]) or "-"
        parts.append(
            Text(
                f"{m['model']}: v{m['current_version']} in production for {_n(m['age_days'], 1)} days",
                style="bold",
            )
        )
        parts.append(Text(f"  intervals between production versions (days): {intervals}"))
        suggestion = f"retrain every {s['days']:g} days" if s.get("days") is not None else "no suggestion"
        parts.append(
            Text(
                textwrap.fill(
                    f"{suggestion}: {s['reason']}", 78, initial_indent="  ", subsequent_indent="    "
                )
            )
        )
        if m["points"]:
            table = _table(f"  {m['metric']} against age", "version", "age (days)", "value", "kind", "below")
            for p in m["points"][-12:]:
                below = "-" if p["fell"] is None else ("yes" if p["fell"] else "no")
                table.add_row(f"v{p['version']}", _n(p["age_days"], 1), _n(p["value"], 4), p["kind"], below)
            parts.append(table)
    return Group(*parts)


def scorecard_view(doc: Mapping[str, Any]) -> RenderableType:
    overall = "-" if doc["overall"] is None else f"{doc['overall']}/100 ({doc['level']})"
    table = _table("", "dimension", "score", "")
    for d in doc["dimensions"]:
        score = d["score"]
        table.add_row(d["dimension"], "-" if score is None else str(score), _bar(score or 0, 100, 20))
    lines = [
        Text(
            textwrap.fill(
                f"{d['dimension']}: {d['figure']}", 78, initial_indent="  ", subsequent_indent="    "
            )
        )
        for d in doc["dimensions"]
    ]
    return Group(Text(f"ML maturity: {overall}", style="bold"), table, *lines)
