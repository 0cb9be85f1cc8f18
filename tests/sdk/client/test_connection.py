"""The one client seam: ``mltrail.connect()`` decides embedded store or team server once, from Settings."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mltrail
from mltrail.entities import RunStatus
from mltrail.sdk.client.connection import close_connections, connect
from mltrail.sdk.client.embedded import EmbeddedConnection
from mltrail.sdk.client.http import HttpConnection
from mltrail.settings import Credentials, Settings

OFF = False


def test_embedded_by_default_and_one_connection_per_store(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "a")
    first = connect(settings=settings)
    assert isinstance(first, EmbeddedConnection) and first.embedded
    assert connect(settings=settings) is first
    other = connect(settings=Settings(home=tmp_path / "b"))
    assert other is not first
    assert "embedded store" in first.where and str(tmp_path / "a") in first.where


def test_a_server_setting_gives_an_http_connection_and_empty_server_forces_embedded(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, server="ml-box:5500", api_key="k")
    remote = connect(settings=settings)
    assert isinstance(remote, HttpConnection)
    assert remote.settings.server == "http://ml-box:5500"
    assert remote.where == "the mltrail server at http://ml-box:5500"
    assert isinstance(connect("", settings=settings), EmbeddedConnection)


def test_an_http_only_process_never_imports_the_store(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys, mltrail
        conn = mltrail.connect()
        conn.run_transport()
        conn.registry()
        conn.reports()
        import mltrail.sdk.reports.export
        import mltrail.render.report_document
        import mltrail.sdk.tracking.start
        heavy = ("sqlalchemy", "alembic", "pyarrow", "mltrail.store", "mltrail.services.container")
        print(sorted(m for m in heavy if m in sys.modules))
        """
    )
    env = {
        **os.environ,
        "MLTRAIL_SERVER": "http://127.0.0.1:9",
        "MLTRAIL_JOURNAL_DIR": str(tmp_path / "journal"),
        "MLTRAIL_CONFIG_DIR": str(tmp_path / "config"),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_mltrail_user_is_the_runs_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_DIR", str(tmp_path))
    monkeypatch.setenv("MLTRAIL_USER", "ana")
    with mltrail.init(project="p", capture=OFF) as run:
        run.log({"x": 1.0}, step=0)
    from mltrail.sdk.client.connection import embedded_transport

    assert embedded_transport(Settings.from_env()).tracking.get_run(run.id).user == "ana"


def test_disabled_mode_accepts_every_call_and_keeps_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLTRAIL_MODE", "disabled")
    with mltrail.init(project="p", config={"lr": 0.1}) as run:
        for step in range(10):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
        run.summary["best"] = 0.5
        run.set_tags({"a": "b"})
        (tmp_path / "f.txt").write_text("x")
        run.log_artifact(tmp_path / "f.txt")
    assert run.status == RunStatus.FINISHED
    assert not (tmp_path / "mltrail").exists()


def test_login_credentials_give_the_default_server_and_its_key(tmp_path: Path) -> None:
    config = tmp_path / "config"
    Credentials.load(config).with_key("ml-box:5500", "secret-key").save()
    path = config / "credentials.json"
    assert path.stat().st_mode & 0o777 == 0o600
    settings = Settings.from_env({"MLTRAIL_CONFIG_DIR": str(config)})
    assert settings.server == "http://ml-box:5500" and settings.api_key == "secret-key"
    assert settings.server_source == "mltrail login"
    assert "secret-key" not in repr(settings)
    # The environment wins; a database named explicitly means the database, not the login's server.
    env = Settings.from_env({"MLTRAIL_CONFIG_DIR": str(config), "MLTRAIL_SERVER": "http://other:1"})
    assert env.server == "http://other:1" and env.api_key is None
    local = Settings.from_env({"MLTRAIL_CONFIG_DIR": str(config), "MLTRAIL_DIR": str(tmp_path)})
    assert local.embedded
    Credentials.load(config).without("http://ml-box:5500").save()
    assert Settings.from_env({"MLTRAIL_CONFIG_DIR": str(config)}).embedded


@pytest.fixture(autouse=True)
def _fresh_connections() -> None:
    close_connections()
