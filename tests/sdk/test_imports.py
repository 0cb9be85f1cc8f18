"""What a training process imports: a run against a server loads no embedded store, no Arrow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "sqlalchemy",
    "alembic",
    "pyarrow",
    "mltrail.store.sql",
    "mltrail.sdk.tracking.embedded",
    "mltrail.services.container",
)


def _loaded(code: str, tmp_path: Path, env: dict[str, str]) -> list[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={**os.environ, **env},
        timeout=120,
    )
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("capture", ["False", "None"])
def test_a_run_against_a_server_imports_no_store_and_no_arrow(tmp_path: Path, capture: str) -> None:
    # Nothing listens on port 9: init journals the run and returns (the journal sends it later), which is
    # the same code path as a reachable server as far as imports go.
    env = {
        "MLTRAIL_SERVER": "http://127.0.0.1:9",
        "MLTRAIL_JOURNAL_DIR": str(tmp_path / "journal"),
        "MLTRAIL_SYNC_TIMEOUT": "0.1",
        "MLTRAIL_DIR": str(tmp_path / "store"),
    }
    code = f"import mltrail\nrun = mltrail.init(project='p', capture={capture})\nrun.log({{'loss': 1.0}})\n"
    assert _loaded(code, tmp_path, env) == []
    assert not (tmp_path / "store").exists()


def test_an_embedded_run_imports_no_arrow(tmp_path: Path) -> None:
    env = {"MLTRAIL_DIR": str(tmp_path / "store")}
    code = "import mltrail\nrun = mltrail.init(project='p')\nrun.log({'loss': 1.0})\nrun.finish()\n"
    assert "pyarrow" not in _loaded(code, tmp_path, env)


def test_an_embedded_run_that_logs_nothing_imports_no_numpy(tmp_path: Path) -> None:
    # numpy loads with the first metric batch (store.sql.metrics), not with the store.
    env = {"MLTRAIL_DIR": str(tmp_path / "store")}
    code = "import mltrail\nmltrail.init(project='p', capture=False).finish()\n"
    probe = f"{code}import sys\nassert 'numpy' not in sys.modules, 'numpy imported'\n"
    assert "pyarrow" not in _loaded(probe, tmp_path, env)  # the probe itself asserts numpy is absent
