"""Compute cost, pure: usage cells priced by the price table, grouped per week, user and project; budget
status for the month. No I/O: the service hands these functions what the store aggregated."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mltrail.channels import redact_channel
from mltrail.entities import Budget, Price, UsageCell, gpu_price_kind

__all__ = ["PriceBook", "budget_status", "cell_cost", "cost_report", "month_of", "month_start"]


@dataclass(frozen=True)
class PriceBook:
    """The price table as lookups: per core-hour, per GPU-hour by kind (``gpu`` for any GPU)."""

    cpu: float | None = None
    gpu: Mapping[str, float] = field(default_factory=dict)
    currency: str | None = None

    @classmethod
    def of(cls, prices: Iterable[Price]) -> PriceBook:
        cpu: float | None = None
        gpu: dict[str, float] = {}
        currency = None
        for price in prices:
            currency = currency or price.currency
            if price.kind == "cpu":
                cpu = price.per_hour
            elif price.kind == "gpu" or price.kind.startswith("gpu:"):
                gpu[price.kind] = price.per_hour
        return cls(cpu=cpu, gpu=gpu, currency=currency)

    def gpu_price(self, gpu_kind: str | None) -> float | None:
        """The named GPU's price, else the plain ``gpu`` price, else None."""
        return self.gpu.get(gpu_price_kind(gpu_kind), self.gpu.get("gpu"))


@dataclass
class _Sum:
    runs: int = 0
    hours: float = 0.0
    cpu_hours: float = 0.0
    gpu_hours: float = 0.0
    cost: float = 0.0
    unpriced_hours: float = 0.0  # core or GPU hours of hardware the table has no price for

    def add(self, cell: UsageCell, cost: float, unpriced: float) -> None:
        self.runs += cell.runs
        self.hours += cell.hours
        self.cpu_hours += cell.cpu_hours
        self.gpu_hours += cell.gpu_hours
        self.cost += cost
        self.unpriced_hours += unpriced

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "hours": round(self.hours, 4),
            "cpu_hours": round(self.cpu_hours, 4),
            "gpu_hours": round(self.gpu_hours, 4),
            "cost": round(self.cost, 4),
            "unpriced_hours": round(self.unpriced_hours, 4),
        }


def cell_cost(cell: UsageCell, book: PriceBook) -> tuple[float, float]:
    """(cost, unpriced core/GPU hours) of a usage cell."""
    cost, unpriced = 0.0, 0.0
    if book.cpu is None:
        unpriced += cell.cpu_hours
    else:
        cost += cell.cpu_hours * book.cpu
    if cell.gpu_hours:
        gpu = book.gpu_price(cell.gpu_kind)
        if gpu is None:
            unpriced += cell.gpu_hours
        else:
            cost += cell.gpu_hours * gpu
    return cost, unpriced


def cost_report(
    total: Sequence[UsageCell],
    weeks: Sequence[UsageCell],
    users: Sequence[UsageCell],
    projects: Sequence[UsageCell],
    book: PriceBook,
) -> dict[str, Any]:
    """Totals and sums per hardware (from ``total``, grouped by GPU kind only), week, user and project
    (each grouped so by the store), with their cost."""

    def summed(cells: Iterable[UsageCell], key: Callable[[UsageCell], Any]) -> dict[Any, _Sum]:
        groups: dict[Any, _Sum] = {}
        for cell in cells:
            cost, unpriced = cell_cost(cell, book)
            groups.setdefault(key(cell), _Sum()).add(cell, cost, unpriced)
        return groups

    def by_cost(groups: dict[Any, _Sum], name: str) -> list[dict[str, Any]]:
        ordered = sorted(groups.items(), key=lambda kv: (-kv[1].cost, -kv[1].hours, str(kv[0])))
        return [{name: key or None, **s.to_dict()} for key, s in ordered]

    hardware = summed(total, lambda c: gpu_price_kind(c.gpu_kind) if c.gpu_hours else "cpu")
    per_week = summed(weeks, lambda c: c.week_start)
    return {
        "currency": book.currency,
        "prices": {"cpu": book.cpu, **dict(book.gpu)},
        "total": summed(total, lambda c: "").get("", _Sum()).to_dict(),
        "per_week": [{"week_start": w, **per_week[w].to_dict()} for w in sorted(per_week)],
        "per_user": by_cost(summed(users, lambda c: c.user or ""), "user"),
        "per_project": by_cost(summed(projects, lambda c: c.project or ""), "project"),
        "per_hardware": by_cost(hardware, "kind"),
    }


def month_start(now: float) -> float:
    """The first instant of ``now``'s calendar month (UTC)."""
    day = datetime.fromtimestamp(now, UTC)
    return day.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def month_of(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m")


def budget_status(budget: Budget, spent: float, now: float) -> dict[str, Any]:
    """This month's spend against the budget: its share, and ``ok``, ``alert`` (``alert_share`` reached) or
    ``over``; the channels its alert goes to, secrets hidden."""
    share = spent / budget.amount if budget.amount > 0 else math.inf
    state = "over" if share >= 1.0 else "alert" if share >= budget.alert_share else "ok"
    return {
        "project": budget.project,
        "period": month_of(now),
        "amount": budget.amount,
        "currency": budget.currency,
        "alert_share": budget.alert_share,
        "spent": round(spent, 4),
        "share": round(share, 4) if math.isfinite(share) else None,
        "state": state,
        "alerted": budget.alerted_period == month_of(now),
        "channels": [redact_channel(c) for c in budget.channels],
    }
