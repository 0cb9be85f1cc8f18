"""``mltrail models audit``: the registry's trail of changes and downloads, as a table, JSON or CSV."""

from __future__ import annotations

from typing import Annotated

import typer

from mltrail.cli.registry.common import JsonOpt, registry
from mltrail.cli.registry.views import events_table
from mltrail.cli.render import echo_json, stdout_console
from mltrail.entities import REGISTRY_ACTIONS
from mltrail.errors import InvalidInputError
from mltrail.services.accounts.audit import registry_events_to_csv

__all__ = ["audit"]

_TIME = "epoch seconds, an ISO 8601 time or a duration back such as 7d, 12h"


def audit(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Argument(help="Only this model's events.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's events.")] = None,
    action: Annotated[
        str | None,
        typer.Option(
            "--action", help="Only this action, e.g. stage_changed, transition_approved, downloaded."
        ),
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help=f"From this time on: {_TIME}.")] = None,
    until: Annotated[str | None, typer.Option("--until", help=f"Before this time: {_TIME}.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many events.")] = 100,
    output: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    as_json: JsonOpt = False,
) -> None:
    """The registry's trail, newest first: who created, moved, approved, rejected or downloaded what."""
    chosen = "json" if as_json else output.strip().lower()
    if chosen not in ("table", "json", "csv"):
        raise InvalidInputError(f"format must be table, json or csv, got {output!r}", field="format")
    if as_json and output.strip().lower() not in ("table", "json"):
        raise InvalidInputError("choose one of --json and --format", field="format")
    if action is not None and action not in REGISTRY_ACTIONS:
        raise InvalidInputError(
            f"unknown action {action!r}; known: {', '.join(REGISTRY_ACTIONS)}", field="action"
        )
    if not 1 <= limit <= 10_000:
        raise InvalidInputError(f"--limit must be 1-10000, got {limit}", field="limit")
    events = registry(ctx).events(
        model=model, user=user, action=action, since=since, until=until, limit=limit
    )
    if chosen == "json":
        echo_json({"events": events})
    elif chosen == "csv":
        typer.echo(registry_events_to_csv(events), nl=False)
    elif not events:
        stdout_console().print("No registry events match.")
    else:
        stdout_console().print(events_table(events))
