"""``mltrail runs reproduce``: a run recorded from a dirty git checkout is rebuilt file for file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mltrail.cli.main import app
from mltrail.services.tracking.reproduce_files import requirements_lines, unflatten_params

GENERATED = {"requirements.txt", "config.json", "params.json", "run.sh", "REPRODUCE.md"}

TRAIN = """\
import argparse
import os
from pathlib import Path

import mltrail
from helper import scale

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float)
args = parser.parse_args()
config = {"lr": args.lr, "model": {"depth": 4, "act": "relu"}, "seed": 7}
with mltrail.init(project="repro", name="orig", config=config) as run:
    run.log({"loss": scale(args.lr)})
Path(os.environ["RUN_ID_FILE"]).write_text(run.id)
"""


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _tree(root: Path, skip: frozenset[str] | set[str] = frozenset()) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git" or rel.as_posix() in skip or not path.is_file():
            continue
        files[rel.as_posix()] = path.read_bytes()
    return files


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("MLTRAIL_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("MLTRAIL_DB", raising=False)
    monkeypatch.delenv("MLTRAIL_BLOBS", raising=False)
    monkeypatch.delenv("MLTRAIL_CAPTURE", raising=False)
    return {
        **os.environ,
        "MLTRAIL_DIR": str(tmp_path / "store"),
        "RUN_ID_FILE": str(tmp_path / "run_id"),
        "PYTHONDONTWRITEBYTECODE": "1",  # keep __pycache__ out of the original tree
        "MLTRAIL_CAPTURE_SYSTEM_METRICS": "0",
    }


def _make_repo(repo: Path) -> None:
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "T")
    (repo / "train.py").write_text(TRAIN.replace("from helper import scale", "def scale(x):\n    return x"))
    (repo / "lib").mkdir()
    (repo / "lib" / "util.py").write_text("VALUE = 1\n")
    (repo / "README.md").write_text("# demo\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "initial")


def _dirty_and_run(repo: Path, env: dict[str, str], tmp_path: Path, cwd: Path | None = None) -> str:
    (repo / "train.py").write_text(TRAIN)  # uncommitted edit
    (repo / "lib" / "util.py").write_text("VALUE = 2  # tuned\n")  # uncommitted edit
    (repo / "helper.py").write_text("def scale(x):\n    return x * 10\n")  # untracked new file
    script = "train.py" if cwd is None else os.path.relpath(repo / "train.py", cwd)
    subprocess.run(
        [sys.executable, script, "--lr", "0.1"],
        cwd=cwd or repo,
        env={**env, "PYTHONPATH": str(repo)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    return (tmp_path / "run_id").read_text()


def _reproduce(*args: str) -> Result:
    return CliRunner().invoke(app, ["runs", "reproduce", *args], catch_exceptions=False)


def test_reproduce_rebuilds_the_dirty_working_tree(tmp_path: Path, env: dict[str, str]) -> None:
    repo = tmp_path / "repo"
    _make_repo(repo)
    commit = _git(repo, "rev-parse", "HEAD")
    run_id = _dirty_and_run(repo, env, tmp_path)
    out = tmp_path / "out"

    result = _reproduce(run_id[:10], "--into", str(out))
    assert result.exit_code == 0, result.output
    assert "applied" in result.stdout

    assert _tree(out, GENERATED) == _tree(repo)
    assert _git(out, "rev-parse", "HEAD") == commit
    assert set(GENERATED) <= set(os.listdir(out))
    # mltrail's own files are kept out of `git status`, which shows only the run's changes.
    status = _git(out, "status", "--porcelain")
    assert "run.sh" not in status and "helper.py" in status and "train.py" in status

    run_sh = (out / "run.sh").read_text()
    assert run_sh.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in run_sh
    assert "exec python train.py --lr 0.1" in run_sh
    assert run_id in run_sh and commit in run_sh and "repro" in run_sh
    assert os.access(out / "run.sh", os.X_OK)

    requirements = (out / "requirements.txt").read_text().splitlines()
    pins = [line for line in requirements if not line.startswith("#")]
    assert pins and all("==" in line for line in pins)
    names = [line.split("==")[0] for line in pins]
    assert names == sorted(names, key=str.lower)
    assert any(line.startswith("numpy==") for line in pins)
    assert not any(line.lower().startswith("mltrail==") for line in pins)

    assert json.loads((out / "config.json").read_text()) == {
        "lr": 0.1,
        "model": {"depth": 4, "act": "relu"},
        "seed": 7,
    }
    assert json.loads((out / "params.json").read_text())["model.depth"] == 4
    readme = (out / "REPRODUCE.md").read_text()
    assert run_id in readme and "Not restored" in readme

    # Running the reproduction logs a new run with the same params (mltrail is installed in this venv).
    rerun = subprocess.run(
        ["bash", str(out / "run.sh")],
        env={**env, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PYTHONPATH": str(out)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert (tmp_path / "run_id").read_text() != run_id


def test_reproduce_from_a_subfolder_and_json(tmp_path: Path, env: dict[str, str]) -> None:
    """Started from repo/lib as ``python ../train.py``: run.sh cds to lib and the script path follows."""
    repo = tmp_path / "repo"
    _make_repo(repo)
    run_id = _dirty_and_run(repo, env, tmp_path, cwd=repo / "lib")
    out = tmp_path / "out"
    result = _reproduce(run_id, "--into", str(out), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["git"] == "cloned" and data["patch"] == "applied"
    assert data["entry_script"] == "train.py" and data["entry_script_action"] == "matched"
    assert data["code_source"] == str(repo)
    run_sh = (out / "run.sh").read_text()
    assert "cd lib\n" in run_sh and "exec python ../train.py --lr 0.1" in run_sh


def test_reproduce_clones_from_the_remote_when_the_local_repo_is_gone(
    tmp_path: Path, env: dict[str, str]
) -> None:
    repo = tmp_path / "repo"
    _make_repo(repo)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    _git(repo, "remote", "add", "origin", str(origin))
    _git(repo, "push", "-q", "origin", "main")
    run_id = _dirty_and_run(repo, env, tmp_path)
    expected = _tree(repo)
    shutil.rmtree(repo)

    result = _reproduce(run_id, "--into", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["code_source"] == str(origin) and data["patch"] == "applied"
    assert _tree(tmp_path / "out", GENERATED) == expected


def test_unreachable_remote_is_a_warning_when_the_local_repo_works(
    tmp_path: Path, env: dict[str, str]
) -> None:
    repo = tmp_path / "repo"
    _make_repo(repo)
    _git(repo, "remote", "add", "origin", str(tmp_path / "gone.git"))
    run_id = _dirty_and_run(repo, env, tmp_path)
    result = _reproduce(run_id, "--into", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert (
        "Warning:" in result.stderr
        and "gone.git" in result.stderr
        and "could not be reached" in result.stderr
    )
    assert _tree(tmp_path / "out", GENERATED) == _tree(repo)
    assert _git(tmp_path / "out", "remote", "get-url", "origin") == str(tmp_path / "gone.git")


def test_without_git_only_the_entry_script_is_restored(tmp_path: Path, env: dict[str, str]) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "train.py").write_text(TRAIN)
    (work / "helper.py").write_text("def scale(x):\n    return x\n")
    subprocess.run(
        [sys.executable, "train.py", "--lr", "0.3"],
        cwd=work,
        env={**env, "PYTHONPATH": str(work)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    run_id = (tmp_path / "run_id").read_text()
    out = tmp_path / "out"
    data = json.loads(_reproduce(run_id, "--into", str(out), "--json").stdout)
    assert data["git"] == "none" and data["entry_script_action"] == "written"
    assert (out / "train.py").read_text() == TRAIN
    assert not (out / "helper.py").exists()
    assert "exec python train.py --lr 0.3" in (out / "run.sh").read_text()
    assert "git" in (out / "REPRODUCE.md").read_text()


def test_into_must_be_new_or_empty(tmp_path: Path, env: dict[str, str]) -> None:
    repo = tmp_path / "repo"
    _make_repo(repo)
    run_id = _dirty_and_run(repo, env, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = _reproduce(run_id, "--into", str(out))
    assert result.exit_code == 2
    assert "Error:" in result.stderr and "empty" in result.stderr
    assert os.listdir(out) == ["keep.txt"]
    (out / "keep.txt").unlink()
    assert _reproduce(run_id, "--into", str(out)).exit_code == 0


def test_unflatten_params() -> None:
    flat = {"lr": 0.1, "model.depth": 4, "model.act.name": "relu", "a": 1, "a.b": 2, "opt.betas": [0.9, 0.99]}
    assert unflatten_params(flat) == {
        "lr": 0.1,
        "model": {"depth": 4, "act": {"name": "relu"}},
        "a": 1,
        "a.b": 2,
        "opt": {"betas": [0.9, 0.99]},
    }


def test_requirements_lines_skip_mltrail_and_private() -> None:
    packages = {"Torch": "2.1", "numpy": "1.26", "mltrail": "0.1", "_distutils_hack": "0", "zeta": ""}
    assert requirements_lines(packages) == ["numpy==1.26", "Torch==2.1", "zeta"]


def test_repository_without_commits_is_rebuilt_from_the_patch(tmp_path: Path, env: dict[str, str]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "train.py").write_text(TRAIN)
    (repo / "helper.py").write_text("def scale(x):\n    return x * 3\n")
    subprocess.run(
        [sys.executable, "train.py", "--lr", "0.2"],
        cwd=repo,
        env={**env, "PYTHONPATH": str(repo)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    run_id = (tmp_path / "run_id").read_text()
    out = tmp_path / "out"
    data = json.loads(_reproduce(run_id, "--into", str(out), "--json").stdout)
    assert data["git"] == "init" and data["patch"] == "applied" and data["commit"] is None
    assert _tree(out, GENERATED) == _tree(repo)


def test_module_run_gives_python_dash_m(tmp_path: Path, env: dict[str, str]) -> None:
    repo = tmp_path / "repo"
    _make_repo(repo)
    (repo / "pkg").mkdir()
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "train.py").write_text(TRAIN.replace("from helper import scale", "scale = abs"))
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "package")
    subprocess.run(
        [sys.executable, "-m", "pkg.train", "--lr", "0.2"],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    run_id = (tmp_path / "run_id").read_text()
    out = tmp_path / "out"
    data = json.loads(_reproduce(run_id, "--into", str(out), "--json").stdout)
    assert data["patch"] == "none"
    assert data["entry_script"] == "pkg/train.py" and data["entry_script_action"] == "matched"
    assert "exec python -m pkg.train --lr 0.2\n" in (out / "run.sh").read_text()
    assert _tree(out, GENERATED) == _tree(repo)


def test_a_corrupted_patch_blob_fails_and_leaves_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    repo = tmp_path / "repo"
    _make_repo(repo)
    run_id = _dirty_and_run(repo, env, tmp_path)
    shown = CliRunner().invoke(app, ["runs", "show", run_id, "--json"], catch_exceptions=False)
    [patch] = [a for a in json.loads(shown.stdout)["artifacts"] if a["path"] == "code/diff.patch"]
    [blob] = [p for p in (tmp_path / "store").rglob("*") if p.is_file() and patch["digest"] in p.name]
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes().replace(b"VALUE = 2", b"VALUE = 3"))
    out = tmp_path / "out"
    result = _reproduce(run_id, "--into", str(out))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.output
    assert "code/diff.patch" in result.stderr and "corrupt" in result.stderr
    assert not out.exists()


def test_hostile_git_context_is_not_executed(tmp_path: Path, env: dict[str, str]) -> None:
    """A recorded remote or commit is data from the store: never read as a git option."""
    from mltrail.sdk.client.connection import embedded_transport
    from mltrail.settings import Settings

    tracking = embedded_transport(Settings.from_env()).tracking
    marker = tmp_path / "pwned"
    evil = {"root": str(tmp_path / "gone"), "commit": "a" * 40, "remote": f"--upload-pack=touch {marker}"}
    tracking.start_run(run_id="e" * 32, project="p", name="evil", user=None, context={"git": evil})
    result = _reproduce("evil", "--into", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["git"] == "failed"
    assert not marker.exists()

    bad_commit = {"root": str(tmp_path), "commit": "--orphan=x"}
    tracking.start_run(run_id="f" * 32, project="p", name="bad", user=None, context={"git": bad_commit})
    result = _reproduce("bad", "--into", str(tmp_path / "out2"))
    assert result.exit_code == 2 and "invalid git commit" in result.stderr
    assert not (tmp_path / "out2").exists()
