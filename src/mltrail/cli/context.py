"""The services a CLI command talks to, built from ``Settings.from_env()`` and the global options."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.text import Text

from mltrail.cli.render import stderr_console
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.settings import Settings

if TYPE_CHECKING:
    from mltrail.sdk.accounts.client import AccountsClient
    from mltrail.sdk.client.connection import Connection
    from mltrail.sdk.client.embedded import EmbeddedConnection
    from mltrail.sdk.tracking.reader import RunReader
    from mltrail.services.container import Services
    from mltrail.services.registry.service import RegistryService
    from mltrail.services.registry.webhooks import WebhookService
    from mltrail.services.tracking.artifacts import ArtifactService
    from mltrail.services.tracking.datasets import DatasetService
    from mltrail.services.tracking.reproduce import ReproduceService
    from mltrail.services.tracking.service import TrackingService
    from mltrail.store.base import Store
    from mltrail.store.blobs import BlobStore

__all__ = ["CliContext", "resolve_settings", "services", "sqlite_path"]


def resolve_settings(db: str | None = None, home: Path | None = None, server: str | None = None) -> Settings:
    """The environment's settings; ``--dir`` replaces the home folder (and so the default database and
    blobs under it), ``--db`` the database URL: either means the database itself, not a server.
    ``--server`` (else ``MLTRAIL_SERVER``, else ``mltrail login``'s server) means that team server."""
    env = Settings.from_env()
    if home is not None:
        return dataclasses.replace(env, home=home, db_url=db or "", blobs="").with_server("", source="--dir")
    if db:
        return dataclasses.replace(env, db_url=db).with_server("", source="--db")
    if server is not None:
        return env.with_server(server, source="--server")
    return env


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL; ``None`` for other databases and in-memory SQLite."""
    if not url.startswith("sqlite"):
        return None
    _, sep, rest = url.partition(":///")
    if not sep:
        return None
    path = rest.split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path)


class CliContext:
    """The command's connection, from the one client seam, opened on first use and closed when the command
    ends: a team server, or the database itself (whoever holds the database URL acts on it directly, as an
    admin: docs/CLI.md). The embedded store and the services are imported only when used, so a command
    against a server loads no store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._connection: EmbeddedConnection | None = None
        self._http: Connection | None = None

    def connection(self, must_exist: bool = True) -> Connection:
        """Where the command acts: the team server (``--server``, ``MLTRAIL_SERVER``, ``mltrail login``), or
        the database (``--dir``, ``--db``, ``MLTRAIL_DIR``, ``MLTRAIL_DB``, default ``./mltrail``)."""
        if self.settings.embedded:
            self.container(must_exist)
            assert self._connection is not None
            return self._connection
        if self._http is None:
            from mltrail.sdk.client.http import HttpConnection

            self._http = HttpConnection(self.settings)
            self._say_where()
        return self._http

    def _say_where(self) -> None:
        """On stderr, where the command reads when the command line does not say: a server from the
        environment or from ``mltrail login`` (nothing for ``--server`` or the default ``./mltrail``)."""
        source = self.settings.server_source
        if source in ("mltrail login", "MLTRAIL_SERVER"):
            stderr_console().print(
                Text(f"mltrail: using the server at {self.settings.server} (from {source})", style="dim"),
                soft_wrap=True,
            )

    def runs(self, must_exist: bool = True) -> RunReader:
        """Reading runs, on the server or the database."""
        return self.connection(must_exist).runs

    def accounts(self, must_exist: bool = True) -> AccountsClient:
        """Users, keys, memberships and the audit log, on the server or the database."""
        return self.connection(must_exist).accounts

    def container(self, must_exist: bool = True) -> Services:
        """Every service over the store; with ``must_exist`` a missing SQLite file is a NotFoundError rather
        than a new, empty database in whatever folder the command happened to run from. Only for the
        database itself: with a server configured, a command that needs the database says so."""
        if not self.settings.embedded:
            raise InvalidInputError(
                f"this command works on the database directly, and {self.settings.server} "
                f"(from {self.settings.server_source}) is a server: pass --dir or --db",
                field="--db",
            )
        if self._connection is None:
            path = sqlite_path(self.settings.db_url)
            if must_exist and path is not None and not path.exists():
                raise NotFoundError(
                    f"no mltrail database at {path}; set MLTRAIL_DIR, or pass --dir or --db "
                    "(e.g. `mltrail --dir path/to/mltrail runs list PROJECT`), or --server URL "
                    "(or `mltrail login URL`) for a team server"
                )
            from mltrail.sdk.client.embedded import EmbeddedConnection

            self._connection = EmbeddedConnection(self.settings)
            self._connection.audit_method = "CLI"
        return self._connection.services

    def store(self, must_exist: bool = True) -> Store:
        return self.container(must_exist).store

    @property
    def blobs(self) -> BlobStore:
        return self.container().blobs

    @property
    def tracking(self) -> TrackingService:
        return self.container().tracking

    @property
    def artifacts(self) -> ArtifactService:
        return self.container().artifacts

    @property
    def datasets(self) -> DatasetService:
        return self.container().datasets

    @property
    def reproduce(self) -> ReproduceService:
        return self.container().reproduce

    @property
    def registry(self) -> RegistryService:
        # No dispatcher here: deliveries are queued in the store with each event and sent by the server.
        return self.container().registry

    @property
    def webhooks(self) -> WebhookService:
        return self.container().webhooks

    @property
    def monitoring(self) -> Services:
        """Monitoring, alerts and the registry; alert notifications go out from the ingesting command
        itself, and ``close()`` waits for them."""
        return self.container()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._http is not None:
            self._http.close()
            self._http = None


def services(ctx: typer.Context) -> CliContext:
    """The command's ``CliContext``, set up by the root callback in ``cli.main``."""
    root = ctx.find_root()
    state = root.obj
    if not isinstance(state, CliContext):
        state = CliContext(resolve_settings())
        root.obj = state
        root.call_on_close(state.close)
    return state
