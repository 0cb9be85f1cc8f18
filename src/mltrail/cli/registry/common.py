"""What the ``mltrail models`` commands share: the acting user, the registry client, options."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from mltrail.cli.context import services
from mltrail.sdk.registry.client import RegistryClient

__all__ = [
    "CLI_AGENT",
    "JsonOpt",
    "ModelArg",
    "UserOpt",
    "VersionArg",
    "cli_client",
    "default_user",
    "registry",
]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
ModelArg = Annotated[str, typer.Argument(help="The registered model's name.")]
VersionArg = Annotated[int, typer.Argument(help="The version number.", min=1)]
UserOpt = Annotated[
    str | None,
    typer.Option(
        "--user",
        help="Who acts on the database directly (recorded in the trail; a requester cannot approve their "
        "own request). Default: MLTRAIL_USER, else the operating-system user. Against a server with "
        "authentication the API key's user acts.",
    ),
]
CLI_AGENT = "mltrail-cli"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user name in this environment
        return "unknown"


def default_user(ctx: typer.Context) -> str:
    return services(ctx).settings.user or _os_user()


def cli_client() -> str:
    """The trail's ``client`` of a change made on the database directly."""
    return f"cli:{_os_user()}"


def registry(ctx: typer.Context, user: str | None = None) -> RegistryClient:
    """The registry where the command acts: the database directly (as ``user``, default ``MLTRAIL_USER`` or
    the operating-system user, with full rights) or the team server (as the API key's user)."""
    acting = (user or "").strip() or default_user(ctx)
    return services(ctx).connection().registry(acting).with_origin(cli_client(), CLI_AGENT)
