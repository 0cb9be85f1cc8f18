"""``mltrail users``: accounts of the team server — through the server with an admin's key, or on the
database directly.

On the database (``--dir``/``--db``), like ``mltrail db upgrade``, whoever has the database URL is trusted
as an admin (that is how the first admin is made), and each change is written to the audit log with the
command line and the operating-system user who ran it. Through a server, the server checks the key's role
and audits the request.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from mltrail.cli.context import services
from mltrail.cli.render import echo_json, format_relative, format_timestamp, stderr_console, stdout_console
from mltrail.entities import User
from mltrail.sdk.accounts.client import AccountsClient, CreatedKey

__all__ = ["accounts", "app", "print_new_key"]

app = typer.Typer(help="Users of the team server and their server roles.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
ExpiresOpt = Annotated[
    str | None, typer.Option("--expires", help="Key lifetime, e.g. 90d, 12h, 2w (default: never).")
]


def accounts(ctx: typer.Context, must_exist: bool = True) -> AccountsClient:
    """The accounts client of the command's server or database; ``must_exist=False`` may create a new
    SQLite file (the first admin)."""
    return services(ctx).accounts(must_exist)


def print_new_key(new: CreatedKey, as_json: bool, user: User | None = None) -> None:
    """The key, this once: on stdout alone (or in the JSON), with the warning on stderr."""
    if as_json:
        payload: dict[str, object] = {"api_key": {**_key_dict(new), "key": new.secret}}
        if user is not None:
            payload["user"] = user
        echo_json(payload)
    else:
        typer.echo(new.secret)
    expires_at = new.key.expires_at
    expiry = "never expires" if expires_at is None else f"expires {format_timestamp(expires_at)}"
    stderr_console().print(
        Text(
            f"API key {new.key.key_id}… for {new.key.user} ({expiry}). Save it now: it is shown only this"
            " once and cannot be recovered (only its hash is stored). Clients use it as MLTRAIL_API_KEY.",
            style="yellow",
        ),
        soft_wrap=True,
    )


def _key_dict(new: CreatedKey) -> dict[str, object]:
    key = new.key
    return {
        "key_id": key.key_id,
        "user": key.user,
        "name": key.name,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
    }


@app.command("create")
def create_user(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ -).")],
    role: Annotated[
        str, typer.Option(help="Server role: none, viewer, member, maintainer or admin.")
    ] = "member",
    expires: ExpiresOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a user and print their first API key, once."""
    user, key = accounts(ctx, must_exist=False).create_user(name, role, expires)
    print_new_key(key, as_json, user)


@app.command("list")
def list_users(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List users with their server role and whether they are disabled."""
    service = accounts(ctx)
    users = service.list_users()
    if as_json:
        echo_json({"users": users})
        return
    console = stdout_console()
    if not users:
        console.print("No users yet. Create the first admin with `mltrail users create NAME --role admin`.")
        return
    now = time.time()
    table = Table(box=None, header_style="bold")
    for column in ("user", "role", "status", "keys", "last used", "created"):
        table.add_column(column, no_wrap=column != "created")
    for user in users:
        mine = service.list_keys(user.name)  # through a server, an admin's listing is their own keys
        usable = [k for k in mine if k.usable_at(now)]
        used = [k.last_used_at for k in mine if k.last_used_at is not None]
        table.add_row(
            user.name,
            user.role.value,
            Text("disabled", style="red") if user.disabled else Text("enabled", style="green"),
            f"{len(usable)} active / {len(mine)}",
            format_relative(max(used) if used else None),
            format_timestamp(user.created_at),
        )
    console.print(table)


def _show(user: User, as_json: bool, what: str) -> None:
    if as_json:
        echo_json({"user": user})
    else:
        state = "disabled" if user.disabled else "enabled"
        typer.echo(f"{what}: {user.name} is {user.role.value} ({state}).")


@app.command("set-role")
def set_role(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="none, viewer, member, maintainer or admin.")],
    as_json: JsonOpt = False,
) -> None:
    """Change a user's server role (their role on projects without a membership row)."""
    user = accounts(ctx).set_role(name, role)
    _show(user, as_json, "Role set")


@app.command("disable")
def disable_user(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="User name.")], as_json: JsonOpt = False
) -> None:
    """Disable a user: every key of theirs stops working at once (until enabled again)."""
    user = accounts(ctx).set_disabled(name, True)
    _show(user, as_json, "Disabled")


@app.command("enable")
def enable_user(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="User name.")], as_json: JsonOpt = False
) -> None:
    """Enable a disabled user again."""
    user = accounts(ctx).set_disabled(name, False)
    _show(user, as_json, "Enabled")
