"""The demo's last step: team insights over what it just did (``mltrail insights`` prints the same).

A price table (per core-hour and per GPU-hour) and a monthly budget for each demo project are set if
missing, then cost, value, retraining cadence and the maturity scorecard are printed.
"""

from __future__ import annotations

from rich.console import Console

import mltrail
from mltrail.cli.insights.views import cadence_view, cost_view, scorecard_view, value_view
from mltrail.settings import Settings

PROJECTS = ("demo-breast-cancer", "demo-wine")


def show_insights(settings: Settings, console: Console) -> None:
    insights = mltrail.connect(settings=settings).insights()
    if not insights.prices():
        insights.set_price("cpu", 0.04, "USD")  # one logical core for an hour
        insights.set_price("gpu", 2.5, "USD")
    budgets = {b["project"] for b in insights.budgets()}
    for project in PROJECTS:
        if project not in budgets:
            insights.set_budget(project, 5.0, alert_share=0.8)
    console.rule("[bold]insights: compute cost (mltrail insights cost)")
    console.print(cost_view(insights.cost(since="30d", top=5)))
    console.rule("[bold]insights: value (mltrail insights value)")
    console.print(value_view(insights.value()))
    console.rule("[bold]insights: retraining cadence (mltrail insights cadence)")
    console.print(cadence_view(insights.cadence()))
    console.rule("[bold]insights: maturity scorecard (mltrail insights scorecard)")
    console.print(scorecard_view(insights.scorecard()))


if __name__ == "__main__":
    show_insights(Settings.from_env(), Console())
