"""``mltrail runs tables``, ``runs table`` and ``runs samples`` on an embedded store filled by the SDK."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from typer.testing import Result

import mltrail

Invoke = Callable[..., Result]
OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}


def _log(flips: int, name: str) -> str:
    ids = np.arange(60)
    truth = np.where(ids % 3 == 0, "spam", "ham")
    pred = np.where(ids < flips, np.where(truth == "spam", "ham", "spam"), truth)
    proba = np.where(pred == "spam", 0.9, 0.2)
    with mltrail.init(project="mail", name=name, capture=OFF) as run:
        run.log_predictions(
            "val", ids, truth, pred, proba, features={"early": ids < 30, "length": ids * 10.0}
        )
        run.log_table("notes", {"word": ["a", "b"], "count": [1, 2]})
    return run.id


def test_tables_table_and_samples(home: Path, invoke: Invoke) -> None:
    a, b = _log(3, "first"), _log(30, "second")
    listed = invoke("runs", "tables", "first")
    assert listed.exit_code == 0, listed.output
    assert "notes" in listed.stdout and "predictions" in listed.stdout
    shown = invoke(
        "runs", "table", "second", "val", "--filter", 'y_true = "spam"', "--sort", "-id", "-n", "3"
    )
    assert shown.exit_code == 0, shown.output
    assert "accuracy 0.5" in shown.stdout and "confusion" in shown.stdout
    assert "rows 1–3 of 20" in shown.stdout and "57" in shown.stdout
    as_json = json.loads(invoke("runs", "table", a, "notes", "--json").stdout)
    assert as_json["page"]["rows"] == [["a", 1], ["b", 2]]
    compared = invoke("runs", "samples", "first", "second", "--table", "val", "--min-rows", "5")
    assert compared.exit_code == 0, compared.output
    assert "right → wrong: 27" in compared.stdout and "early=true" in compared.stdout
    found = json.loads(invoke("runs", "samples", a, b, "-t", "val", "--json", "--no-pairs").stdout)
    assert found["wrong_to_right"]["count"] == 0 and found["slices"][0]["slice"] == {"early": "true"}
    missing = invoke("runs", "samples", a, b, "--table", "nope")
    assert missing.exit_code != 0 and "no table 'nope'" in missing.output
