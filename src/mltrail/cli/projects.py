"""``mltrail projects``: the projects in the store."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from mltrail.cli.context import services
from mltrail.cli.render import echo_json, format_relative, format_timestamp, stdout_console

__all__ = ["app"]

app = typer.Typer(help="Projects: groups of runs.", no_args_is_help=True)


@app.command("list")
def list_projects(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """List projects with their run counts and latest run."""
    projects = services(ctx).tracking.list_projects()
    if as_json:
        echo_json({"projects": projects})
        return
    console = stdout_console()
    if not projects:
        console.print("No projects yet. Start one with mltrail.init(project=...).")
        return
    table = Table(box=None, header_style="bold")
    table.add_column("project", no_wrap=True)
    table.add_column("runs", justify="right")
    table.add_column("last run")
    table.add_column("created")
    for project in projects:
        table.add_row(
            project.name,
            str(project.run_count),
            format_relative(project.last_run_at),
            format_timestamp(project.created_at),
        )
    console.print(table)
