"""``InsightsService``: the price table and budgets (validated), and the cost, value, cadence and scorecard
figures, each read from a few grouped store queries and computed by this package's pure functions."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from mltrail.channels import parse_channel
from mltrail.entities import AuditEvent, Budget, Monitor, MonitorWindow, Price
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.insights.budget_alerts import BudgetAlerts
from mltrail.services.insights.cadence import AgePoint, cadence_report
from mltrail.services.insights.costs import (
    PriceBook,
    budget_status,
    cell_cost,
    cost_report,
    month_of,
    month_start,
)
from mltrail.services.insights.scorecard import scorecard
from mltrail.services.insights.value import first_productions, value_report
from mltrail.services.monitoring.alerts import Notifier
from mltrail.services.monitoring.alias import training_metrics
from mltrail.services.monitoring.estimation import window_estimate
from mltrail.services.monitoring.inputs import training_reference
from mltrail.services.monitoring.performance import metrics_from
from mltrail.store.accounts import AccountStore
from mltrail.store.insights import InsightsStore
from mltrail.store.monitoring import MonitorStore
from mltrail.store.tracking import TrackingStore

__all__ = ["BUDGET_ALERT_ACTION", "DEFAULT_MARGIN", "MAX_BUDGET", "MAX_PRICE", "InsightsService"]

log = logging.getLogger(__name__)

BUDGET_ALERT_ACTION = "budget_alert"
DEFAULT_MARGIN = 0.05
# Bounds that keep every figure finite (a cost is hours x price; JSON has no infinity).
MAX_PRICE = 1e6
MAX_BUDGET = 1e15
_KIND = re.compile(r"cpu|gpu|gpu:[^\x00-\x1f]{1,200}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_MAX_CHANNELS = 50
# The figure a cadence follows per task, and whether higher is better.
_COST_GROUPS: tuple[tuple[str, ...], ...] = ((), ("week",), ("user",), ("project",))
_CADENCE_METRIC = {"classification": ("accuracy", True), "regression": ("mae", False)}


class InsightsService:
    def __init__(
        self,
        store: InsightsStore,
        *,
        runs: TrackingStore,
        monitors: MonitorStore,
        audit: AccountStore,
        clock: Callable[[], float] = time.time,
        notifier: Notifier | None = None,
        base_url: str | None = None,
        check_destination: Callable[[str], object] | None = None,
    ) -> None:
        self.store = store
        self.runs = runs
        self.monitors = monitors
        self.audit = audit
        self.clock = clock
        # A team server's destination policy for channel specs (no private or loopback targets): injected.
        self._check_destination = check_destination
        self.alerts = BudgetAlerts(audit, notifier=notifier, base_url=base_url, clock=clock)

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until the budget notifications queued so far are sent (and logged); False on a timeout."""
        return self.alerts.flush(timeout)

    def close(self, wait: bool = True) -> None:
        """Finish sending queued budget notifications (``wait``) and stop the senders."""
        self.alerts.close(wait)

    # -- prices -----------------------------------------------------------------------------------------
    def prices(self) -> list[Price]:
        return self.store.list_prices()

    def set_price(self, kind: str, per_hour: float, currency: str = "USD", *, user: str | None) -> Price:
        """Price one hour of ``cpu`` (a core), ``gpu`` (any GPU) or ``gpu:<name>``; one currency per table."""
        kind = str(kind).strip()
        if not _KIND.fullmatch(kind):
            raise InvalidInputError(
                f"kind must be cpu, gpu or gpu:<name as the run recorded it>, got {kind!r}", field="kind"
            )
        if not isinstance(per_hour, int | float) or not 0 <= per_hour <= MAX_PRICE:
            raise InvalidInputError(
                f"per_hour is a price from 0 to {MAX_PRICE:g} an hour, got {per_hour!r}", field="per_hour"
            )
        currency = _currency(currency)
        others = {p.currency for p in self.store.list_prices() if p.kind != kind}
        if others and currency not in others:
            raise InvalidInputError(
                f"the price table is in {sorted(others)[0]}; give per_hour in that currency",
                field="currency",
            )
        return self.store.set_price(kind, float(per_hour), currency, now=self.clock(), user=user)

    def delete_price(self, kind: str) -> None:
        self.store.delete_price(kind)

    # -- budgets ----------------------------------------------------------------------------------------
    def set_budget(
        self,
        project: str,
        amount: float,
        *,
        alert_share: float = 0.8,
        currency: str | None = None,
        notify: Sequence[str] = (),
        user: str | None,
    ) -> Budget:
        """Set (replace) the project's monthly budget; ``notify`` lists the channels its alert is sent to
        (``webhook:URL``, ``slack:URL``, ``email:ADDR``; none: recorded in the audit log only)."""
        if not isinstance(amount, int | float) or not 0 < amount <= MAX_BUDGET:
            raise InvalidInputError(
                f"amount is a budget above 0, at most {MAX_BUDGET:g}, got {amount!r}", field="amount"
            )
        if not isinstance(alert_share, int | float) or not 0 < alert_share <= 1:
            raise InvalidInputError(
                f"alert_share is the spent share that alerts, in (0, 1], got {alert_share!r}",
                field="alert_share",
            )
        table = {p.currency for p in self.store.list_prices()}
        currency = _currency(currency) if currency else (sorted(table)[0] if table else "USD")
        if table and currency not in table:
            raise InvalidInputError(
                f"the price table is in {sorted(table)[0]}; give the budget in it", field="currency"
            )
        if isinstance(notify, str) or len(notify) > _MAX_CHANNELS:
            raise InvalidInputError(f"notify is a list of at most {_MAX_CHANNELS} channels", field="notify")
        # Stored in canonical form, like alert rules' channels, so every reader redacts them the same way.
        specs = list(dict.fromkeys(_channel(channel) for channel in notify))
        if self._check_destination is not None:
            for spec in specs:
                self._check_destination(spec)
        return self.store.set_budget(
            project,
            float(amount),
            currency,
            float(alert_share),
            now=self.clock(),
            user=user,
            channels=specs,
        )

    def delete_budget(self, project: str) -> None:
        self.store.delete_budget(project)

    def budgets(self, projects: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """This month's status of each budget; one that reached its alert share for the first time this
        month is recorded in the audit log (action ``budget_alert``) and sent to its channels, once,
        whoever evaluates it first (a reader, or ``run_finished``), in whichever process."""
        budgets = self.store.list_budgets(projects)
        if not budgets:
            return []
        now = self.clock()
        book = PriceBook.of(self.store.list_prices())
        cells = self.store.usage([b.project for b in budgets], since=month_start(now), by=("project",))
        spent: dict[str, float] = {}
        for cell in cells:
            spent[cell.project or ""] = spent.get(cell.project or "", 0.0) + cell_cost(cell, book)[0]
        out = []
        for budget in budgets:
            status = budget_status(budget, spent.get(budget.project, 0.0), now)
            if status["state"] != "ok" and not status["alerted"]:
                if self.store.mark_budget_alerted(budget.project, month_of(now)):
                    self._audit_budget_alert(status, now)
                    self.alerts.notify(budget.channels, status)
                status["alerted"] = True
            out.append(status)
        return out

    def run_finished(self, run_id: str) -> None:
        """A run's spend became final: evaluate its project's budget (``budgets``), which raises the alert
        the first time this month the share is reached. Cheap when no project has a budget."""
        budgeted = {b.project for b in self.store.list_budgets()}
        if not budgeted:
            return
        project = self.runs.get_run(run_id).project
        if project in budgeted:
            self.budgets([project])

    def _audit_budget_alert(self, status: dict[str, Any], now: float) -> None:
        self.audit.append_audit_event(
            AuditEvent(
                time=now,
                user=None,
                action=BUDGET_ALERT_ACTION,
                method="EVENT",
                path=f"/api/v1/insights/budgets/{status['project']}",
                project=status["project"],
                client=f"{status['spent']:.2f} of {status['amount']:.2f} {status['currency']}"
                f" ({status['share']:.0%}) spent in {status['period']}",
            )
        )

    # -- figures ----------------------------------------------------------------------------------------
    def cost(
        self,
        projects: Sequence[str] | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        top: int = 10,
    ) -> dict[str, Any]:
        """Cost per week, user, project and hardware, the costliest runs, and the budgets' status."""
        _check_range(since, until)
        book = PriceBook.of(self.store.list_prices())
        total, weeks, users, per_project = (
            self.store.usage(projects, since=since, until=until, by=by) for by in _COST_GROUPS
        )
        report = cost_report(total, weeks, users, per_project, book)
        named = {k.removeprefix("gpu:"): v for k, v in book.gpu.items() if k.startswith("gpu:")}
        runs = self.store.costly_runs(
            projects,
            since=since,
            until=until,
            cpu_price=book.cpu or 0.0,
            gpu_prices=named,
            gpu_price=book.gpu.get("gpu", 0.0),
            limit=max(1, min(int(top), 100)),
        )
        report["top_runs"] = [asdict(r) for r in runs]
        report["budgets"] = self.budgets(projects)
        return report

    def value(
        self, projects: Sequence[str] | None = None, *, since: float | None = None, until: float | None = None
    ) -> dict[str, Any]:
        _check_range(since, until)
        return value_report(
            self.store.repro_counts(projects, since=since, until=until),
            self.store.production_events(projects),
            self.store.experiment_counts(projects, since=since, until=until, by="project"),
            self.store.experiment_counts(projects, since=since, until=until, by="user"),
        )

    def scorecard(
        self, projects: Sequence[str] | None = None, *, since: float | None = None, until: float | None = None
    ) -> dict[str, Any]:
        _check_range(since, until)
        return scorecard(
            self.store.repro_counts(projects, since=since, until=until),
            first_productions(self.store.production_events(projects)),
            self.store.monitor_coverage(projects),
        )

    def cadence(
        self,
        projects: Sequence[str] | None = None,
        *,
        model: str | None = None,
        margin: float = DEFAULT_MARGIN,
    ) -> list[dict[str, Any]]:
        """Per model that reached production (or just ``model``): intervals, age, performance against age
        from its monitors' daily windows, and a suggested retraining interval with its evidence."""
        if not isinstance(margin, int | float) or not 0 <= margin < 1:
            raise InvalidInputError(f"margin is a share in [0, 1), got {margin!r}", field="margin")
        firsts = first_productions(self.store.production_events(projects))
        names = sorted({e.model for e in firsts})
        if model is not None:
            if model not in names:
                raise NotFoundError(
                    f"model {model!r} has no version that reached production (or is not visible)"
                )
            names = [model]
        monitors = [m for m in self.monitors.list_monitors(projects=projects) if m.model in names]
        now = self.clock()
        out = []
        for name in names:
            moves = [e for e in firsts if e.model == name]
            mine = [m for m in monitors if m.model == name]
            metric, higher = _CADENCE_METRIC.get(mine[0].task, (None, True)) if mine else (None, True)
            points = [p for m in mine for p in self._age_points(m, metric)] if metric else []
            training = self._training_figures(moves, metric) if metric else {}
            out.append(
                cadence_report(
                    name,
                    moves,
                    points,
                    training,
                    metric=metric,
                    higher_is_better=higher,
                    margin=margin,
                    now=now,
                )
            )
        return out

    def _age_points(self, monitor: Monitor, metric: str) -> list[AgePoint]:
        windows = self.monitors.list_windows(monitor.id, "day", segment="", profiles=False)
        points = []
        for window in windows:
            version = _serving(monitor, window)
            if version is None:
                continue
            realized = metrics_from(window.performance, monitor.task).get(metric)
            if realized is not None:
                points.append(AgePoint(version, window.start, float(realized), "realized", monitor.name))
                continue
            estimated = window_estimate(window, monitor).get(metric)
            if isinstance(estimated, dict) and estimated.get("value") is not None:
                points.append(
                    AgePoint(version, window.start, float(estimated["value"]), "estimated", monitor.name)
                )
        return points

    def _training_figures(self, moves: Sequence[Any], metric: str) -> dict[int, float]:
        figures: dict[int, float] = {}
        for move in moves:
            if not move.run_id:
                continue
            try:
                run = self.runs.get_run(move.run_id)
            except NotFoundError:
                continue
            value = training_reference(training_metrics(run), metric)
            if value is not None:
                figures[move.version] = value
        return figures


def _serving(monitor: Monitor, window: MonitorWindow) -> int | None:
    """The version the monitor watched when the window started."""
    version = monitor.version
    for entry in monitor.versions:
        if entry.since <= window.start:
            version = entry.version
    if monitor.versions and window.start < monitor.versions[0].since:
        version = monitor.versions[0].version
    return version


def _channel(spec: object) -> str:
    if not isinstance(spec, str):
        raise InvalidInputError(f"a channel is a spec such as webhook:URL, got {spec!r}", field="notify")
    return parse_channel(spec).spec


def _currency(currency: str) -> str:
    code = str(currency).strip().upper()
    if not _CURRENCY.fullmatch(code):
        raise InvalidInputError(
            f"currency is a 3-letter code such as USD or EUR, got {currency!r}", field="currency"
        )
    return code


def _check_range(since: float | None, until: float | None) -> None:
    if since is not None and until is not None and until <= since:
        raise InvalidInputError("until must be after since", field="until")
