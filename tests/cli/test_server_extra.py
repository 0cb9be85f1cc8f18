"""`mltrail server` on a base install (no fastapi, no uvicorn) says which extra to install: no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mltrail.cli.server import SERVER_EXTRA_HINT


@pytest.mark.parametrize("missing", [("fastapi",), ("uvicorn",), ("fastapi_offline",)])
def test_server_without_the_server_extra_says_how_to_get_it(tmp_path: Path, missing: tuple[str, ...]) -> None:
    # None in sys.modules makes `import fastapi` raise ModuleNotFoundError, as on a base install.
    code = textwrap.dedent(
        f"""
        import sys
        for name in {missing!r}:
            sys.modules[name] = None
        sys.argv = ["mltrail", "--dir", {str(tmp_path / "mltrail")!r}, "server", "--port", "1"]
        from mltrail.cli.main import main
        main()
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == f"Error: {SERVER_EXTRA_HINT}"
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
    assert "ModuleNotFoundError" in done.stderr and SERVER_EXTRA_HINT not in done.stderr
