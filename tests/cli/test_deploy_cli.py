"""``mltrail deploy`` on the embedded store: create, show, update, history, rollback, promote, at 80
columns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import mltrail
from mltrail.cli.main import app
from mltrail.settings import Settings

linear = pytest.importorskip("sklearn.linear_model")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    settings = Settings(home=tmp_path / "mltrail")
    x = np.arange(40, dtype=float).reshape(20, 2)
    with mltrail.init(project="shop", capture=False, settings=settings) as run:
        for _ in range(2):
            model = linear.LogisticRegression().fit(x, (x[:, 0] > 19).astype(int))
            mltrail.models.register("churn", run=run, model=model, input_example=x[:3], settings=settings)
    return tmp_path / "mltrail"


def _run(home: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--dir", str(home), *args], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def test_create_update_history_rollback_and_promote(home: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"primary": "churn:1", "fallback": [{"rule": "constant", "value": 0}]}))
    shown = _run(home, "deploy", "create", "churn-staging", "--spec", str(spec), "-m", "first")
    assert "churn:1" in shown and "constant 0" in shown
    _run(home, "deploy", "update", "churn-staging", "--canary", "churn:2=10", "-m", "canary 10%")
    assert "10% of keys" in _run(home, "deploy", "show", "churn-staging")
    history = _run(home, "deploy", "history", "churn-staging")
    assert "canary 10%" in history and "created" in history
    assert all(len(line) <= 80 for line in history.splitlines())
    _run(home, "deploy", "rollback", "churn-staging")
    data = json.loads(_run(home, "deploy", "show", "churn-staging", "--json"))
    assert data["version"] == 3 and "canary" not in data["spec"] and data["action"] == "rolled_back"
    _run(home, "deploy", "promote", "churn-staging", "churn-production")
    listed = _run(home, "deploy", "list")
    assert "churn-production" in listed and all(len(line) <= 80 for line in listed.splitlines())


def test_a_reference_naming_nothing_exits_2_naming_the_field(home: Path) -> None:
    result = CliRunner().invoke(app, ["--dir", str(home), "deploy", "create", "d", "--primary", "churn:9"])
    assert result.exit_code == 2 and "spec.primary" in result.output
