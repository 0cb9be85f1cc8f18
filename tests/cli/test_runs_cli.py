"""``mltrail runs`` and ``mltrail projects`` against a real embedded store filled through the SDK."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

MakeRun = Callable[..., str]
Invoke = Callable[..., Result]


@pytest.fixture
def three_runs(make_run: MakeRun) -> dict[str, str]:
    return {
        "slow": make_run(
            name="slow", config={"lr": 0.01, "opt": "sgd", "seed": 1}, metrics={"acc": [0.5, 0.7]}
        ),
        "fast": make_run(
            name="fast", config={"lr": 0.1, "opt": "adam", "seed": 1}, metrics={"acc": [0.6, 0.9]}
        ),
        "nan": make_run(
            name="nan", config={"lr": 0.5, "opt": "adam", "seed": 1}, metrics={"acc": [math.nan]}
        ),
    }


def test_list_shows_runs_with_the_columns_that_vary(three_runs: dict[str, str], invoke: Invoke) -> None:
    result = invoke("runs", "list", "demo")
    assert result.exit_code == 0, result.output
    for name, run_id in three_runs.items():
        assert name in result.stdout
        assert run_id[:8] in result.stdout
    header = result.stdout.splitlines()[0].split()
    # Namespaces are shown by colour, so headers carry the bare key.
    assert {"lr", "opt", "acc"} <= set(header)
    assert "seed" not in header  # the same in every run
    assert "finished" in result.stdout
    assert "1-3 of 3 runs" in result.stdout


def test_list_columns_choose_explicitly(three_runs: dict[str, str], invoke: Invoke) -> None:
    result = invoke("runs", "list", "demo", "--columns", "params.seed,max(metrics.acc)")
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split()
    assert "seed" in header and "max(acc)" in header
    assert "lr" not in header
    bad = invoke("runs", "list", "demo", "--columns", "lr")
    assert bad.exit_code == 2
    assert "Error:" in bad.stderr and "params.KEY" in bad.stderr


def test_list_filter_sort_json(three_runs: dict[str, str], invoke: Invoke) -> None:
    result = invoke(
        "runs", "list", "demo", "--filter", 'params.opt = "adam"', "--sort", "-params.lr", "--json"
    )
    assert result.exit_code == 0, result.stderr
    page = json.loads(result.stdout)  # stdout holds the JSON document and nothing else
    assert page["total"] == 2
    assert [r["name"] for r in page["runs"]] == ["nan", "fast"]
    by_name = {r["name"]: r for r in page["runs"]}
    assert by_name["nan"]["metrics"]["acc"]["last"] == "NaN"
    assert by_name["fast"]["params"]["lr"] == 0.1
    assert by_name["fast"]["status"] == "finished"
    assert "context" not in by_name["fast"]

    ascending = json.loads(invoke("runs", "list", "demo", "--sort=params.lr", "--json").stdout)
    assert [r["name"] for r in ascending["runs"]] == ["slow", "fast", "nan"]
    paged = json.loads(
        invoke("runs", "list", "demo", "--sort=params.lr", "--limit", "1", "--offset", "1", "--json").stdout
    )
    assert [r["name"] for r in paged["runs"]] == ["fast"] and paged["total"] == 3


def test_bad_filter_exits_2_with_a_caret(three_runs: dict[str, str], invoke: Invoke) -> None:
    result = invoke("runs", "list", "demo", "--filter", "metrics.acc >> 0.5")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    lines = result.stderr.splitlines()
    caret_line = next(line for line in lines if line.strip() == "^")
    text_line = lines[lines.index(caret_line) - 1]
    assert text_line.strip() == "metrics.acc >> 0.5"
    assert "Traceback" not in result.output


def test_unknown_run_and_project_exit_1(three_runs: dict[str, str], invoke: Invoke) -> None:
    result = invoke("runs", "show", "no-such-run")
    assert result.exit_code == 1
    assert "Error: no run 'no-such-run'" in result.stderr
    assert "Traceback" not in result.output
    missing = invoke("runs", "list", "nope")
    assert missing.exit_code == 1 and "Error:" in missing.stderr


def test_show_by_name_and_prefix(three_runs: dict[str, str], invoke: Invoke) -> None:
    by_name = invoke("runs", "show", "fast")
    assert by_name.exit_code == 0, by_name.output
    assert three_runs["fast"] in by_name.stdout
    assert "Params" in by_name.stdout and "adam" in by_name.stdout
    assert "Metrics" in by_name.stdout and "0.9" in by_name.stdout
    data = json.loads(invoke("runs", "show", three_runs["slow"][:10], "--json").stdout)
    assert data["run"]["id"] == three_runs["slow"]
    assert data["run"]["metrics"]["acc"]["max"] == 0.7
    assert data["datasets"] == [] and data["artifacts"] == []


def test_show_failed_run_prints_its_traceback(make_run: MakeRun, invoke: Invoke) -> None:
    make_run(name="broken", fail=True)
    result = invoke("runs", "show", "broken")
    assert result.exit_code == 0, result.output
    assert "failed" in result.stdout
    assert "ValueError" in result.stdout and "exploded at step 3" in result.stdout


def test_delete_asks_first(three_runs: dict[str, str], invoke: Invoke) -> None:
    declined = invoke("runs", "delete", "slow", input="n\n")
    assert declined.exit_code == 1
    assert "Aborted" in declined.stderr
    assert invoke("runs", "show", "slow").exit_code == 0
    no_answer = invoke("runs", "delete", "slow")
    assert no_answer.exit_code == 1
    assert invoke("runs", "show", "slow").exit_code == 0
    confirmed = invoke("runs", "delete", "slow", input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert invoke("runs", "show", "slow").exit_code == 1
    assert invoke("runs", "delete", "fast", "--yes").exit_code == 0
    remaining = json.loads(invoke("runs", "list", "demo", "--json").stdout)
    assert [r["name"] for r in remaining["runs"]] == ["nan"]


def test_history_text_and_json(make_run: MakeRun, invoke: Invoke) -> None:
    values = [1.0, 0.5, math.inf, 0.25, 0.1]
    make_run(name="h", metrics={"loss": values})
    text = invoke("runs", "history", "h", "loss")
    assert text.exit_code == 0, text.output
    assert "5 points" in text.stdout
    assert any(ch in text.stdout for ch in "▁▂▃▄▅▆▇█")
    data = json.loads(invoke("runs", "history", "h", "loss", "--json").stdout)
    assert [p["step"] for p in data["points"]] == [0, 1, 2, 3, 4]
    assert [p["value"] for p in data["points"]] == [1.0, 0.5, "Infinity", 0.25, 0.1]
    assert data["downsampled"] is False
    make_run(name="long", metrics={"x": [float(i % 7) for i in range(500)]})
    small = json.loads(invoke("runs", "history", "long", "x", "--max-points", "20", "--json").stdout)
    assert small["downsampled"] is True and small["total_points"] == 500
    assert len(small["points"]) <= 20
    assert invoke("runs", "history", "h", "nope").exit_code == 1


def test_projects_list(three_runs: dict[str, str], make_run: MakeRun, invoke: Invoke) -> None:
    make_run(project="other")
    text = invoke("projects", "list")
    assert text.exit_code == 0, text.output
    assert "demo" in text.stdout and "other" in text.stdout
    data = json.loads(invoke("projects", "list", "--json").stdout)
    assert {p["name"]: p["run_count"] for p in data["projects"]} == {"demo": 3, "other": 1}


def test_missing_database_is_an_error_not_a_new_file(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke("--dir", str(tmp_path / "nowhere"), "projects", "list")
    assert result.exit_code == 1
    assert "no mltrail database" in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_dir_option_points_at_another_store(
    home: Path, make_run: MakeRun, invoke: Invoke, tmp_path: Path
) -> None:
    make_run(name="here")
    data = json.loads(invoke("--dir", str(home), "runs", "list", "demo", "--json").stdout)
    assert [r["name"] for r in data["runs"]] == ["here"]


def test_real_console_script(three_runs: dict[str, str], home: Path) -> None:
    """The installed ``mltrail`` script: JSON on stdout, errors on stderr with exit codes."""
    script = Path(sys.executable).parent / "mltrail"
    env = {**os.environ, "MLTRAIL_DIR": str(home)}
    ok = subprocess.run(
        [str(script), "runs", "list", "demo", "--sort", "-params.lr", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert [r["name"] for r in json.loads(ok.stdout)["runs"]] == ["nan", "fast", "slow"]
    bad = subprocess.run(
        [str(script), "runs", "list", "demo", "--filter", "params.lr <"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.startswith("Error: ") and "^" in bad.stderr and "Traceback" not in bad.stderr
    missing = subprocess.run(
        [str(script), "runs", "show", "zzzz-nothing"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1 and "Error: no run" in missing.stderr


def test_artifacts_and_download_on_the_database(
    home: Path, invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mltrail
    from mltrail.cli.tracking import runs as runs_cli

    weights = tmp_path / "weights.bin"
    weights.write_bytes(os.urandom(50_000))
    with mltrail.init(project="demo", name="art", capture=False) as run:
        run.log_artifact(weights, name="model/weights.bin")
        run.log_text("model/README.md", "hello")
    listed = invoke("runs", "artifacts", "art")
    assert listed.exit_code == 0, listed.output
    assert "model/weights.bin" in listed.stdout and "2 artifacts" in listed.stdout
    monkeypatch.setattr(runs_cli, "PROGRESS_BYTES", 1)  # a progress bar even for small files
    got = invoke("runs", "download", "art", "model", "--to", str(tmp_path / "out"))
    assert got.exit_code == 0, got.output + got.stderr
    assert (tmp_path / "out" / "model" / "weights.bin").read_bytes() == weights.read_bytes()
    assert (tmp_path / "out" / "model" / "README.md").read_text() == "hello"
    data = json.loads(
        invoke("runs", "download", "art", "model/README.md", "--to", str(tmp_path), "--json").stdout
    )
    assert data["to"] == str(tmp_path / "README.md") and data["files"] == 1
    refused = invoke("runs", "download", "art", "../x", "--to", str(tmp_path / "never"))
    assert refused.exit_code == 2 and not (tmp_path / "never").exists()
    missing = invoke("runs", "download", "art", "nothing", "--to", str(tmp_path))
    assert missing.exit_code == 1 and "no artifact" in missing.stderr


def test_tracking_and_account_commands_load_no_store_until_used() -> None:
    # A command against a server must not pay for SQLAlchemy and the store (nor need them).
    modules = [
        "mltrail.cli.tracking.runs",
        "mltrail.cli.tracking.projects",
        "mltrail.cli.tracking.sync",
        "mltrail.cli.accounts.users",
        "mltrail.cli.accounts.keys",
        "mltrail.cli.accounts.audit",
        "mltrail.cli.login",
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "heavy = ('sqlalchemy', 'alembic', 'pyarrow', 'mltrail.store', 'mltrail.services.container')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
