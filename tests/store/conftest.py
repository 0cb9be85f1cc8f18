"""Store fixtures: an opened store per test over each backend (``db_url``, from tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore


@pytest.fixture
def store(db_url: str) -> Iterator[SqlStore]:
    opened = open_store(db_url)
    yield opened
    opened.close()


@pytest.fixture
def project() -> str:
    """A project name no other test uses, so tests sharing the PostgreSQL database never see each other."""
    return f"proj-{uuid.uuid4().hex[:10]}"
