"""``/api/v1/insights``: the figures (viewers read those of the projects they may see; ``project=`` narrows
to one, checked), the price table (everyone reads, admins change) and budgets (maintainers of the project
change). Each route checks access, calls one ``InsightsService`` method and returns its document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from mltrail.api.access import Access, AccessDep, AdminOnly
from mltrail.api.deps import TrackingDep, from_state
from mltrail.api.insights.schemas import BudgetIn, BudgetPublic, PriceIn, PricePublic
from mltrail.entities import Role
from mltrail.services.accounts.audit import parse_time
from mltrail.services.insights.service import DEFAULT_MARGIN, InsightsService
from mltrail.services.tracking.service import TrackingService

__all__ = ["router"]

router = APIRouter(prefix="/insights", tags=["insights"])
_TIME = "epoch seconds, an ISO 8601 time or a duration back, e.g. 30d"
ProjectQuery = Annotated[str | None, Query(description="one project (default: every project you may see)")]
SinceQuery = Annotated[str | None, Query(description=f"runs started from this time on; {_TIME}")]
UntilQuery = Annotated[str | None, Query(description=f"runs started before this time; {_TIME}")]


InsightsDep = Annotated[InsightsService, from_state("insights")]


@dataclass(frozen=True)
class Scope:
    """What the figures cover, as asked: ``project=`` (else every project the user may see) and, for figures
    over a period, ``since=``/``until=``. Checked when the route reads it, after every parameter is
    validated, so a bad ``top=`` is reported before a hidden project or a bad time."""

    insights: InsightsService
    access: Access
    tracking: TrackingService
    project: str | None
    since: str | None = None
    until: str | None = None

    def projects(self) -> list[str] | None:
        """The one project asked for (viewer role checked), else every visible one (``None``: all)."""
        if self.project is not None:
            self.access.project(self.project, Role.VIEWER)
            return [self.project]
        return self.access.visible_names(self.tracking)

    def period(self) -> tuple[float | None, float | None]:
        """``since`` and ``until`` as epoch seconds."""
        now = self.insights.clock()
        return parse_time(self.since, now, "since"), parse_time(self.until, now, "until")


def _scope(
    insights: InsightsDep, access: AccessDep, tracking: TrackingDep, project: ProjectQuery = None
) -> Scope:
    return Scope(insights, access, tracking, project)


def _period(
    insights: InsightsDep,
    access: AccessDep,
    tracking: TrackingDep,
    project: ProjectQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> Scope:
    return Scope(insights, access, tracking, project, since, until)


# The routes' common parameters: ``project=``, and ``since=``/``until=`` for figures over a period.
ScopeDep = Annotated[Scope, Depends(_scope)]
PeriodDep = Annotated[Scope, Depends(_period)]


@router.get("/cost")
def get_cost(
    insights: InsightsDep,
    scope: PeriodDep,
    top: Annotated[int, Query(ge=1, le=100, description="how many of the costliest runs")] = 10,
) -> dict[str, Any]:
    """CPU and GPU hours and their cost per week, user, project and hardware; the costliest runs; budgets."""
    start, end = scope.period()
    return insights.cost(scope.projects(), since=start, until=end, top=top)


@router.get("/value")
def get_value(insights: InsightsDep, scope: PeriodDep) -> dict[str, Any]:
    """Time to the first production model, registration to production per version, experiments per week
    per user and project, and the share of reproducible runs."""
    start, end = scope.period()
    return insights.value(scope.projects(), since=start, until=end)


@router.get("/cadence")
def get_cadence(
    insights: InsightsDep,
    scope: ScopeDep,
    model: Annotated[str | None, Query(description="one registered model")] = None,
    margin: Annotated[
        float, Query(ge=0, lt=1, description="the relative drop below the training figure that counts")
    ] = DEFAULT_MARGIN,
) -> list[dict[str, Any]]:
    """Per model in production: intervals between production versions, age, performance against age and
    a suggested retraining interval with the points behind it (or why there is not enough data)."""
    return insights.cadence(scope.projects(), model=model, margin=margin)


@router.get("/scorecard")
def get_scorecard(insights: InsightsDep, scope: PeriodDep) -> dict[str, Any]:
    """The maturity scorecard from actual usage: tracked, versioned, reviewed, monitored, responsive."""
    start, end = scope.period()
    return insights.scorecard(scope.projects(), since=start, until=end)


@router.get("/prices", response_model=list[PricePublic])
def list_prices(insights: InsightsDep) -> list[PricePublic]:
    """The price table: what one hour of each hardware kind costs."""
    return [PricePublic.of(p) for p in insights.prices()]


@router.put("/prices", response_model=PricePublic, dependencies=[AdminOnly])
def set_price(body: PriceIn, insights: InsightsDep, access: AccessDep) -> PricePublic:
    """Set the price of one hardware kind (admins only)."""
    price = insights.set_price(body.kind, body.per_hour, body.currency, user=access.principal.name)
    return PricePublic.of(price)


@router.delete("/prices", status_code=status.HTTP_204_NO_CONTENT, dependencies=[AdminOnly])
def delete_price(
    insights: InsightsDep, kind: Annotated[str, Query(description="the kind to remove")]
) -> None:
    """Remove the price of one hardware kind (admins only)."""
    insights.delete_price(kind)


@router.get("/budgets")
def list_budgets(insights: InsightsDep, scope: ScopeDep) -> list[dict[str, Any]]:
    """This month's status of each visible project's budget, its channels without their secrets (an alert
    share reached is recorded once in the audit log as ``budget_alert`` and sent to the channels)."""
    return insights.budgets(scope.projects())


@router.put("/budgets/{project}", response_model=BudgetPublic)
def set_budget(project: str, body: BudgetIn, insights: InsightsDep, access: AccessDep) -> BudgetPublic:
    """Set the project's monthly compute budget and the channels its alert goes to (maintainers of the
    project); channels are checked now (400 naming ``notify``)."""
    access.project(project, Role.MAINTAINER)
    budget = insights.set_budget(
        project,
        body.amount,
        alert_share=body.alert_share,
        currency=body.currency,
        notify=body.notify,
        user=access.principal.name,
    )
    return BudgetPublic.of(budget)


@router.delete("/budgets/{project}", status_code=status.HTTP_204_NO_CONTENT)
def delete_budget(project: str, insights: InsightsDep, access: AccessDep) -> None:
    """Remove the project's budget (maintainers of the project)."""
    access.project(project, Role.MAINTAINER)
    insights.delete_budget(project)
