"""``mltrail db upgrade`` and ``mltrail db current`` on a SQLite file named by ``--db``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mltrail.cli.main import app
from mltrail.store.factory import head_revision


def test_upgrade_then_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'team.db'}"
    runner = CliRunner()
    before = runner.invoke(app, ["db", "current", "--db", url], catch_exceptions=False)
    assert before.exit_code == 0, before.output
    assert "empty" in before.stdout
    assert not (tmp_path / "team.db").exists()

    upgraded = runner.invoke(app, ["--db", url, "db", "upgrade"], catch_exceptions=False)
    assert upgraded.exit_code == 0, upgraded.output
    assert head_revision() in upgraded.stdout
    assert (tmp_path / "team.db").exists()

    current = runner.invoke(app, ["--db", url, "db", "current"], catch_exceptions=False)
    assert current.stdout.strip() == head_revision()


def test_upgrade_of_an_unreachable_database_is_an_error(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    result = CliRunner().invoke(app, ["db", "upgrade", "--db", url], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.output
