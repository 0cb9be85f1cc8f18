"""``mltrail keys``: API keys of the team server's users — create (shown once), list, revoke."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from mltrail.cli.accounts.users import ExpiresOpt, JsonOpt, accounts, print_new_key
from mltrail.cli.render import echo_json, format_relative, format_timestamp, stdout_console
from mltrail.entities import ApiKey
from mltrail.sdk.accounts.client import KEY_ID_LENGTH

__all__ = ["app"]

app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)


def key_state(key: ApiKey, now: float) -> Text:
    if key.revoked_at is not None:
        return Text("revoked", style="red")
    if key.expires_at is not None and now >= key.expires_at:
        return Text("expired", style="magenta")
    return Text("active", style="green")


@app.command("create")
def create_key(
    ctx: typer.Context,
    user: Annotated[
        str | None,
        typer.Argument(help="Whose key (through a server: default yourself; another user's needs admin)."),
    ] = None,
    name: Annotated[str, typer.Option(help="A label, e.g. the machine or job using it.")] = "default",
    expires: ExpiresOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API key for USER and print it, once."""
    new = accounts(ctx).create_key(user, name, expires)
    print_new_key(new, as_json)


@app.command("list")
def list_keys(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option(help="Only this user's keys.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List keys by their public id (never the keys themselves), newest first."""
    service = accounts(ctx)
    keys = service.list_keys(user)
    if as_json:
        echo_json({"keys": keys})
        return
    console = stdout_console()
    if not keys:
        console.print("No API keys.")
        return
    now = time.time()
    table = Table(box=None, header_style="bold")
    table.add_column("key id", no_wrap=True, min_width=KEY_ID_LENGTH)
    for column in ("user", "name", "state", "created", "expires", "last used"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key.key_id,
            key.user,
            key.name,
            key_state(key, now),
            format_relative(key.created_at),
            format_timestamp(key.expires_at) if key.expires_at is not None else "never",
            format_relative(key.last_used_at),
        )
    console.print(table)


@app.command("revoke")
def revoke_key(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key's public id (its first 12 characters).")],
    as_json: JsonOpt = False,
) -> None:
    """Revoke a key: it stops working at once; its record stays for the audit trail."""
    key = accounts(ctx).revoke_key(key_id.strip()[:KEY_ID_LENGTH])  # the whole key works too
    if as_json:
        echo_json({"key": key})
    else:
        typer.echo(f"Revoked {key.key_id} ({key.user}, {key.name}).")
