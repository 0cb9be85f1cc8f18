"""``diff_runs`` on plain entities, and ``mltrail runs diff`` on two SDK runs recorded in a git repo."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import mltrail
from mltrail.cli.main import app
from mltrail.entities import DatasetLink, DatasetVersion, MetricSummary, Run, RunStatus
from mltrail.services.tracking.run_diff import diff_runs


def _run(run_id: str, params: dict[str, Any], metrics: dict[str, float], context: dict[str, Any]) -> Run:
    return Run(
        id=run_id,
        project="p",
        name=run_id,
        status=RunStatus.FINISHED,
        user="u",
        start_time=1.0,
        params=params,  # type: ignore[arg-type]
        metrics={k: MetricSummary(k, v, 9, v - 1, v + 1, 10) for k, v in metrics.items()},
        context=context,
    )


def _link(run_id: str, name: str, version: int, digest: str, role: str = "train") -> DatasetLink:
    ds = DatasetVersion(1, "p", name, version, digest, None, "file", 10, 100, [], {}, 0.0)
    return DatasetLink(run_id=run_id, role=role, dataset=ds)


def _context(commit: str, packages: dict[str, str], python: str, gpus: int) -> dict[str, Any]:
    return {
        "git": {
            "commit": commit,
            "branch": "main",
            "dirty": True,
            "remote": "r",
            "patch_artifact": "code/diff.patch",
        },
        "environment": {
            "python": {"version": python},
            "packages": packages,
            "os": {"system": "Linux", "release": "6.1"},
            "hostname": "h",
            "gpus": [{"name": "g"}] * gpus,
        },
    }


def test_every_section_reports_what_differs() -> None:
    a = _run(
        "aaaa",
        {"lr": 0.1, "depth": 3, "gone": "x", "nan": math.nan},
        {"acc": 0.8, "loss": 0.5},
        _context("c1", {"numpy": "1.26.0", "torch": "2.1", "old": "1"}, "3.11.7", 0),
    )
    b = _run(
        "bbbb",
        {"lr": 0.2, "depth": 3, "new": True, "nan": math.nan},
        {"acc": 0.9, "f1": 0.7},
        _context("c2", {"numpy": "1.26.0", "torch": "2.2", "extra": "0.1"}, "3.12.1", 2),
    )
    diff = diff_runs(
        a,
        b,
        [
            _link("aaaa", "train", 1, "d1"),
            _link("aaaa", "eval", 1, "e1", role="test"),
            _link("aaaa", "old", 1, "o"),
        ],
        [
            _link("bbbb", "train", 2, "d2"),
            _link("bbbb", "eval", 1, "e1", role="test"),
            _link("bbbb", "new", 1, "n"),
        ],
        b"--- a/x\n+++ b/x\n+one\n",
        b"--- a/x\n+++ b/x\n+two\n",
    )
    assert diff.params.changed == {"lr": (0.1, 0.2)}
    assert diff.params.added == {"new": True}
    assert diff.params.removed == {"gone": "x"}
    assert diff.params.same == 2  # depth, and NaN equals NaN here

    metrics = {m.key: m for m in diff.metrics}
    assert metrics["acc"].delta == pytest.approx(0.1)
    assert metrics["acc"].a is not None and metrics["acc"].a.last == 0.8
    assert metrics["loss"].b is None and metrics["loss"].delta is None
    assert metrics["f1"].a is None

    assert (diff.code.commit_a, diff.code.commit_b) == ("c1", "c2")
    assert not diff.code.same_commit
    assert any("different commits" in n for n in diff.code.notes)
    assert diff.code.patch_diff is not None
    assert "-+one" in diff.code.patch_diff and "++two" in diff.code.patch_diff

    assert diff.packages.changed == {"torch": ("2.1", "2.2")}
    assert diff.packages.added == {"extra": "0.1"} and diff.packages.removed == {"old": "1"}
    assert diff.packages.same == 1

    status = {(d.role, d.name): d.status for d in diff.datasets}
    assert status == {
        ("train", "train"): "changed",
        ("test", "eval"): "same",
        ("train", "old"): "removed",
        ("train", "new"): "added",
    }
    env = {e.name: e for e in diff.environment}
    assert env["python"].differs and env["python"].b == "3.12.1"
    assert env["gpu_count"].differs and (env["gpu_count"].a, env["gpu_count"].b) == (0, 2)
    assert not env["os"].differs and env["os"].a == "Linux 6.1"

    data = diff.to_dict()
    assert data["params"]["changed"] == {"lr": {"a": 0.1, "b": 0.2}}
    assert data["packages"]["changed"]["torch"] == {"a": "2.1", "b": "2.2"}
    assert data["metrics"][0]["key"] == "acc"


def test_identical_runs_have_nothing_to_report() -> None:
    ctx = _context("c1", {"numpy": "1"}, "3.11", 0)
    a, b = _run("a", {"lr": 1}, {"acc": 1.0}, ctx), _run("b", {"lr": 1}, {"acc": 1.0}, ctx)
    diff = diff_runs(a, b, [], [], b"same", b"same")
    assert not diff.params.changed and not diff.params.added and not diff.params.removed
    assert diff.code.same_commit and diff.code.same_patch and diff.code.patch_diff is None
    assert not diff.code.notes
    assert not any(e.differs for e in diff.environment)
    assert diff.metrics[0].delta == 0


def test_patch_only_on_one_side_and_no_git() -> None:
    a = _run("a", {}, {}, {"git": {"skipped": "not a git repository"}})
    b = _run("b", {}, {}, _context("c", {}, "3.11", 0))
    diff = diff_runs(a, b, [], [], None, b"+x\n")
    assert "only run B has uncommitted changes" in diff.code.notes
    assert any("no git information for run A" in n for n in diff.code.notes)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_cli_diff_of_two_recorded_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs differing in a param, a metric, a dataset version and code appear in ``runs diff``."""
    monkeypatch.setenv("MLTRAIL_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("COLUMNS", "200")
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "T")
    (repo / "model.py").write_text("depth = 1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    monkeypatch.chdir(repo)
    capture = {"git": True, "code": False, "environment": True, "system_metrics": False, "console": False}
    data = tmp_path / "data.csv"

    data.write_text("x\n1\n")
    (repo / "model.py").write_text("depth = 2\n")  # uncommitted change in run A
    with mltrail.init(project="d", name="run-a", config={"lr": 0.1, "bs": 32}, capture=capture) as run_a:
        run_a.log({"acc": 0.5})
        run_a.log_dataset(data, name="table", role="train")

    _git(repo, "commit", "-q", "-am", "second")
    data.write_text("x\n1\n2\n")
    (repo / "model.py").write_text("depth = 3\n")
    with mltrail.init(project="d", name="run-b", config={"lr": 0.2, "bs": 32}, capture=capture) as run_b:
        run_b.log({"acc": 0.75})
        run_b.log_dataset(data, name="table", role="train")

    runner = CliRunner()
    result = runner.invoke(app, ["runs", "diff", "run-a", "run-b", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    diff = json.loads(result.stdout)
    assert diff["params"]["changed"] == {"lr": {"a": 0.1, "b": 0.2}}
    assert diff["params"]["same"] == 1
    acc = next(m for m in diff["metrics"] if m["key"] == "acc")
    assert acc["delta"] == pytest.approx(0.25)
    [table] = diff["datasets"]
    assert table["status"] == "changed"
    assert [v["version"] for v in table["versions_a"]] == [1] and [
        v["version"] for v in table["versions_b"]
    ] == [2]
    assert diff["code"]["commit_a"] != diff["code"]["commit_b"]
    assert any("different commits" in n for n in diff["code"]["notes"])
    assert "-+depth = 2" in diff["code"]["patch_diff"] and "++depth = 3" in diff["code"]["patch_diff"]

    text = runner.invoke(app, ["runs", "diff", run_a.id, run_b.id], catch_exceptions=False)
    assert text.exit_code == 0, text.output
    for expected in (
        "lr",
        "0.1",
        "0.2",
        "acc",
        "+0.25",
        "table",
        "changed",
        "different commits",
        "depth = 3",
    ):
        assert expected in text.stdout, expected
