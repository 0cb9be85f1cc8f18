"""``mltrail projects``: the projects in the store, and who may do what on them (memberships)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from mltrail.cli.accounts.users import accounts
from mltrail.cli.context import services
from mltrail.cli.render import echo_json, format_relative, format_timestamp, stdout_console
from mltrail.errors import PermissionDeniedError

__all__ = ["app"]

app = typer.Typer(help="Projects: groups of runs, and their memberships.", no_args_is_help=True)


@app.command("list")
def list_projects(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """List projects with their run counts and latest run."""
    projects = services(ctx).runs().list_projects()
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


@app.command("members")
def list_members(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """The project's membership rows; other users have their server role there."""
    members = accounts(ctx).members(project)
    if as_json:
        echo_json({"project": project, "members": members})
        return
    console = stdout_console()
    if not members:
        console.print(f"No memberships on {project}: every user has their server role there.")
        return
    table = Table(box=None, header_style="bold")
    table.add_column("user", no_wrap=True)
    table.add_column("role")
    for member in members:
        table.add_row(member.user, member.role.value)
    console.print(table)


@app.command("grant")
def grant(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project name (created if new).")],
    user: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="none (hides the project), viewer, member or maintainer.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Give USER ROLE on PROJECT, overriding their server role there."""
    membership = accounts(ctx).set_member(project, user, role)
    if as_json:
        echo_json({"membership": membership})
    else:
        typer.echo(f"{user} is {membership.role.value} on {project}.")


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project name.")],
    user: Annotated[str, typer.Argument(help="User name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Remove USER's membership row on PROJECT, so their server role applies there again."""
    service = accounts(ctx)
    service.remove_member(project, user)
    try:
        role = service.get_user(user).role.value
    except PermissionDeniedError:  # a maintainer, not an admin: users' server roles are not theirs to see
        role = None
    if as_json:
        echo_json({"project": project, "user": user, "role": role})
    else:
        applies = f"their server role ({role}) applies" if role else "their server role applies"
        typer.echo(f"Removed {user}'s membership on {project}; {applies}.")
