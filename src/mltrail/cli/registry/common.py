"""What the ``mltrail models`` commands share: the acting user, the registry, options and the audit origin."""

from __future__ import annotations

import getpass
import os
from typing import Annotated

import typer

from mltrail.cli.context import services
from mltrail.entities import Role
from mltrail.services.accounts.service import Principal
from mltrail.services.registry.service import Origin, RegistryService

__all__ = [
    "JsonOpt",
    "ModelArg",
    "UserOpt",
    "VersionArg",
    "acting_principal",
    "cli_origin",
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
        help="Who acts (recorded in the trail; a requester cannot approve their own request). "
        "Default: MLTRAIL_USER, else the operating-system user.",
    ),
]


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user name in this environment
        return "unknown"


def default_user() -> str:
    return os.environ.get("MLTRAIL_USER", "").strip() or _os_user()


def acting_principal(user: str | None) -> Principal:
    """The local CLI is trusted like ``mltrail users`` (whoever has the database URL), so the acting user is
    an admin; the service's own rules, such as no self-approval, still hold between two names."""
    return Principal(name=(user or "").strip() or default_user(), role=Role.ADMIN)


def cli_origin() -> Origin:
    return Origin(client=f"cli:{_os_user()}", user_agent="mltrail-cli")


def registry(ctx: typer.Context) -> RegistryService:
    return services(ctx).registry
