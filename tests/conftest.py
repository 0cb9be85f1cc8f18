"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mltrail.sdk.transport import close_embedded_transports


@pytest.fixture(autouse=True)
def _close_embedded_stores() -> Iterator[None]:
    """Each test's embedded stores are closed after it, so no connection outlives its temp folder."""
    yield
    close_embedded_transports()
