"""Fixtures for SDK tests: an embedded store in a temp folder, read back through the real services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.sdk.transport import InProcessTransport, embedded_transport
from mltrail.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "mltrail", flush_interval=0.05, heartbeat_interval=0.2)


@pytest.fixture
def embedded(settings: Settings) -> Iterator[InProcessTransport]:
    transport = embedded_transport(settings)
    yield transport
