"""The ``mltrail`` command: the root typer app, global options and the one place errors become exit codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text
from typer.core import TyperGroup

from mltrail.cli import db as db_cli
from mltrail.cli import login as login_cli
from mltrail.cli import server as server_cli
from mltrail.cli.accounts import audit as audit_cli
from mltrail.cli.accounts import keys as keys_cli
from mltrail.cli.accounts import users as users_cli
from mltrail.cli.context import CliContext, resolve_settings
from mltrail.cli.monitoring import monitor as monitor_cli
from mltrail.cli.registry import models as models_cli
from mltrail.cli.render import stderr_console
from mltrail.cli.tracking import projects as projects_cli
from mltrail.cli.tracking import runs as runs_cli
from mltrail.cli.tracking import sync as sync_cli
from mltrail.errors import InvalidInputError, MltrailError

__all__ = ["app", "exit_code_for", "main", "report_error"]


def exit_code_for(exc: MltrailError) -> int:
    """2 for input the user can fix by retyping it (as for usage errors), 1 for everything else."""
    return 2 if isinstance(exc, InvalidInputError) else 1


def report_error(exc: MltrailError) -> int:
    """Print ``Error: …`` in red on stderr (a filter error keeps its caret line) and return the exit code."""
    stderr_console().print(Text(f"Error: {exc}", style="red"), soft_wrap=True)
    return exit_code_for(exc)


class _ErrorHandlingGroup(TyperGroup):
    """Turns ``MltrailError`` from any subcommand into a message and an exit code, without a traceback."""

    # ``ctx`` is typer's vendored click Context, which typer does not export under a public name.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except MltrailError as exc:
            raise typer.Exit(report_error(exc)) from None


app = typer.Typer(
    name="mltrail",
    cls=_ErrorHandlingGroup,
    help="mltrail: track, compare and reproduce machine-learning runs.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
app.add_typer(projects_cli.app, name="projects")
app.add_typer(runs_cli.app, name="runs")
app.add_typer(db_cli.app, name="db")
app.command("server")(server_cli.server)
app.command("ui")(server_cli.ui)
app.command("sync")(sync_cli.sync)
app.command("login")(login_cli.login)
app.command("logout")(login_cli.logout)
app.add_typer(users_cli.app, name="users")
app.add_typer(keys_cli.app, name="keys")
app.command("audit")(audit_cli.audit)
app.add_typer(models_cli.app, name="models")
app.add_typer(monitor_cli.app, name="monitor")


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: MLTRAIL_DB, or sqlite:///<dir>/mltrail.db)."),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="mltrail folder holding mltrail.db and blobs/ (default: MLTRAIL_DIR or ./mltrail)."
        ),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="Team server URL (default: MLTRAIL_SERVER, or the server of `mltrail login`); "
            "its key comes from MLTRAIL_API_KEY or `mltrail login`.",
        ),
    ] = None,
) -> None:
    state = CliContext(resolve_settings(db=db, home=home, server=server))
    ctx.obj = state
    ctx.call_on_close(state.close)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except MltrailError as exc:  # raised outside a subcommand, e.g. while reading settings
        sys.exit(report_error(exc))
