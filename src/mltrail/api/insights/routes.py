"""``/api/v1/insights``: the figures (viewers read those of the projects they may see; ``project=`` narrows
to one, checked), the price table (everyone reads, admins change) and budgets (maintainers of the project
change). Each route checks access, calls one ``InsightsService`` method and returns its document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from mltrail.api.access import AccessDep, AdminOnly
from mltrail.api.deps import TrackingDep, from_state
from mltrail.api.insights.schemas import BudgetIn, BudgetPublic, PriceIn, PricePublic
from mltrail.entities import Role
from mltrail.services.accounts.audit import parse_time
from mltrail.services.insights.service import DEFAULT_MARGIN, InsightsService

__all__ = ["router"]

router = APIRouter(prefix="/insights", tags=["insights"])
_TIME = "epoch seconds, an ISO 8601 time or a duration back, e.g. 30d"
ProjectQuery = Annotated[str | None, Query(description="one project (default: every project you may see)")]
SinceQuery = Annotated[str | None, Query(description=f"runs started from this time on; {_TIME}")]
UntilQuery = Annotated[str | None, Query(description=f"runs started before this time; {_TIME}")]


InsightsDep = Annotated[InsightsService, from_state("insights")]


def _projects(access: AccessDep, tracking: TrackingDep, project: ProjectQuery = None) -> list[str] | None:
    """The projects the figures cover: the one asked for (viewer role checked), else every visible one."""
    if project is not None:
        access.project(project, Role.VIEWER)
        return [project]
    if access.unrestricted:
        return None
    return [p.name for p in access.visible(tracking.list_projects())]


@dataclass(frozen=True)
class Period:
    """What figures over a period cover: the projects (``None``: all) and the runs' start times."""

    projects: list[str] | None
    since: float | None
    until: float | None


def _period(
    insights: InsightsDep,
    access: AccessDep,
    tracking: TrackingDep,
    project: ProjectQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> Period:
    now = insights.clock()
    start, end = parse_time(since, now, "since"), parse_time(until, now, "until")
    return Period(_projects(access, tracking, project), start, end)


# The prologue of the routes: ``project=`` checked (or every visible project), ``since=``/``until=`` parsed.
ProjectsDep = Annotated[list[str] | None, Depends(_projects)]
PeriodDep = Annotated[Period, Depends(_period)]


@router.get("/cost")
def get_cost(
    insights: InsightsDep,
    period: PeriodDep,
    top: Annotated[int, Query(ge=1, le=100, description="how many of the costliest runs")] = 10,
) -> dict[str, Any]:
    """CPU and GPU hours and their cost per week, user, project and hardware; the costliest runs; budgets."""
    return insights.cost(period.projects, since=period.since, until=period.until, top=top)


@router.get("/value")
def get_value(insights: InsightsDep, period: PeriodDep) -> dict[str, Any]:
    """Time to the first production model, registration to production per version, experiments per week
    per user and project, and the share of reproducible runs."""
    return insights.value(period.projects, since=period.since, until=period.until)


@router.get("/cadence")
def get_cadence(
    insights: InsightsDep,
    projects: ProjectsDep,
    model: Annotated[str | None, Query(description="one registered model")] = None,
    margin: Annotated[
        float, Query(ge=0, lt=1, description="the relative drop below the training figure that counts")
    ] = DEFAULT_MARGIN,
) -> list[dict[str, Any]]:
    """Per model in production: intervals between production versions, age, performance against age and
    a suggested retraining interval with the points behind it (or why there is not enough data)."""
    return insights.cadence(projects, model=model, margin=margin)


@router.get("/scorecard")
def get_scorecard(insights: InsightsDep, period: PeriodDep) -> dict[str, Any]:
    """The maturity scorecard from actual usage: tracked, versioned, reviewed, monitored, responsive."""
    return insights.scorecard(period.projects, since=period.since, until=period.until)


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
def list_budgets(insights: InsightsDep, projects: ProjectsDep) -> list[dict[str, Any]]:
    """This month's status of each visible project's budget (an alert share reached is recorded once in
    the audit log as ``budget_alert``)."""
    return insights.budgets(projects)


@router.put("/budgets/{project}", response_model=BudgetPublic)
def set_budget(project: str, body: BudgetIn, insights: InsightsDep, access: AccessDep) -> BudgetPublic:
    """Set the project's monthly compute budget (maintainers of the project)."""
    access.project(project, Role.MAINTAINER)
    budget = insights.set_budget(
        project, body.amount, alert_share=body.alert_share, currency=body.currency, user=access.principal.name
    )
    return BudgetPublic.of(budget)


@router.delete("/budgets/{project}", status_code=status.HTTP_204_NO_CONTENT)
def delete_budget(project: str, insights: InsightsDep, access: AccessDep) -> None:
    """Remove the project's budget (maintainers of the project)."""
    access.project(project, Role.MAINTAINER)
    insights.delete_budget(project)
