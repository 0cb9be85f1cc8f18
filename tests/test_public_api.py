"""The public surface is explicit and documented: a name, command or setting without docs fails here."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import mltrail
from mltrail.cli.main import iter_command_paths
from mltrail.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = "\n".join(
    p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
)


def test_all_names_exist_and_are_documented() -> None:
    for name in mltrail.__all__:
        assert hasattr(mltrail, name), name
        assert re.search(rf"\b{re.escape(name)}\b", (ROOT / "docs" / "SDK.md").read_text()), (
            f"{name} not in SDK.md"
        )


def test_no_undeclared_public_names() -> None:
    public = {n for n in vars(mltrail) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(mltrail, n)).__name__ == "module"}
    assert public - modules <= set(mltrail.__all__)


def test_every_cli_command_is_documented() -> None:
    commands = list(iter_command_paths())
    assert "mltrail runs list" in commands
    missing = [c for c in commands if c not in DOCS]
    assert not missing, f"undocumented commands: {missing}"


def test_every_setting_is_documented() -> None:
    settings_doc = (ROOT / "docs" / "SETTINGS.md").read_text()
    for field in dataclasses.fields(Settings):
        if "env" in field.metadata and field.metadata["env"] is None:
            continue  # not read from the environment
        env = "MLTRAIL_DIR" if field.name == "home" else f"MLTRAIL_{field.name.upper()}"
        env = {"MLTRAIL_DB_URL": "MLTRAIL_DB"}.get(env, env)
        assert f"`{env}`" in settings_doc, env


def test_import_mltrail_is_light_and_drift_report_needs_no_store() -> None:
    # ``import mltrail`` loads the exceptions only (PEP 562 names); ``mltrail.drift_report`` the
    # statistics and report code, not the tracking client, SQLAlchemy or the store.
    import subprocess
    import sys

    code = (
        "import sys, mltrail\n"
        "first = {m for m in ('sqlalchemy', 'mltrail.sdk.tracking.run', 'pyarrow') if m in sys.modules}\n"
        "mltrail.drift_report\n"
        "heavy = ('sqlalchemy', 'mltrail.sdk.tracking.run', 'mltrail.store.sql')\n"
        "then = {m for m in heavy if m in sys.modules}\n"
        "print(sorted(first), sorted(then))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] []", out.stdout + out.stderr
