"""The storage interface of team insights, part of ``Store``: the compute price table, project budgets,
and the aggregates that cost, value and scorecard figures are computed from (grouped in SQL, so their
cost grows with the number of groups returned, not of runs read into Python)."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence

from mltrail.entities import Budget, MonitorCoverage, Price, ProductionEvent, ReproCounts, RunUsage, UsageCell

__all__ = ["InsightsStore"]


class InsightsStore(abc.ABC):
    """``projects=None`` reads every project; a list narrows to those (the caller's visible ones)."""

    # -- prices and budgets -----------------------------------------------------------------------------
    @abc.abstractmethod
    def set_price(self, kind: str, per_hour: float, currency: str, *, now: float, user: str | None) -> Price:
        """Insert or replace the price of one hardware kind."""

    @abc.abstractmethod
    def delete_price(self, kind: str) -> None:
        """``NotFoundError`` when the kind has no price."""

    @abc.abstractmethod
    def list_prices(self) -> list[Price]:
        """Every price, by kind."""

    @abc.abstractmethod
    def set_budget(
        self,
        project: str,
        amount: float,
        currency: str,
        alert_share: float,
        *,
        now: float,
        user: str | None,
        channels: Sequence[str] = (),
    ) -> Budget:
        """Insert or replace the project's monthly budget (an existing project, else ``NotFoundError``)
        and the channel specs its alert is sent to; a changed budget may alert again this month."""

    @abc.abstractmethod
    def delete_budget(self, project: str) -> None:
        """``NotFoundError`` when the project has no budget."""

    @abc.abstractmethod
    def list_budgets(self, projects: Sequence[str] | None = None) -> list[Budget]:
        """Budgets by project name."""

    @abc.abstractmethod
    def mark_budget_alerted(self, project: str, period: str) -> bool:
        """Record that ``period``'s alert was raised; False when it already was (one caller wins)."""

    # -- aggregates -------------------------------------------------------------------------------------
    @abc.abstractmethod
    def usage(
        self,
        projects: Sequence[str] | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        by: Sequence[str] = ("project", "user", "week"),
    ) -> list[UsageCell]:
        """Runs started in ``[since, until)`` summed per GPU kind and the groups ``by`` names (any of
        ``project``, ``user``, ``week``; the others are None in the cells)."""

    @abc.abstractmethod
    def experiment_counts(
        self,
        projects: Sequence[str] | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        by: str = "project",
    ) -> list[UsageCell]:
        """Runs started in ``[since, until)`` counted per ISO week and ``by`` (``project`` or ``user``; the
        other left None, hours left 0)."""

    @abc.abstractmethod
    def costly_runs(
        self,
        projects: Sequence[str] | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        cpu_price: float,
        gpu_prices: Mapping[str, float],
        gpu_price: float,
        limit: int = 20,
    ) -> list[RunUsage]:
        """The runs that cost most: wall hours x (cores x ``cpu_price`` + GPUs x the price of their GPU
        name in ``gpu_prices``, else ``gpu_price``), most expensive first."""

    @abc.abstractmethod
    def production_events(self, projects: Sequence[str] | None = None) -> list[ProductionEvent]:
        """Every move of a version to production, oldest first."""

    @abc.abstractmethod
    def repro_counts(
        self,
        projects: Sequence[str] | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
    ) -> list[ReproCounts]:
        """Per project: runs, the first run's start (over all time), and runs by what they captured."""

    @abc.abstractmethod
    def monitor_coverage(self, projects: Sequence[str] | None = None) -> list[MonitorCoverage]:
        """Per model with monitors: its monitors, those with an active alert rule, its alerts' openings."""
