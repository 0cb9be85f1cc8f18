"""A script run with every capture on, in a real git repository with uncommitted work."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from mltrail.entities import RunStatus
from mltrail.sdk.client.connection import embedded_transport
from mltrail.settings import Settings


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_script_records_code_environment_console_and_system_metrics(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "ana@example.com")
    _git(repo, "config", "user.name", "Ana")
    script = repo / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, mltrail
            with mltrail.init(project="capture", config={"lr": 0.1}) as run:
                print("epoch 1 done", flush=True)
                print("warning: lr is high", file=sys.stderr, flush=True)
                run.log({"loss": 0.5})
                print(run.id, file=sys.__stdout__, flush=True)
            """
        )
    )
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-q", "-m", "first")
    script.write_text(script.read_text() + "# tuned by hand\n")
    (repo / "notes.txt").write_text("untracked idea\n")
    home = tmp_path / "store"
    env = {**os.environ, "MLTRAIL_DIR": str(home), "MLTRAIL_SYSTEM_METRICS_INTERVAL": "0.1"}
    env.pop("MLTRAIL_CAPTURE", None)
    done = subprocess.run(
        [sys.executable, "train.py", "--epochs", "1"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    run_id = done.stdout.strip().splitlines()[-1]
    assert (
        "epoch 1 done" in done.stdout and "warning: lr is high" in done.stderr
    )  # the terminal still sees it

    transport = embedded_transport(Settings(home=home))
    run = transport.tracking.get_run(run_id)
    assert run.status == RunStatus.FINISHED
    git = run.context["git"]
    assert git["branch"] == "main" and git["dirty"] is True and len(git["commit"]) == 40
    assert run.context["command"]["argv"][1:] == ["--epochs", "1"]
    assert run.context["command"]["cwd"] == str(repo)
    assert run.context["environment"]["python"]["version"].startswith(f"{sys.version_info[0]}.")
    assert "numpy" in run.context["environment"]["packages"]
    assert any(key.startswith("sys/") for key in run.metrics)

    artifacts = {a.path for a in transport.artifacts.list(run_id)}
    assert {"code/diff.patch", "code/train.py", "logs/output.log"} <= artifacts
    _, patch = transport.artifacts.open(run_id, "code/diff.patch")
    with patch:
        text = patch.read().decode()
    assert "+# tuned by hand" in text and "untracked idea" in text
    _, log = transport.artifacts.open(run_id, "logs/output.log")
    with log:
        output = log.read().decode()
    assert "epoch 1 done" in output and "warning: lr is high" in output
