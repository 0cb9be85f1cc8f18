"""``mltrail login`` and ``logout``: keep a team server's API key in the user's config folder.

The key is checked with ``GET /api/v1/me`` before anything is stored; it is written with
``settings.Credentials`` (file mode 0600, in ``MLTRAIL_CONFIG_DIR``, else ``~/.config/mltrail``), and that
server becomes the default of every command and of ``mltrail.init`` (``MLTRAIL_SERVER``, ``--server``,
``--dir`` and ``--db`` still win). The key is never printed.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.text import Text

from mltrail.cli.context import services
from mltrail.cli.render import stdout_console
from mltrail.errors import AuthenticationError, InvalidInputError, NotFoundError
from mltrail.settings import Credentials, normalize_server

__all__ = ["login", "logout"]


def _interactive() -> bool:
    return sys.stdin.isatty()


def _read_key(given: str | None) -> str:
    """The key: ``--key``, else piped stdin, else a hidden prompt."""
    if given is not None:
        key = given
    elif not _interactive():
        key = sys.stdin.readline()
    else:
        key = typer.prompt("API key", hide_input=True, err=True)
    key = key.strip()
    if not key:
        raise InvalidInputError(
            "no API key given: pass --key, pipe it in, or type it at the prompt", field="key"
        )
    return key


def login(
    ctx: typer.Context,
    server: Annotated[str, typer.Argument(help="The team server, e.g. http://ml-box:5500 (or ml-box:5500).")],
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="The API key (default: read from stdin when piped, else asked for without echo). A key on "
            "the command line may stay in your shell history.",
        ),
    ] = None,
) -> None:
    """Check an API key against SERVER, store it (file mode 0600) and make SERVER the default server."""
    from mltrail.sdk.accounts.http import HttpAccounts
    from mltrail.sdk.tracking.http import HttpTransport

    url = normalize_server(server)
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"{server!r} is not an http:// or https:// URL", field="server")
    secret = _read_key(key)
    with HttpTransport(url, secret, timeout=10.0, attempts=2) as http:
        try:
            me = HttpAccounts(http).me()
        except AuthenticationError as exc:
            raise AuthenticationError(
                f"{url} refused the API key; nothing was stored ({exc.message})"
            ) from None
    config_dir = services(ctx).settings.config_dir
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    credentials = Credentials.load(config_dir).with_key(url, secret)
    credentials.save()
    console = stdout_console()
    if me.authenticated:
        console.print(f"Logged in to {url} as {me.name} ({me.role.value}, key {me.key_id}…).")
    else:
        console.print(f"Logged in to {url}; it runs without authentication, so the key is not checked there.")
    console.print(
        Text(
            f"{url} is now the default server; the key is kept in {credentials.path} (mode 0600).",
            style="dim",
        )
    )


def logout(
    ctx: typer.Context,
    server: Annotated[
        str | None,
        typer.Argument(help="The server to forget (default: the default server of mltrail login)."),
    ] = None,
) -> None:
    """Remove the stored API key of SERVER (and stop using it as the default server)."""
    credentials = Credentials.load(services(ctx).settings.config_dir)
    url = normalize_server(server) if server else credentials.default_server
    if not url:
        raise NotFoundError("not logged in to any server (nothing stored by mltrail login)")
    if url not in credentials.keys and credentials.default_server != url:
        raise NotFoundError(f"not logged in to {url}; logged in to: {', '.join(credentials.keys) or 'none'}")
    credentials.without(url).save()
    stdout_console().print(f"Logged out of {url}; its key was removed from {credentials.path}.")
