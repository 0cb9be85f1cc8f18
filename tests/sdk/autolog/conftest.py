"""Fixtures for the autologging tests: an embedded store in a temp folder that ``mltrail.init`` (which
autologging calls) finds through the environment, and autologging switched off after every test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mltrail

PROJECT = "autolog"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "mltrail"
    monkeypatch.setenv("MLTRAIL_DIR", str(folder))
    monkeypatch.setenv("MLTRAIL_PROJECT", PROJECT)
    monkeypatch.setenv("MLTRAIL_CAPTURE", "0")  # context capture is tested elsewhere; it only costs time here
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    return folder


@pytest.fixture(autouse=True)
def _autolog_off() -> Iterator[None]:
    yield
    mltrail.autolog(disable=True)


class Stored:
    """What landed in the store, read back through ``mltrail.runs`` (the embedded store of ``home``)."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def runs(self, filter: str | None = None) -> list[mltrail.RunView]:
        """The test project's runs, oldest first (none while no run created the store)."""
        if not (self.home / "mltrail.db").exists():
            return []
        return list(mltrail.runs(PROJECT, filter=filter, sort="start_time", limit=1000))

    def only_run(self) -> mltrail.RunView:
        found = self.runs()
        assert len(found) == 1, [(r.name, r.tags) for r in found]
        return found[0]

    def model_meta(self, run: mltrail.RunView, path: str = "model") -> dict[str, Any]:
        meta: dict[str, Any] = json.loads(run.artifact(f"{path}/mltrail-model.json"))
        return meta


@pytest.fixture
def stored(home: Path) -> Stored:
    return Stored(home)
