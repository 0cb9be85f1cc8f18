"""``mltrail monitor calibrate`` and ``monitor create --label`` on a real embedded store: the report then
estimates performance per window before labels, in the terminal, as JSON and in the HTML page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from test_monitor_cli import FEATURES, Invoke, _frame, _ok, _traffic, trained

__all__ = ["trained"]  # the fixture, imported for these tests


def _labelled(path: Path, clf: Any, *, seed: int = 7, n: int = 4000) -> Path:
    frame = _frame(n, seed)
    frame["prediction"] = clf.predict(frame[FEATURES])
    frame["score"] = clf.predict_proba(frame[FEATURES])[:, 1]
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path


def test_calibrate_then_report_estimates(trained: tuple[str, Any], invoke: Invoke, tmp_path: Path) -> None:
    _, clf = trained
    _ok(invoke("monitor", "create", "churn-est", "--model", "churn:1"))
    traffic = tmp_path / "traffic.parquet"
    _traffic(traffic, clf, [(3, 0.0), (2, 0.0), (1, 15.0)])
    _ok(invoke("monitor", "ingest", "churn-est", str(traffic)))
    before = _ok(invoke("monitor", "report", "churn-est", "--last", "7d")).stdout
    assert "not calibrated" in before

    reference = _labelled(tmp_path / "reference.parquet", clf)
    missing = invoke("monitor", "calibrate", "churn-est", str(reference), "--label", "nope")
    assert missing.exit_code == 2 and "nope" in missing.stderr
    done = _ok(invoke("monitor", "calibrate", "churn-est", str(reference), "--label", "churned")).stdout
    assert "Calibrated churn-est on 4,000 labelled rows (binary" in done

    shown = _ok(invoke("monitor", "report", "churn-est", "--last", "7d")).stdout
    assert "Estimated performance" in shown and "roc_auc" in shown
    data = json.loads(_ok(invoke("monitor", "report", "churn-est", "--last", "7d", "--json")).stdout)
    assert data["estimation"]["calibrated"] and data["estimation"]["reference_rows"] == 4000
    assert all(0.5 < w["estimated"]["accuracy"]["value"] <= 1.0 for w in data["windows"])
    page = tmp_path / "report.html"
    _ok(invoke("monitor", "report", "churn-est", "--last", "7d", "--html", str(page)))
    assert "Estimated performance (before labels)" in page.read_text(encoding="utf-8")


def test_create_with_a_labelled_reference_calibrates(
    trained: tuple[str, Any], invoke: Invoke, tmp_path: Path
) -> None:
    _, clf = trained
    reference = _labelled(tmp_path / "reference.parquet", clf, seed=8)
    args = ("monitor", "create", "churn-ref", "--model", "churn:1", "--reference", str(reference))
    created = json.loads(_ok(invoke(*args, "--label", "churned", "--json")).stdout)["monitor"]
    assert created["calibration"]["kind"] == "binary" and created["calibration"]["rows"] == 4000
    assert "churned" not in created["features"] and "score" not in created["features"]


def test_calibrate_a_regression_monitor_fits_loss_models(
    trained: tuple[str, Any], invoke: Invoke, tmp_path: Path
) -> None:
    _, clf = trained
    _ok(invoke("monitor", "create", "churn-reg", "--model", "churn:1", "--task", "regression"))
    reference = _frame(3000, 9)
    reference["prediction"] = clf.predict_proba(reference[FEATURES])[:, 1]  # a "regression" output
    path = tmp_path / "reference.parquet"
    pq.write_table(pa.Table.from_pandas(reference, preserve_index=False), path)
    done = _ok(invoke("monitor", "calibrate", "churn-reg", str(path), "--label", "churned", "--json")).stdout
    summary = json.loads(done)["calibration"]
    assert summary["method"] == "dle" and summary["columns"] == [*FEATURES, "prediction"]
    traffic = _frame(2000, 10)
    traffic["prediction"] = clf.predict_proba(traffic[FEATURES])[:, 1]
    traffic = traffic.drop(columns="churned")
    batch = tmp_path / "traffic.parquet"
    pq.write_table(pa.Table.from_pandas(traffic, preserve_index=False), batch)
    _ok(invoke("monitor", "ingest", "churn-reg", str(batch)))
    shown = _ok(invoke("monitor", "report", "churn-reg", "--last", "2d")).stdout
    assert "Estimated performance (DLE" in shown and "rmse" in shown
