"""The root command imports its sub-commands lazily; help, typos and every command still work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from mltrail.cli.main import COMMANDS, app, load_command

SUBCOMMAND_MODULES = sorted({entry.module for entry in COMMANDS.values()})


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").split("\n\n")[0].split())


def test_each_short_help_is_the_loaded_commands_own() -> None:
    for name, entry in COMMANDS.items():
        command = load_command(name)
        assert command.name == name
        assert entry.help == _first_paragraph(command.short_help or command.help), name


def test_root_help_lists_every_command_with_its_help() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for name, entry in COMMANDS.items():
        line = next((ln for ln in result.output.splitlines() if ln.lstrip("│ ").startswith(f"{name} ")), "")
        assert entry.help in line, (name, result.output)


def test_a_typo_still_suggests_the_command() -> None:
    result = CliRunner().invoke(app, ["rns"])
    assert result.exit_code == 2
    assert "runs" in result.output


def _loaded_after(args: list[str], tmp_path: Path) -> set[str]:
    watched = [*SUBCOMMAND_MODULES, "sqlalchemy", "alembic", "pyarrow", "numpy", "httpx"]
    code = (
        "import sys\n"
        f"sys.argv = ['mltrail', *{args!r}]\n"
        "from mltrail.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {watched!r} if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    return set(eval(out.stderr.strip().splitlines()[-1]))  # our own printed list


def test_root_help_imports_no_subcommand(tmp_path: Path) -> None:
    assert _loaded_after(["--help"], tmp_path) == set()


def test_a_groups_help_imports_that_group_only(tmp_path: Path) -> None:
    assert _loaded_after(["runs", "--help"], tmp_path) == {"mltrail.cli.tracking.runs"}


def test_the_collector_pauses_for_start_up_and_comes_back() -> None:
    """The console script starts with the garbage collector off (start-up makes many objects and almost no
    cycles); a command still running after the pause, such as a server, collects again."""
    import gc

    from mltrail.cli.main import pause_gc

    assert gc.isenabled()
    timer = pause_gc(0.2)
    try:
        assert not gc.isenabled()
        timer.join(10)
        assert gc.isenabled()
    finally:
        gc.enable()
