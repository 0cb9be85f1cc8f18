"""The ``mltrail`` command: the root typer app, global options and the one place errors become exit codes.

Sub-commands load lazily: the root knows each one's name, module and short help (``COMMANDS``), and imports
the module only when the command runs or its own help is asked for. ``mltrail --help`` therefore imports
typer and nothing of the store, the server or the notifiers; ``mltrail runs …`` imports the runs commands
only. ``tests/cli/test_lazy_cli.py`` checks that each short help here is the loaded command's own.
"""

from __future__ import annotations

import gc
import importlib
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from mltrail.errors import InvalidInputError, MltrailError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["COMMANDS", "LazyCommand", "app", "exit_code_for", "load_command", "main", "report_error"]


def exit_code_for(exc: MltrailError) -> int:
    """2 for input the user can fix by retyping it (as for usage errors), 1 for everything else."""
    return 2 if isinstance(exc, InvalidInputError) else 1


def report_error(exc: MltrailError) -> int:
    """Print ``Error: …`` in red on stderr (a filter error keeps its caret line) and return the exit code."""
    from rich.text import Text

    from mltrail.cli.render import stderr_console

    stderr_console().print(Text(f"Error: {exc}", style="red"), soft_wrap=True)
    return exit_code_for(exc)


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """A sub-command known by name before its module is imported.

    ``attribute`` names a ``typer.Typer`` (a group of commands) or a command function in ``module``;
    ``help`` is the short help ``mltrail --help`` shows, the same as the command's own first line.
    """

    module: str
    attribute: str
    help: str


# In the order ``mltrail --help`` lists them (single commands first, then groups, as typer orders them).
COMMANDS: dict[str, LazyCommand] = {
    "server": LazyCommand(
        "mltrail.cli.server",
        "server",
        "Serve the web UI at / and the JSON API under /api/v1 (OpenAPI docs at /api/docs) until interrupted.",
    ),
    "ui": LazyCommand(
        "mltrail.cli.server",
        "ui",
        "Open the embedded store (./mltrail, MLTRAIL_DIR or --dir) in the web UI on 127.0.0.1.",
    ),
    "serve": LazyCommand(
        "mltrail.cli.serve",
        "serve",
        "Serve DEPLOYMENT: POST /v1/deployments/DEPLOYMENT/predict, /healthz, /readyz and /metrics.",
    ),
    "login": LazyCommand(
        "mltrail.cli.login",
        "login",
        "Check an API key against SERVER, store it (file mode 0600) and make SERVER the default server.",
    ),
    "logout": LazyCommand(
        "mltrail.cli.login",
        "logout",
        "Remove the stored API key of SERVER (and stop using it as the default server).",
    ),
    "sync": LazyCommand(
        "mltrail.cli.tracking.sync",
        "sync",
        "Replay every journal whose process has gone into the server (or store), then remove it.",
    ),
    "audit": LazyCommand(
        "mltrail.cli.accounts.audit",
        "audit",
        "Who did what, where and when on the team server (and account changes made on the database);"
        " through a server, needs an admin's key.",
    ),
    "projects": LazyCommand(
        "mltrail.cli.tracking.projects", "app", "Projects: groups of runs, and their memberships."
    ),
    "runs": LazyCommand(
        "mltrail.cli.tracking.runs", "app", "Runs: list, inspect, compare, reproduce and delete them."
    ),
    "db": LazyCommand("mltrail.cli.db", "app", "The database: migrations."),
    "import": LazyCommand(
        "mltrail.cli.imports", "app", "Bring another tracker's history into mltrail (MLflow)."
    ),
    "export": LazyCommand(
        "mltrail.cli.exports", "app", "Write mltrail's history into another tracker (MLflow)."
    ),
    "users": LazyCommand(
        "mltrail.cli.accounts.users", "app", "Users of the team server and their server roles."
    ),
    "keys": LazyCommand("mltrail.cli.accounts.keys", "app", "API keys: create (shown once), list, revoke."),
    "models": LazyCommand(
        "mltrail.cli.registry.models",
        "app",
        "The model registry: versions from runs, stages, aliases, approvals, downloads and the trail.",
    ),
    "deploy": LazyCommand(
        "mltrail.cli.deployments.deploy",
        "app",
        "Deployment specs for `mltrail serve`: primary, canary, shadow, fallback, guards; versioned.",
    ),
    "reports": LazyCommand(
        "mltrail.cli.reports.commands",
        "app",
        "Stakeholder reports: markdown with live panels of runs, charts, samples, models and monitors.",
    ),
    "insights": LazyCommand(
        "mltrail.cli.insights.commands",
        "app",
        "Team insights: compute cost and budgets, value metrics, retraining cadence, maturity scorecard.",
    ),
    "monitor": LazyCommand(
        "mltrail.cli.monitoring.monitor",
        "app",
        "Production monitoring: drift, missing values, validation and performance of a model version.",
    ),
}


