"""The services a CLI command talks to, built from ``Settings.from_env()`` and the global options."""

from __future__ import annotations

import dataclasses
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mltrail.errors import NotFoundError
from mltrail.settings import Settings

# Services load with the property that builds them: a command imports only what it uses (see cli.main).
if TYPE_CHECKING:
    from mltrail.sdk.monitoring.setup import MonitoringServices
    from mltrail.services.registry.service import RegistryService
    from mltrail.services.registry.webhooks import WebhookService
    from mltrail.services.tracking.artifacts import ArtifactService
    from mltrail.services.tracking.datasets import DatasetService
    from mltrail.services.tracking.reproduce import ReproduceService
    from mltrail.services.tracking.service import TrackingService
    from mltrail.store.base import Store
    from mltrail.store.blobs import BlobStore

__all__ = ["CliContext", "resolve_settings", "services", "sqlite_path"]


def resolve_settings(db: str | None = None, home: Path | None = None) -> Settings:
    """The environment's settings; ``--dir`` replaces the home folder (and so the default database and
    blobs under it), ``--db`` the database URL."""
    env = Settings.from_env()
    if home is not None:
        return dataclasses.replace(env, home=home, db_url=db or "", blobs="")
    if db:
        return dataclasses.replace(env, db_url=db)
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
    """Opens the store on first use and closes it when the command ends."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None

    def store(self, must_exist: bool = True) -> Store:
        """The store; with ``must_exist`` a missing SQLite file is a NotFoundError rather than a new,
        empty database in whatever folder the command happened to run from."""
        if self._store is None:
            path = sqlite_path(self.settings.db_url)
            if must_exist and path is not None and not path.exists():
                raise NotFoundError(
                    f"no mltrail database at {path}; set MLTRAIL_DIR, or pass --dir or --db "
                    "(e.g. `mltrail --dir path/to/mltrail runs list PROJECT`)"
                )
            from mltrail.store.factory import open_store

            self._store = open_store(self.settings.db_url)
        return self._store

    @cached_property
    def blobs(self) -> BlobStore:
        from mltrail.store.blobs import BlobStore

        return BlobStore(self.settings.blobs)

    @cached_property
    def tracking(self) -> TrackingService:
        from mltrail.services.tracking.service import TrackingService

        return TrackingService(self.store(), heartbeat_timeout=self.settings.heartbeat_timeout)

    @cached_property
    def artifacts(self) -> ArtifactService:
        from mltrail.services.tracking.artifacts import ArtifactService

        return ArtifactService(self.store(), self.blobs)

    @cached_property
    def datasets(self) -> DatasetService:
        from mltrail.services.tracking.datasets import DatasetService

        return DatasetService(self.store())

    @cached_property
    def reproduce(self) -> ReproduceService:
        from mltrail.sdk.capture.git import apply_patch
        from mltrail.services.tracking.reproduce import ReproduceService

        return ReproduceService(self.tracking, self.artifacts, self.datasets, apply_patch=apply_patch)

    @cached_property
    def registry(self) -> RegistryService:
        from mltrail.services.accounts.service import AccountService
        from mltrail.services.registry.service import RegistryService

        # No dispatcher here: deliveries are queued in the store with each event and sent by the server.
        return RegistryService(self.store(), self.blobs, AccountService(self.store()))

    @cached_property
    def webhooks(self) -> WebhookService:
        from mltrail.services.registry.webhooks import WebhookService

        return WebhookService(self.store())

    @cached_property
    def monitoring(self) -> MonitoringServices:
        from mltrail.sdk.monitoring.setup import monitoring_services

        # Alert notifications go out from the ingesting command itself; close() waits for them.
        return monitoring_services(self.store(), self.blobs)

    def close(self) -> None:
        if "monitoring" in self.__dict__:
            self.__dict__.pop("monitoring").close()
        if self._store is not None:
            self._store.close()
            self._store = None


def services(ctx: typer.Context) -> CliContext:
    """The command's ``CliContext``, set up by the root callback in ``cli.main``."""
    root = ctx.find_root()
    state = root.obj
    if not isinstance(state, CliContext):
        state = CliContext(resolve_settings())
        root.obj = state
        root.call_on_close(state.close)
    return state
