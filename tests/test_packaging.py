"""What the wheel holds: the package with py.typed and the Alembic migrations, the web UI's built files when
they are there (gitignored, taken as an artifact), and no tests, caches or other gitignored files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UI = Path("src/mltrail/api/ui_assets")


def _project_copy(dest: Path) -> Path:
    """The files hatch reads, copied (with a stale cache file and the web UI's build output added)."""
    for name in ("pyproject.toml", "README.md", "LICENSE", ".gitignore"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "ui_assets"))
    (dest / "src/mltrail/__pycache__").mkdir()
    (dest / "src/mltrail/__pycache__/stale.cpython-311.pyc").write_bytes(b"\0")
    (dest / UI / "assets").mkdir(parents=True)
    (dest / UI / "index.html").write_text("<!doctype html>")
    (dest / UI / "assets/app.js").write_text("0")
    return dest


def _wheel_names(project: Path) -> set[str]:
    out = project / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(project)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    (wheel,) = out.glob("mltrail-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


@pytest.mark.slow
def test_the_wheel_holds_the_package_its_migrations_and_the_ui_but_no_tests(tmp_path: Path) -> None:
    names = _wheel_names(_project_copy(tmp_path))
    assert "mltrail/py.typed" in names
    assert "mltrail/store/migrations/script.py.mako" in names
    assert "mltrail/store/migrations/env.py" in names
    source = ROOT / "src/mltrail/store/migrations/versions"
    versions = {n.rsplit("/", 1)[1] for n in names if n.startswith("mltrail/store/migrations/versions/")}
    assert versions == {p.name for p in source.glob("*.py")}, versions
    assert {"mltrail/api/ui_assets/index.html", "mltrail/api/ui_assets/assets/app.js"} <= names
    assert "mltrail-0.1.0.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith("tests/") or "/tests/" in n]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert {n.split("/")[0] for n in names} == {"mltrail", "mltrail-0.1.0.dist-info"}


@pytest.mark.slow
def test_without_the_artifact_rule_a_gitignored_folder_stays_out(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    assert 'artifacts = ["src/mltrail/api/ui_assets/**"]' in text
    pyproject.write_text(text.replace('artifacts = ["src/mltrail/api/ui_assets/**"]', "artifacts = []"))
    names = _wheel_names(project)
    assert not [n for n in names if "ui_assets" in n]
    assert "mltrail/py.typed" in names


def test_no_module_needs_fcntl_at_import() -> None:
    """Windows has no fcntl: the SDK, the store and the CLI must import without it (locks go through
    filelock, which picks the platform's own)."""
    code = (
        "import sys\n"
        "sys.modules['fcntl'] = None\n"
        "import mltrail\n"
        "mltrail.init, mltrail.models, mltrail.monitor, mltrail.drift_report\n"
        "import mltrail.sdk.tracking.journal, mltrail.sdk.tracking.journal_transport\n"
        "import mltrail.store.factory, mltrail.cli.main\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert not [p for p in (ROOT / "src").rglob("*.py") if "fcntl" in p.read_text(encoding="utf-8")]