def load_command(name: str) -> Any:
    """Import sub-command ``name`` and return it as a click command (typer's vendored click)."""
    entry = COMMANDS[name]
    target = getattr(importlib.import_module(entry.module), entry.attribute)
    if not isinstance(target, typer.Typer):
        # A single command function: a one-command Typer app becomes that command.
        single = typer.Typer()
        single.command(name)(target)
        target = single
    command = typer.main.get_command(target)
    command.name = name
    return command


class _Placeholder(typer.core.TyperCommand):
    """Stands for a not yet imported sub-command in the root's help listing: name and short help only."""


class _RootGroup(TyperGroup):
    """The root group: imports sub-commands on first use, and turns ``MltrailError`` from any of them into a
    message and an exit code, without a traceback."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(n for n in self.commands if n not in COMMANDS)]

    # ``ctx`` is typer's vendored click Context, which typer does not export under a public name.
    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if cmd_name not in COMMANDS or (command is not None and not isinstance(command, _Placeholder)):
            return command
        if self._listing:
            return _Placeholder(name=cmd_name, short_help=COMMANDS[cmd_name].help, callback=None)
        command = load_command(cmd_name)
        self.add_command(command, cmd_name)
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # A typo's suggestions are taken from ``self.commands``: offer every name, loaded or not.
        with self._every_name():
            return super().resolve_command(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except MltrailError as exc:
            raise typer.Exit(report_error(exc)) from None

    def _every_name(self) -> _Names:
        return _Names(self)


class _Names:
    """While suggesting, ``commands`` names every sub-command (placeholders stand for unloaded ones)."""

    def __init__(self, group: _RootGroup) -> None:
        self.group = group
        self.added: list[str] = []

    def __enter__(self) -> None:
        # Only the keys matter to the suggestion; get_command loads a name whose entry is a placeholder.
        for name in COMMANDS:
            if name not in self.group.commands:
                self.group.commands[name] = _Placeholder(name=name, short_help=COMMANDS[name].help)
                self.added.append(name)

    def __exit__(self, *exc: object) -> None:
        for name in self.added:
            if isinstance(self.group.commands.get(name), _Placeholder):
                del self.group.commands[name]


app = typer.Typer(
    name="mltrail",
    cls=_RootGroup,
    help="mltrail: track, compare and reproduce machine-learning runs.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


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
    from mltrail.cli.context import CliContext, resolve_settings

    state = CliContext(resolve_settings(db=db, home=home, server=server))
    ctx.obj = state
    ctx.call_on_close(state.close)


def iter_command_paths(prefix: str = "mltrail") -> Iterator[str]:
    """Every leaf command as typed (``mltrail runs list``…), loading every sub-command (tests, docs)."""
    root = typer.main.get_command(app)
    ctx = root.make_context(prefix, ["--help"], resilient_parsing=True)

    def walk(command: Any, path: str, parent_ctx: Any) -> Iterator[str]:
        if not hasattr(command, "list_commands"):
            yield path
            return
        for name in command.list_commands(parent_ctx):
            child = command.get_command(parent_ctx, name)
            if child is not None:
                yield from walk(child, f"{path} {name}", parent_ctx)

    yield from walk(root, prefix, ctx)


# The collector is off for a command's first seconds: start-up imports make a great many objects and
# almost no garbage cycles, and collecting them ran ~200 times (55 ms of `mltrail runs samples`). A
# command still running then (a server, a long export) has it back.
GC_PAUSE_SECONDS = 2.0


def pause_gc(seconds: float = GC_PAUSE_SECONDS) -> threading.Timer:
    """Disable the cyclic garbage collector for ``seconds``; the timer that enables it again."""
    gc.disable()
    timer = threading.Timer(seconds, gc.enable)
    timer.daemon = True
    timer.start()
    return timer


def main() -> None:
    """Console-script entry point."""
    pause_gc()
    try:
        app()
    except MltrailError as exc:  # raised outside a subcommand, e.g. while reading settings
        sys.exit(report_error(exc))
