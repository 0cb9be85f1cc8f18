"""``mltrail server``: the team server (uvicorn running ``mltrail.api.app.create_app``)."""

from __future__ import annotations

import dataclasses
import ipaddress
import threading
import time
import webbrowser
from typing import Annotated, NoReturn

import typer
from rich.text import Text

from mltrail.cli.context import services, sqlite_path
from mltrail.cli.render import stderr_console
from mltrail.errors import InvalidInputError, NotFoundError

__all__ = ["is_loopback", "server", "server_extra_hint", "ui"]


def server_extra_hint(command: str) -> str:
    """What to do when ``mltrail COMMAND`` finds the server extra missing."""
    return f"`mltrail {command}` needs the server extra: pip install 'mltrail[server]'"


# What the server extra installs and the API imports; another missing module is a bug, not a missing extra.
_SERVER_MODULES = frozenset({"fastapi", "fastapi_offline", "pydantic", "starlette", "uvicorn"})


def _missing_server_extra(exc: ImportError, command: str) -> NoReturn:
    if (exc.name or "").partition(".")[0] not in _SERVER_MODULES:
        raise exc
    stderr_console().print(Text(f"Error: {server_extra_hint(command)}", style="red"), soft_wrap=True)
    raise typer.Exit(1) from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def server(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to bind; anything but loopback turns authentication on by default.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 5500,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL; overrides the global --db, MLTRAIL_DB and --dir."),
    ] = None,
    blobs: Annotated[
        str | None,
        typer.Option(
            help="Blob folder or fsspec URL (default: MLTRAIL_BLOBS or <dir>/blobs); s3://bucket/prefix is"
            " reached with the MLTRAIL_S3_* settings."
        ),
    ] = None,
    max_upload_mb: Annotated[
        float | None, typer.Option(help="Largest artifact upload in MiB (413 above it); default no limit.")
    ] = None,
    auth: Annotated[
        bool | None,
        typer.Option(
            "--auth/--no-auth",
            help="Require API keys and apply project roles (default: on unless the host is loopback).",
        ),
    ] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Allow --no-auth on a non-loopback address.")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the web UI at / and the JSON API under /api/v1 (OpenAPI docs at /api/docs) until interrupted."""
    try:
        import uvicorn

        from mltrail.api.app import create_app
    except ImportError as exc:  # a base install: say which extra, not a traceback
        _missing_server_extra(exc, "server")
    loopback = is_loopback(host)
    use_auth = (not loopback) if auth is None else auth
    if not loopback and not use_auth and not insecure:
        raise InvalidInputError(
            f"refusing to bind {host} without authentication: anyone who can reach it could read and write"
            " every run. Drop --no-auth (then clients need an API key: `mltrail users create NAME --role"
            " admin`), bind 127.0.0.1, or pass --insecure on a network you trust.",
            field="host",
        )
    if max_upload_mb is not None and max_upload_mb <= 0:
        raise InvalidInputError("--max-upload-mb must be positive", field="max_upload_mb")
    settings = services(ctx).settings
    if db:
        settings = dataclasses.replace(settings, db_url=db)
    if blobs:
        settings = dataclasses.replace(settings, blobs=blobs)
    if not loopback and not use_auth:
        typer.echo(f"WARNING: serving {host} without authentication (--insecure).", err=True)
    max_bytes = None if max_upload_mb is None else int(max_upload_mb * (1 << 20))
    app = create_app(settings, max_upload_bytes=max_bytes, auth=use_auth)
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False)


def ui(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1.")] = 5500,
    browser: Annotated[
        bool, typer.Option("--browser/--no-browser", help="Open the UI in the default web browser.")
    ] = True,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Open the embedded store (./mltrail, MLTRAIL_DIR or --dir) in the web UI on 127.0.0.1.

    No sign-in; it serves until interrupted. A team server serves the same UI itself at its own address."""
    try:
        import uvicorn

        from mltrail.api.app import create_app
    except ImportError as exc:  # a base install: say which extra, not a traceback
        _missing_server_extra(exc, "ui")
    state = services(ctx)
    settings = state.settings
    if not settings.embedded:
        raise InvalidInputError(
            f"{settings.server} (from {settings.server_source}) is a team server: open it in a browser."
            " `mltrail ui` shows a store on this machine: pass --dir or --db",
            field="--server",
        )
    path = sqlite_path(settings.db_url)
    if path is not None and not path.exists():
        raise NotFoundError(
            f"no mltrail store at {path.parent}: run a training script with mltrail.init() here first,"
            " or pass --dir path/to/mltrail"
        )
    app = create_app(settings, auth=False)
    url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level))
    stderr_console().print(
        f"mltrail UI on {url} over {path.parent if path else settings.db_url} (Ctrl+C stops it)"
    )
    if browser:
        threading.Thread(target=_open_when_up, args=(server, url), daemon=True).start()
    server.run()


def _open_when_up(server: object, url: str) -> None:
    """Open the browser once uvicorn listens (it sets ``started``), within 30 s."""
    deadline = time.monotonic() + 30
    while not getattr(server, "started", False):
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)
    webbrowser.open(url)
