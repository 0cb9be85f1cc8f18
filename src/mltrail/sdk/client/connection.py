"""``connect()``: the SDK's and the CLI's one seam, deciding embedded store or team server once.

``mltrail.init``, ``mltrail.models``, ``mltrail.monitor``, the query API and every CLI command get their
clients here. A ``Connection`` hands out the tracking, registry and monitoring clients of one place: the
embedded store (``embedded.py``, which alone imports the services and the store) or a team server
(``http.py``, over one shared HTTP client; it never imports SQLAlchemy, Alembic or the store). The same
calls raise the same ``mltrail.errors`` types either way.
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import TYPE_CHECKING, Protocol

from mltrail.settings import Settings

if TYPE_CHECKING:
    from mltrail.sdk.accounts.client import AccountsClient
    from mltrail.sdk.deployments.client import DeploymentsClient
    from mltrail.sdk.insights.client import InsightsClient
    from mltrail.sdk.monitoring.client import MonitorClient
    from mltrail.sdk.registry.client import RegistryClient
    from mltrail.sdk.reports.client import ReportsClient
    from mltrail.sdk.tracking.embedded import InProcessTransport
    from mltrail.sdk.tracking.reader import RunReader
    from mltrail.sdk.tracking.transport import Transport

__all__ = ["Connection", "close_connections", "close_embedded_transports", "connect", "embedded_transport"]


class Connection(Protocol):
    """One place runs, models and monitors live, with the clients that reach it."""

    settings: Settings

    @property
    def where(self) -> str:
        """For messages: ``the embedded store in ./mltrail`` or ``the mltrail server at http://…``."""
        ...

    @property
    def embedded(self) -> bool: ...

    def run_transport(self) -> Transport:
        """Where a run's calls go: the embedded services, or the journal in front of the server (and only
        the journal with ``MLTRAIL_MODE=offline``)."""
        ...

    def registry(self, user: str | None = None) -> RegistryClient:
        """The registry, acting as ``user`` where no server account decides (default: ``MLTRAIL_USER`` or
        the OS user)."""
        ...

    @property
    def monitoring(self) -> MonitorClient: ...

    def deployments(self, user: str | None = None) -> DeploymentsClient:
        """Deployment specs, acting as ``user`` where no server account decides."""
        ...

    def reports(self, user: str | None = None) -> ReportsClient:
        """Stakeholder reports, acting as ``user`` where no server account decides."""
        ...

    def insights(self) -> InsightsClient:
        """Team insights: cost and budgets, value metrics, retraining cadence, maturity scorecard."""
        ...

    @property
    def runs(self) -> RunReader:
        """Reading runs: projects, search, one run, metric histories, datasets, artifacts (verified
        downloads), delete."""
        ...

    @property
    def accounts(self) -> AccountsClient:
        """Users, API keys, memberships and the audit log (on the database itself: as an admin)."""
        ...

    def close(self) -> None: ...


_connections: dict[tuple[object, ...], Connection] = {}
_lock = threading.Lock()


def connect(
    server: str | None = None, api_key: str | None = None, *, settings: Settings | None = None
) -> Connection:
    """The connection of ``settings`` (default: ``Settings.from_env()``), pointed at ``server`` if given
    (``""`` forces the embedded store). One per store or per server and key in this process, shared by
    everything that asks, closed at exit or by ``close_connections()``."""
    settings = settings or Settings.from_env()
    if server is not None or api_key is not None:
        target = settings.server if server is None else server
        settings = settings.with_server(target, api_key, source="server=" if server else "embedded")
    if settings.embedded:
        key: tuple[object, ...] = ("embedded", settings.db_url, settings.blobs, os.getpid())
    else:
        key = ("server", settings.server, settings.api_key, os.getpid())
    with _lock:
        found = _connections.get(key)
        if found is None:
            if settings.embedded:
                from mltrail.sdk.client.embedded import EmbeddedConnection

                found = EmbeddedConnection(settings)
            else:
                from mltrail.sdk.client.http import HttpConnection

                found = HttpConnection(settings)
            _connections[key] = found
        return found


@atexit.register
def close_connections() -> None:
    """Close every connection of this process (tests; long-lived tools switching stores)."""
    with _lock:
        found = list(_connections.values())
        _connections.clear()
    for connection in found:
        connection.close()


def embedded_transport(settings: Settings) -> InProcessTransport:
    """The embedded store of ``settings`` as a run's transport (its services on ``.services``), from the
    shared connection: tools and tests that work on the store in-process."""
    from mltrail.sdk.client.embedded import EmbeddedConnection

    found = connect(settings=settings.with_server("", source="embedded"))
    assert isinstance(found, EmbeddedConnection)
    return found.transport


def close_embedded_transports() -> None:
    """``close_connections()``, under the name the embedded tools know."""
    close_connections()
