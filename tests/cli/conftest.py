"""Fixtures for CLI tests: a temp MLTRAIL_DIR, runs made through the real SDK, the CLI through CliRunner."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import mltrail
from mltrail.cli.main import app

OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}

MakeRun = Callable[..., str]
Invoke = Callable[..., Result]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "store"
    monkeypatch.setenv("MLTRAIL_DIR", str(folder))
    monkeypatch.setenv("MLTRAIL_FLUSH_INTERVAL", "0.05")
    monkeypatch.setenv("COLUMNS", "200")  # wide tables, so cells are not cut
    for name in ("MLTRAIL_DB", "MLTRAIL_BLOBS", "MLTRAIL_PROJECT", "MLTRAIL_CAPTURE"):
        monkeypatch.delenv(name, raising=False)
    return folder


@pytest.fixture
def make_run(home: Path) -> MakeRun:
    """Create a finished run through ``mltrail.init``; ``metrics`` maps a key to its values at steps 0…n."""

    def make(
        project: str = "demo",
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Sequence[float]] | None = None,
        fail: bool = False,
    ) -> str:
        run = mltrail.init(project=project, name=name, config=config, capture=OFF)
        for key, values in (metrics or {}).items():
            for step, value in enumerate(values):
                run.log({key: value}, step=step)
        if fail:
            try:
                raise ValueError("exploded at step 3")
            except ValueError as exc:
                run.finish("failed", error=exc)
        else:
            run.finish()
        return run.id

    return make


@pytest.fixture
def invoke(home: Path) -> Invoke:
    """Run ``mltrail ARGS…`` in-process; stdout and stderr are kept apart."""

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)

    return run
