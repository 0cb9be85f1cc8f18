"""``mltrail insights``: cost, value, cadence and scorecard, the price table and budgets, on the database
directly or on a team server (``CliContext.connection()``), through the SDK's ``InsightsClient``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol, TypeVar

import typer
from rich.console import RenderableType

from mltrail.cli.context import services
from mltrail.cli.insights.views import (
    budgets_table,
    cadence_view,
    cost_view,
    prices_table,
    scorecard_view,
    value_view,
)
from mltrail.cli.registry.common import JsonOpt
from mltrail.cli.render import echo_json, stdout_console
from mltrail.sdk.insights.client import InsightsClient, TimeArg

__all__ = ["app"]

_Found = TypeVar("_Found")

app = typer.Typer(
    help="Team insights: compute cost and budgets, value metrics, retraining cadence, maturity scorecard.",
    no_args_is_help=True,
)
ProjectOpt = Annotated[
    str | None, typer.Option("--project", "-p", help="One project (default: all you see).")
]
SinceOpt = Annotated[
    str | None, typer.Option("--since", help="Runs started from then: 30d, 2026-01-01 or epoch seconds.")
]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Runs started before then.")]


def _client(ctx: typer.Context) -> InsightsClient:
    return services(ctx).connection().insights()


def _show(found: _Found, as_json: bool, view: Callable[[_Found], RenderableType]) -> None:
    """What a command fetched: as JSON with ``--json``, else drawn by ``view``."""
    if as_json:
        echo_json(found)
    else:
        stdout_console().print(view(found))


class _PeriodFigures(Protocol):
    def __call__(
        self, project: str | None = None, *, since: TimeArg = None, until: TimeArg = None
    ) -> dict[str, Any]: ...


def _period_command(
    name: str,
    figures: Callable[[InsightsClient], _PeriodFigures],
    view: Callable[[dict[str, Any]], RenderableType],
    summary: str,
) -> None:
    """Add ``mltrail insights NAME``: ``figures`` over the runs of a period, drawn by ``view``."""

    def command(
        ctx: typer.Context,
        project: ProjectOpt = None,
        since: SinceOpt = None,
        until: UntilOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        _show(figures(_client(ctx))(project, since=since, until=until), as_json, view)

    app.command(name, help=summary)(command)


@app.command("cost")
def cost(
    ctx: typer.Context,
    project: ProjectOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, max=100, help="How many of the costliest runs.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """CPU and GPU hours and their cost per week, project and user; the costliest runs; budgets."""
    _show(_client(ctx).cost(project, since=since, until=until, top=top), as_json, cost_view)


_period_command(
    "value",
    lambda client: client.value,
    value_view,
    "Time to the first production model, registration to production, experiments a week, reproducibility.",
)


@app.command("cadence")
def cadence(
    ctx: typer.Context,
    project: ProjectOpt = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="One registered model.")] = None,
    margin: Annotated[
        float, typer.Option("--margin", min=0.0, max=0.99, help="Relative drop below the training figure.")
    ] = 0.05,
    as_json: JsonOpt = False,
) -> None:
    """Intervals between production versions, model age, performance against age, a retraining interval."""
    _show(_client(ctx).cadence(project, model=model, margin=margin), as_json, cadence_view)


_period_command(
    "scorecard",
    lambda client: client.scorecard,
    scorecard_view,
    "The ML maturity scorecard from actual usage, with what each score is made of.",
)


@app.command("prices")
def prices(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The price table."""
    found = _client(ctx).prices()
    if as_json:
        echo_json([{"kind": p.kind, "per_hour": p.per_hour, "currency": p.currency} for p in found])
    else:
        stdout_console().print(prices_table(found))


@app.command("price")
def price(
    ctx: typer.Context,
    kind: Annotated[
        str, typer.Argument(help="cpu (a core), gpu (any GPU) or gpu:<name as runs recorded it>.")
    ],
    per_hour: Annotated[float | None, typer.Argument(help="The price of one hour.")] = None,
    currency: Annotated[str, typer.Option("--currency", help="3 letters; one per table.")] = "USD",
    delete: Annotated[bool, typer.Option("--delete", help="Remove this kind's price.")] = False,
) -> None:
    """Set (or --delete) the price of one hour of a hardware kind (admins on a server)."""
    client = _client(ctx)
    if delete:
        client.delete_price(kind)
        stdout_console().print(f"removed the price of {kind}")
        return
    if per_hour is None:
        raise typer.BadParameter("give PER_HOUR, or --delete", param_hint="PER_HOUR")
    made = client.set_price(kind, per_hour, currency)
    stdout_console().print(f"{made.kind}: {made.per_hour:g} {made.currency} an hour")


@app.command("budgets")
def budgets(ctx: typer.Context, project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """This month's spend against each project's budget."""
    _show(_client(ctx).budgets(project), as_json, budgets_table)


@app.command("budget")
def budget(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="The project.")],
    amount: Annotated[float | None, typer.Argument(help="Its compute budget per calendar month.")] = None,
    alert_share: Annotated[float, typer.Option("--alert-share", help="The spent share that alerts.")] = 0.8,
    currency: Annotated[str | None, typer.Option("--currency", help="Default: the price table's.")] = None,
    notify: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            help="Where the alert is sent: slack:URL, webhook:URL or email:ADDR[,ADDR]; repeatable"
            " (replaces the budget's channels).",
        ),
    ] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the project's budget.")] = False,
) -> None:
    """Set (or --delete) a project's monthly compute budget and where its alert goes (maintainers on a
    server)."""
    client = _client(ctx)
    if delete:
        client.delete_budget(project)
        stdout_console().print(f"removed the budget of {project}")
        return
    if amount is None:
        raise typer.BadParameter("give AMOUNT, or --delete", param_hint="AMOUNT")
    made = client.set_budget(
        project, amount, alert_share=alert_share, currency=currency, notify=list(notify or [])
    )
    told = f", sent to {', '.join(made.channels)}" if made.channels else ""
    stdout_console().print(
        f"{made.project}: {made.amount:g} {made.currency} a month, alert at {made.alert_share:.0%}{told}"
    )
