"""``mltrail models webhooks``: subscriptions to registry events and their delivery log (on the database
directly, or on a team server: a maintainer of the model's project, or an admin for every model)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from mltrail.cli.registry.common import JsonOpt, UserOpt, registry
from mltrail.cli.render import echo_json, format_timestamp, stderr_console, stdout_console
from mltrail.entities import WEBHOOK_EVENTS
from mltrail.errors import InvalidInputError

__all__ = ["app"]

app = typer.Typer(help="Webhooks: registry events POSTed to a URL, signed.", no_args_is_help=True)
IdArg = Annotated[int, typer.Argument(help="The webhook's id.")]
_DELIVERY_STYLES = {"delivered": "green", "pending": "yellow", "failed": "red"}


@app.command("list")
def list_webhooks(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option("--model", help="Webhooks of this model and of every model.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Active webhooks (never their secrets)."""
    hooks = registry(ctx).list_webhooks(model)
    if as_json:
        echo_json({"webhooks": hooks})
        return
    console = stdout_console()
    if not hooks:
        console.print("No webhooks.")
        return
    table = Table(box=None, header_style="bold")
    for column in ("id", "url", "model", "events", "created by", "created"):
        table.add_column(column, no_wrap=column not in ("url", "events"))
    for h in hooks:
        table.add_row(
            str(h.id),
            h.url,
            h.model or "(every model)",
            ", ".join(h.events),
            h.created_by or "-",
            format_timestamp(h.created_at),
        )
    console.print(table)


@app.command("add")
def add_webhook(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="Where to POST the events (http or https).")],
    model: Annotated[
        str | None, typer.Option("--model", help="Only this model's events (default: every model).")
    ] = None,
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event", help=f"An event to send; repeatable (default: all of {', '.join(WEBHOOK_EVENTS)})."
        ),
    ] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Subscribe a URL to registry events and print its signing secret, once."""
    hook, secret = registry(ctx, user).create_webhook(url, list(event or []), model)
    if as_json:
        echo_json({"webhook": hook, "secret": secret})
    else:
        typer.echo(secret)
    stderr_console().print(
        Text(
            f"Webhook {hook.id} → {hook.url} ({', '.join(hook.events)}). The secret above signs every"
            " delivery (X-Mltrail-Signature); it is shown only this once.",
            style="yellow",
        ),
        soft_wrap=True,
    )


@app.command("remove")
def remove_webhook(ctx: typer.Context, webhook_id: IdArg, as_json: JsonOpt = False) -> None:
    """Deactivate a webhook: what it still had queued is dropped, its delivery log kept."""
    registry(ctx).delete_webhook(webhook_id)
    if as_json:
        echo_json({"id": webhook_id, "deleted": True})
    else:
        stdout_console().print(f"Removed webhook {webhook_id}.")


@app.command("deliveries")
def list_deliveries(
    ctx: typer.Context,
    webhook_id: IdArg,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many (1-1000).")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """A webhook's deliveries, newest first, with their attempts."""
    if not 1 <= limit <= 1000:
        raise InvalidInputError(f"--limit must be 1-1000, got {limit}", field="limit")
    found = registry(ctx).deliveries(webhook_id, limit)
    if as_json:
        echo_json({"deliveries": found})
        return
    console = stdout_console()
    if not found:
        console.print(f"No deliveries for webhook {webhook_id} yet.")
        return
    table = Table(box=None, header_style="bold")
    for column in ("id", "event", "action", "status", "attempts", "last answer", "created", "next attempt"):
        table.add_column(column, no_wrap=True)
    for d in found:
        last = d.log[-1] if d.log else None
        answer = "-" if last is None else (str(last.status_code) if last.status_code else (last.error or "-"))
        table.add_row(
            str(d.id),
            str(d.event_id),
            d.action,
            Text(d.status, style=_DELIVERY_STYLES.get(d.status, "")),
            str(d.attempts),
            answer,
            format_timestamp(d.created_at),
            format_timestamp(d.next_attempt_at),
        )
    console.print(table)
