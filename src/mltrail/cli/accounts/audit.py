"""``mltrail audit``: the team server's log of successful writes, newest first."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from mltrail.cli.context import services
from mltrail.cli.render import echo_json, format_timestamp, stdout_console
from mltrail.errors import InvalidInputError

__all__ = ["audit"]

_TIME = "epoch seconds, an ISO 8601 time or a duration back such as 7d, 12h"


def audit(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option(help="Only this user's events.")] = None,
    project: Annotated[str | None, typer.Option(help="Only events on this project.")] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. create_run, delete_run, log_metrics.")
    ] = None,
    since: Annotated[str | None, typer.Option(help=f"From this time on: {_TIME}.")] = None,
    until: Annotated[str | None, typer.Option(help=f"Before this time: {_TIME}.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many events.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV on stdout.")] = False,
) -> None:
    """Who did what, where and when on the team server (and account changes made on the database); through
    a server, needs an admin's key."""
    if as_json and as_csv:
        raise InvalidInputError("choose one of --json and --csv", field="csv")
    service = services(ctx).accounts()
    query = {"user": user, "project": project, "action": action, "since": since, "until": until}
    if as_csv:
        typer.echo(service.audit_csv(**query, limit=limit), nl=False)
        return
    events = service.audit(**query, limit=limit)
    if as_json:
        echo_json({"events": events})
        return
    console = stdout_console()
    if not events:
        console.print("No audit events match.")
        return
    table = Table(box=None, header_style="bold")
    for column in ("time", "user", "action", "project", "run", "status", "client", "path"):
        table.add_column(column, no_wrap=column != "path")
    for e in events:
        table.add_row(
            format_timestamp(e.time),
            e.user or "-",
            e.action,
            e.project or "-",
            (e.run_id or "-")[:12],
            str(e.status) if e.status else "-",
            e.client or "-",
            f"{e.method} {e.path}",
        )
    console.print(table)
