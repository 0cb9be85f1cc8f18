"""`mltrail server`, `ui` and `serve` on a base install (no fastapi, no uvicorn) say which extra to install:
no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mltrail.cli.server import server_extra_hint


@pytest.mark.parametrize(
    ("missing", "command"),
    [
        (("fastapi",), ["server", "--port", "1"]),
        (("uvicorn",), ["server", "--port", "1"]),
        (("fastapi_offline",), ["server", "--port", "1"]),
        (("uvicorn",), ["ui", "--port", "1", "--no-browser"]),
        (("uvicorn",), ["serve", "churn", "--port", "1"]),
    ],
)
def test_server_without_the_server_extra_says_how_to_get_it(
    tmp_path: Path, missing: tuple[str, ...], command: list[str]
) -> None:
    # None in sys.modules makes `import fastapi` raise ModuleNotFoundError, as on a base install.
    code = textwrap.dedent(
        f"""
        import sys
        for name in {missing!r}:
            sys.modules[name] = None
        sys.argv = ["mltrail", "--dir", {str(tmp_path / "mltrail")!r}, *{command!r}]
        from mltrail.cli.main import main
        main()
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 1, done.stderr
    # The hint names the command that was run (`mltrail serve` used to be told about `mltrail server`).
    assert done.stderr.strip() == f"Error: {server_extra_hint(command[0])}"
    assert "pip install 'mltrail[server]'" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_another_missing_module_is_not_blamed_on_the_extra(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["mltrail.api.app"] = None
        sys.argv = ["mltrail", "--dir", {str(tmp_path / "mltrail")!r}, "server", "--port", "1"]
        from mltrail.cli.main import main
        main()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode != 0
    assert "ModuleNotFoundError" in done.stderr and "server extra" not in done.stderr
