"""Fixtures for CLI tests: a temp MLTRAIL_DIR, runs made through the real SDK, the CLI through CliRunner, and
a real ``mltrail server --auth`` with one user per role for the commands that also work against a server."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import mltrail
from mltrail.cli.main import app
from mltrail.sdk.tracking.journal_transport import close_journaling_transports
from mltrail.services.accounts.service import AccountService
from mltrail.store.factory import open_store

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


@dataclass
class TeamServer:
    """A real ``mltrail server --auth`` on 127.0.0.1: ``keys`` by user (ana member, bob maintainer, vic
    viewer, root admin, all as server roles); ``home`` holds its database and blobs."""

    url: str
    home: Path
    keys: dict[str, str]
    free_port: Callable[[], int]


@pytest.fixture(scope="module")
def team_server(tmp_path_factory: pytest.TempPathFactory, live_server: Any) -> Iterator[TeamServer]:
    live = live_server
    home = tmp_path_factory.mktemp("cli-team-server") / "mltrail"
    store = open_store(f"sqlite:///{home / 'mltrail.db'}")
    accounts = AccountService(store)
    roles = [("ana", "member"), ("bob", "maintainer"), ("vic", "viewer"), ("root", "admin")]
    keys = {name: accounts.create_user(name, role)[1].secret for name, role in roles}
    store.close()
    server = live.start_server(home, "--auth")
    yield TeamServer(server.url, home, keys, live.free_port)
    server.stop()


ActAs = Callable[[str], None]


@pytest.fixture
def act_as(
    team_server: TeamServer, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ActAs]:
    """``act_as("bob")``: the SDK and the CLI use the team server with bob's key from then on."""
    monkeypatch.setenv("MLTRAIL_SERVER", team_server.url)
    monkeypatch.setenv("MLTRAIL_JOURNAL_DIR", str(tmp_path / "journal"))
    for name in ("MLTRAIL_MODE", "MLTRAIL_USER"):
        monkeypatch.delenv(name, raising=False)

    def act(user: str) -> None:
        monkeypatch.setenv("MLTRAIL_API_KEY", team_server.keys[user])

    yield act
    close_journaling_transports()
