"""``mltrail monitor set-reference`` and per-segment performance from the CLI (issue 13): on the embedded
store, and on a real ``mltrail server --auth`` through the SDK's HTTP client, where the change is audited."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from test_monitor_cli import FEATURES, OFF, _frame, _ok, _traffic, linear, trained  # noqa: F401
from typer.testing import Result

import mltrail
from mltrail.store.factory import open_store

Invoke = Callable[..., Result]


def _labels(path: Path, traffic: Path) -> None:
    """Labels for every prediction of ``traffic``: right, except every other one of the young."""
    rows = pq.read_table(traffic).to_pandas()
    label = rows["prediction"].copy()
    young = rows.index[rows["age"] < 30]
    label[young[::2]] = 1 - label[young[::2]]
    pd.DataFrame({"id": rows["id"], "label": label}).to_csv(path, index=False)


def _reference_file(path: Path, clf: Any) -> None:
    """Reference rows with the model's outputs on them, as class codes."""
    rows = _frame(2000, 55).drop(columns="churned")
    rows["prediction"] = 1 - clf.predict(rows[FEATURES])  # the outputs a wrong-from-day-one model gave
    rows.to_parquet(path)


def test_segment_performance_output_reference_and_set_reference(
    trained: tuple[str, Any],  # noqa: F811
    invoke: Invoke,
    tmp_path: Path,
) -> None:
    run_id, clf = trained
    _ok(invoke("monitor", "create", "ref-mon", "--model", "churn:1", "--segment", "age < 30"))
    traffic = tmp_path / "traffic.parquet"
    _traffic(traffic, clf, [(4, 0.0), (3, 0.0), (2, 0.0)])
    _ok(invoke("monitor", "ingest", "ref-mon", str(traffic)))
    labels = tmp_path / "labels.csv"
    _labels(labels, traffic)
    _ok(invoke("monitor", "labels", "ref-mon", str(labels)))

    data = json.loads(_ok(invoke("monitor", "report", "ref-mon", "--json")).stdout)
    output = data["reference"]["output"]
    assert (
        output["source"] == "launch_day" and "A model wrong from day one looks normal" in output["statement"]
    )
    young = data["segments"]["age < 30"]["performance"]
    assert young["labeled"] > 100 and 0.4 < young["accuracy"] < 0.6
    assert data["performance"]["overall"]["accuracy"] > young["accuracy"]
    shown = _ok(invoke("monitor", "report", "ref-mon")).stdout
    assert "output reference" in shown and "first day of traffic" in shown
    assert f"({young['labeled']:,.0f} labeled)" in shown  # the segments table

    reference = tmp_path / "reference.parquet"
    _reference_file(reference, clf)
    both = invoke("monitor", "set-reference", "ref-mon", str(reference), "--from-run", run_id)
    assert both.exit_code == 2 and "--from-run" in both.stderr
    changed = _ok(invoke("monitor", "set-reference", "ref-mon", str(reference))).stdout
    assert "file reference.parquet" in changed and "recomputed" in changed
    data = json.loads(_ok(invoke("monitor", "report", "ref-mon", "--json")).stdout)
    assert data["reference"]["source"] == "file reference.parquet"
    assert data["reference"]["output"]["source"] == "reference"
    assert all("prediction" in w["drifted"] for w in data["windows"])  # against the new reference
    assert data["segment_reference"] == "segment"  # the file's rows gave each segment its own profile

    # A run's training data has no outputs: the output goes back to its first day of traffic.
    moved = json.loads(
        _ok(invoke("monitor", "set-reference", "ref-mon", "--from-run", "baseline", "--json")).stdout
    )
    assert moved["monitor"]["reference_source"].startswith(f"run {run_id}: train dataset train v1")
    assert "; prediction: traffic of " in moved["monitor"]["reference_source"]
    data = json.loads(_ok(invoke("monitor", "report", "ref-mon", "--json")).stdout)
    assert data["reference"]["output"]["source"] == "launch_day"


def test_set_reference_on_a_team_server_needs_a_maintainer_and_is_audited(
    team_server: Any, act_as: Callable[[str], None], invoke: Invoke, tmp_path: Path
) -> None:
    act_as("ana")
    train = _frame(3000, 1)
    clf = linear.LogisticRegression(max_iter=500).fit(train[FEATURES], train["churned"])
    with mltrail.init(project="ref-shop", name="ref-baseline", capture=OFF) as run:
        run.log_dataset(train, name="train", role="train")
        held = _frame(1000, 2).drop(columns="churned")
        held["prediction"] = clf.predict(held[FEATURES]).astype(str)
        run.log_dataset(held, name="holdout", role="test")
        mltrail.models.register("churn-ref", run=run, model=clf, input_example=train[FEATURES].head(5))
    _ok(invoke("monitor", "create", "ref-team", "--model", "churn-ref:1"))
    traffic = tmp_path / "traffic.parquet"
    _traffic(traffic, clf, [(3, 0.0), (2, 0.0)])
    _ok(invoke("monitor", "ingest", "ref-team", str(traffic)))
    refused = invoke("monitor", "set-reference", "ref-team", "--from-run", run.id)
    assert refused.exit_code == 1 and "needs the maintainer role" in refused.stderr

    act_as("bob")
    changed = json.loads(
        _ok(invoke("monitor", "set-reference", "ref-team", "--from-run", run.id, "--json")).stdout
    )
    assert changed["monitor"]["reference_source"] == f"run {run.id}: test dataset holdout v1"
    report = json.loads(_ok(invoke("monitor", "report", "ref-team", "--json")).stdout)
    assert report["reference"]["output"]["source"] == "reference"
    reference = tmp_path / "reference.parquet"
    _reference_file(reference, clf)
    _ok(invoke("monitor", "set-reference", "ref-team", str(reference)))
    report = json.loads(_ok(invoke("monitor", "report", "ref-team", "--json")).stdout)
    assert report["reference"]["source"] == "file reference.parquet"
    assert all("prediction" in w["drifted"] for w in report["windows"])

    store = open_store(f"sqlite:///{team_server.home / 'mltrail.db'}")
    try:
        events = store.query_audit_events(action="set_monitor_reference")
    finally:
        store.close()
    assert [(e.user, e.project, e.status) for e in events] == [("bob", "ref-shop", 200)] * 2
    assert run.id in {e.run_id for e in events}  # the run the reference was read from
