"""Fixtures for SDK tests: an embedded store in a temp folder, read back through the real services.

``make_transport`` runs a test against both transports: ``embedded`` (in-process) and ``http`` (a real
``mltrail server`` process writing the same SQLite file that ``embedded`` reads back), reached the way
``mltrail.init(server=...)`` reaches it: through a ``JournalingTransport`` (journal in the temp folder).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mltrail.sdk.client.connection import embedded_transport
from mltrail.sdk.tracking.embedded import InProcessTransport
from mltrail.sdk.tracking.http import HttpTransport
from mltrail.sdk.tracking.journal_transport import JournalingTransport, close_journaling_transports
from mltrail.sdk.tracking.transport import Transport
from mltrail.settings import Settings

MakeTransport = Callable[[], Transport]


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory, live_server: Any) -> Iterator[Any]:
    """One server process for the session's ``http`` tests, on its own mltrail folder."""
    server = live_server.start_server(tmp_path_factory.mktemp("sdk-server") / "mltrail")
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _close_journaling_transports() -> Iterator[None]:
    """``mltrail.init(server=...)`` shares one journaling transport per server; each test gets fresh ones."""
    yield
    close_journaling_transports()


@pytest.fixture(params=["embedded", "http"])
def transport_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    home = tmp_path / "mltrail"
    if "transport_kind" in request.fixturenames and request.getfixturevalue("transport_kind") == "http":
        home = request.getfixturevalue("http_server").home  # read back the file the server writes
    return Settings(home=home, flush_interval=0.05, heartbeat_interval=0.2, journal_dir=tmp_path / "journal")


@pytest.fixture
def embedded(settings: Settings) -> Iterator[InProcessTransport]:
    transport = embedded_transport(settings)
    yield transport


@pytest.fixture
def make_transport(
    transport_kind: str, settings: Settings, request: pytest.FixtureRequest
) -> Iterator[MakeTransport]:
    """Builds the transport the test runs against; HTTP clients are closed after the test."""
    made: list[JournalingTransport] = []

    def make() -> Transport:
        if transport_kind == "embedded":
            return embedded_transport(settings)
        url = request.getfixturevalue("http_server").url
        http = HttpTransport(url, attempts=1)
        transport = JournalingTransport(http, settings.journal_dir, server=url, owned=[http])
        made.append(transport)
        return transport

    yield make
    for transport in made:
        transport.close()
