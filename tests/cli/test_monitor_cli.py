"""``mltrail monitor`` on a real embedded SQLite store: create, ingest, report, alerts, labels."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import Result

import mltrail
from mltrail.sdk.tracking.journal_transport import close_journaling_transports

linear = pytest.importorskip("sklearn.linear_model")

Invoke = Callable[..., Result]
OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}
FEATURES = ["age", "income", "tenure"]
DAY = 86400.0
TODAY = math.floor(time.time() / DAY) * DAY


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def _frame(n: int, seed: int, *, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(40 + shift, 10, n)
    return pd.DataFrame(
        {
            "age": age,
            "income": rng.lognormal(10, 0.4, n),
            "tenure": rng.integers(0, 120, n).astype(float),
            "churned": (age + rng.normal(0, 5, n) > 42).astype(np.int64),
        }
    )


@pytest.fixture
def trained(home: Path) -> tuple[str, Any]:
    """churn:1, registered from a run that logged its training DataFrame; (run id, model)."""
    train = _frame(3000, 1)
    clf = linear.LogisticRegression(max_iter=500).fit(train[FEATURES], train["churned"])
    run = mltrail.init(project="shop", name="baseline", config={"C": 1.0}, capture=OFF)
    run.log({"val/acc": 0.91}, step=0)
    run.log_dataset(train, name="train", role="train")
    mltrail.models.register("churn", run=run, model=clf, input_example=train[FEATURES].head(5))
    run.finish()
    return run.id, clf


def _traffic(path: Path, clf: Any, days: list[tuple[int, float]], n: int = 1500) -> list[str]:
    """Parquet of ``n`` predictions on each (days back from today, age shift); returns the request ids."""
    parts = []
    for back, shift in days:
        frame = _frame(n, 100 + back, shift=shift).drop(columns="churned")
        frame["prediction"] = clf.predict(frame[FEATURES])
        frame["score"] = clf.predict_proba(frame[FEATURES])[:, 1]
        frame["id"] = [f"d{back}-{i}" for i in range(n)]
        frame["timestamp"] = TODAY - back * DAY + np.linspace(60, DAY - 60, n)
        parts.append(frame)
    table = pa.Table.from_pandas(pd.concat(parts, ignore_index=True), preserve_index=False)
    pq.write_table(table, path)
    return [str(i) for i in table.column("id").to_pylist()]


def test_create_ingest_report_alerts_labels(trained: tuple[str, Any], invoke: Invoke, tmp_path: Path) -> None:
    run_id, clf = trained
    _ok(invoke("models", "request", "churn", "1", "--to", "staging"))
    created = _ok(
        invoke("monitor", "create", "churn-live", "--model", "churn@staging", "--segment", "age < 30")
    ).stdout
    assert "churn:1" in created and "train dataset train v1" in created and "3 features" in created
    assert "validation rules inferred" in created
    assert invoke("monitor", "create", "churn-live", "--model", "churn:1").exit_code == 1  # exists

    calm = tmp_path / "calm.parquet"
    ids = _traffic(calm, clf, [(6, 0.0), (5, 0.0), (4, 0.0)])
    ingested = _ok(invoke("monitor", "ingest", "churn-live", str(calm)))
    assert "Ingested 4,500 rows" in ingested.stdout and "rows/s" in ingested.stdout
    assert "3 day windows" in ingested.stdout
    drifted = tmp_path / "drifted.parquet"
    _traffic(drifted, clf, [(3, 25.0)])
    out = _ok(invoke("monitor", "ingest", "churn-live", str(drifted))).stdout
    assert "Violations" in out and "age: above max" in out  # older than anyone in the training data

    report = _ok(invoke("monitor", "report", "churn-live", "--last", "30d")).stdout
    for visible in ("churn:1", run_id, "Windows", "Features over the period", "age < 30", "age", "0.91"):
        assert visible in report, visible
    window_lines = [line for line in report.splitlines() if line.lstrip().startswith("20")]
    assert len(window_lines) == 4 and "age" in window_lines[-1] and "age" not in window_lines[0]
    assert "churned" not in report  # the training label is not watched, so not reported as missing
    html = tmp_path / "out" / "report.html"
    shown = _ok(invoke("monitor", "report", "churn-live", "--window", "1d", "--html", str(html))).stdout
    assert str(html) in shown and "<svg" in html.read_text(encoding="utf-8")
    data = json.loads(_ok(invoke("monitor", "report", "churn-live", "--json")).stdout)
    assert data["current_rows"] == 6000 and data["monitor"]["version"] == 1
    assert "age" in data["windows"][-1]["drifted"] and data["windows"][0]["drifted"] == []
    assert set(data["segments"]) == {"age < 30"}
    assert invoke("monitor", "report", "churn-live", "--window", "1w").exit_code == 2

    bad = invoke("monitor", "alerts", "add", "churn-live", "--metric", "drift.nope", "--above", "0.2")
    assert bad.exit_code == 2 and "drift.nope" in bad.stderr
    bad_channel = invoke(
        "monitor", "alerts", "add", "churn-live", "--metric", "drift.psi", "--above", "1", "--notify", "sms:1"
    )
    assert bad_channel.exit_code == 2 and "sms:1" in bad_channel.stderr
    added = _ok(
        invoke(
            "monitor",
            "alerts",
            "add",
            "churn-live",
            "--metric",
            "drift.psi",
            "--feature",
            "*",
            "--above",
            "0.2",
            "--for",
            "2",
            "--notify",
            "email:ops@example.com",
            "--notify",
            "slack:http://127.0.0.1:9/services/T000/SECRET",
        )
    ).stdout
    assert "drift.psi" in added and "above 0.2" in added and "SECRET" not in added
    rules = json.loads(_ok(invoke("monitor", "alerts", "rules", "churn-live", "--json")).stdout)["rules"]
    assert [(r["metric"], r["feature"], r["for_windows"]) for r in rules] == [("drift.psi", "*", 2)]
    assert "No alerts." in _ok(invoke("monitor", "alerts", "list")).stdout

    more = tmp_path / "more.parquet"
    _traffic(more, clf, [(2, 25.0)], n=800)
    more_out = _ok(invoke("monitor", "ingest", "churn-live", str(more))).stdout
    assert "opened" in more_out
    listed = _ok(invoke("monitor", "alerts", "list", "churn-live", "--state", "open")).stdout
    assert "open" in listed and "churn:1" in listed and run_id[:12] in listed and "age" in listed
    alerts = json.loads(_ok(invoke("monitor", "alerts", "list", "--json")).stdout)["alerts"]
    age = next(a for a in alerts if a["feature"] == "age")
    assert age["state"] == "open" and age["run_id"] == run_id and age["version"] == 1
    assert invoke("monitor", "alerts", "list", "--state", "maybe").exit_code == 2

    acked = _ok(invoke("monitor", "alerts", "ack", str(age["id"]), "--user", "ana")).stdout
    assert "acknowledged by ana" in acked
    detail = _ok(invoke("monitor", "alerts", "show", str(age["id"]))).stdout
    for visible in ("acknowledged", "churn:1", run_id, "baseline", "Params", "Notifications", "email"):
        assert visible in detail, visible
    assert "e-mail is not configured" in detail and "SECRET" not in detail
    assert invoke("monitor", "alerts", "show", "9999").exit_code == 1
    assert "Open alerts" in _ok(invoke("monitor", "report", "churn-live")).stdout

    # Evaluated on demand over the stored windows: nothing new while the alerts stand; once one is
    # resolved, the drift still in the windows opens it again.
    assert "No new alerts" in _ok(invoke("monitor", "alerts", "evaluate", "churn-live")).stdout
    _ok(invoke("monitor", "alerts", "resolve", str(age["id"])))
    again = json.loads(_ok(invoke("monitor", "alerts", "evaluate", "churn-live", "--json")).stdout)["alerts"]
    assert [(a["feature"], a["state"]) for a in again] == [("age", "open")] and again[0]["id"] != age["id"]

    labels = tmp_path / "labels.csv"
    pd.DataFrame({"request": [*ids[:1000], "never-seen"], "truth": [1] * 1001}).to_csv(labels, index=False)
    labelled = _ok(
        invoke(
            "monitor",
            "labels",
            "churn-live",
            str(labels),
            "--id-column",
            "request",
            "--label-column",
            "truth",
        )
    ).stdout
    assert "1,000 labels matched" in labelled and "1 ids were unknown" in labelled
    perf = json.loads(_ok(invoke("monitor", "report", "churn-live", "--json")).stdout)["performance"]
    assert perf["overall"]["labeled"] == 1000 and perf["training"] == {"accuracy": 0.91}
    assert invoke("monitor", "labels", "churn-live", str(labels), "--id-column", "nope").exit_code == 2

    listing = _ok(invoke("monitor", "list")).stdout
    assert "churn-live" in listing and "churn:1" in listing and "age < 30" in listing
    shown_monitor = _ok(invoke("monitor", "show", "churn-live")).stdout
    assert "Validation schema" in shown_monitor and "drift.psi" in shown_monitor and "tenure" in shown_monitor
    _ok(invoke("monitor", "alerts", "resolve", str(age["id"])))
    _ok(invoke("monitor", "alerts", "remove", str(rules[0]["id"])))
    assert "no alert rules" in _ok(invoke("monitor", "alerts", "rules", "churn-live")).stdout
    assert invoke("monitor", "show", "nope").exit_code == 1
    assert invoke("monitor", "ingest", "churn-live", str(tmp_path / "missing.parquet")).exit_code == 2


def test_create_from_a_reference_file(trained: tuple[str, Any], invoke: Invoke, tmp_path: Path) -> None:
    reference = tmp_path / "reference.csv"
    _frame(800, 7).to_csv(reference, index=False)
    created = json.loads(
        _ok(
            invoke(
                "monitor",
                "create",
                "from-file",
                "--model",
                "churn:1",
                "--reference",
                str(reference),
                "--feature",
                "age",
                "--feature",
                "income",
                "--granularity",
                "hour",
                "--json",
            )
        ).stdout
    )["monitor"]
    assert created["features"] == ["age", "income"] and created["granularity"] == "hour"
    assert created["reference_source"] == "file reference.csv" and "reference" not in created
    traffic = _frame(600, 8).drop(columns="churned")
    traffic["prediction"] = 0
    traffic["timestamp"] = TODAY - DAY + np.linspace(0, 3 * 3600 - 1, 600)  # three hours
    traffic.to_csv(tmp_path / "traffic.csv", index=False)
    ingested = json.loads(
        _ok(invoke("monitor", "ingest", "from-file", str(tmp_path / "traffic.csv"), "--json")).stdout
    )
    assert ingested["rows"] == 600 and len(ingested["windows"]) == 3
    hours = json.loads(_ok(invoke("monitor", "report", "from-file", "--json")).stdout)["windows"]
    assert [w["rows"] for w in hours] == [200, 200, 200]
    assert invoke("monitor", "create", "x", "--model", "churn:1", "--granularity", "week").exit_code == 2
    assert invoke("monitor", "create", "y", "--model", "churn:7").exit_code == 1
    assert invoke("monitor", "delete", "from-file", input="n\n").exit_code == 1  # not confirmed
    assert "from-file" in _ok(invoke("monitor", "list")).stdout
    deleted = json.loads(_ok(invoke("monitor", "delete", "from-file", "--yes", "--json")).stdout)
    assert deleted == {"monitor": "from-file", "deleted": True}
    assert invoke("monitor", "report", "from-file").exit_code == 1


def test_a_monitor_of_a_stage_follows_it(trained: tuple[str, Any], invoke: Invoke, tmp_path: Path) -> None:
    first_run, clf = trained
    _ok(invoke("models", "request", "churn", "1", "--to", "staging"))
    created = _ok(invoke("monitor", "create", "churn-staging", "--model", "churn@staging")).stdout
    assert "follows churn@staging" in created
    assert "churn:1 (follows @staging)" in _ok(invoke("monitor", "show", "churn-staging")).stdout

    train = _frame(3000, 2, shift=5.0)
    run = mltrail.init(project="shop", name="retrained", capture=OFF)
    run.log({"val/acc": 0.94}, step=0)
    run.log_dataset(train, name="train", role="train")
    mltrail.models.register("churn", run=run, model=clf, input_example=train[FEATURES].head(5))
    run.finish()
    _ok(invoke("models", "request", "churn", "2", "--to", "staging"))
    batch = tmp_path / "batch.parquet"
    _traffic(batch, clf, [(1, 0.0)], n=300)
    _ok(invoke("monitor", "ingest", "churn-staging", str(batch)))

    shown = _ok(invoke("monitor", "show", "churn-staging")).stdout
    assert "churn:2 (follows @staging)" in shown and "v1 until" in shown and "v2 since" in shown
    assert "train dataset train v2" in shown and run.id in shown
    assert "churn:2 (follows @staging)" in _ok(invoke("monitor", "list")).stdout
    data = json.loads(_ok(invoke("monitor", "show", "churn-staging", "--json")).stdout)["monitor"]
    assert (data["alias"], data["version"], data["run_id"]) == ("staging", 2, run.id)
    assert [(v["version"], v["run_id"]) for v in data["versions"]] == [(1, first_run), (2, run.id)]
    listed = json.loads(_ok(invoke("monitor", "list", "--json")).stdout)["monitors"]
    assert [m["alias"] for m in listed] == ["staging"]


# -- against a team server -------------------------------------------------------------------------------
def test_monitor_against_a_team_server(
    team_server: Any, act_as: Callable[[str], None], invoke: Invoke, tmp_path: Path
) -> None:
    act_as("ana")  # a member: registers (through the SDK), creates, ingests, adds rules, acknowledges
    train = _frame(3000, 1)
    clf = linear.LogisticRegression(max_iter=500).fit(train[FEATURES], train["churned"])
    with mltrail.init(project="team-shop", name="baseline", config={"C": 1.0}, capture=OFF) as run:
        run.log({"val/acc": 0.91}, step=0)
        run.log_dataset(train, name="train", role="train")
        mltrail.models.register("churn-mon", run=run, model=clf, input_example=train[FEATURES].head(5))

    act_as("vic")
    refused = invoke("monitor", "create", "churn-team", "--model", "churn-mon:1")
    assert refused.exit_code == 1 and "needs the member role" in refused.stderr and "vic" in refused.stderr
    act_as("ana")
    created = _ok(
        invoke("monitor", "create", "churn-team", "--model", "churn-mon:1", "--segment", "age < 30")
    )
    assert "churn-mon:1" in created.stdout and "train dataset train v1" in created.stdout
    assert "3 features" in created.stdout

    calm = tmp_path / "calm.parquet"
    ids = _traffic(calm, clf, [(6, 0.0), (5, 0.0), (4, 0.0)])
    ingested = _ok(invoke("monitor", "ingest", "churn-team", str(calm))).stdout
    assert "Ingested 4,500 rows" in ingested and "3 day windows" in ingested
    drifted = tmp_path / "drifted.parquet"
    _traffic(drifted, clf, [(3, 25.0)])
    out = json.loads(_ok(invoke("monitor", "ingest", "churn-team", str(drifted), "--json")).stdout)
    assert out["rows"] == 1500 and any("age" in rule for rule in out["violations"])

    added = _ok(
        invoke(
            "monitor",
            "alerts",
            "add",
            "churn-team",
            "--metric",
            "drift.psi",
            "--feature",
            "*",
            "--above",
            "0.2",
        )
    ).stdout
    assert "drift.psi" in added
    rules = json.loads(_ok(invoke("monitor", "alerts", "rules", "churn-team", "--json")).stdout)["rules"]
    assert [(r["metric"], r["feature"], r["created_by"]) for r in rules] == [("drift.psi", "*", "ana")]
    # The drift already stored raises the new rule's alert at once (a rule is evaluated when added).
    opened = json.loads(_ok(invoke("monitor", "alerts", "list", "churn-team", "--json")).stdout)["alerts"]
    assert any(a["metric"] == "drift.psi" and a["state"] == "open" for a in opened)
    more = tmp_path / "more.parquet"
    _traffic(more, clf, [(2, 25.0)], n=800)
    _ok(invoke("monitor", "ingest", "churn-team", str(more)))

    act_as("vic")  # a viewer reads everything
    report = _ok(invoke("monitor", "report", "churn-team", "--last", "30d")).stdout
    for visible in ("churn-mon:1", run.id, "Windows", "age < 30", "0.91", "Open alerts"):
        assert visible in report, visible
    html = tmp_path / "report.html"
    _ok(invoke("monitor", "report", "churn-team", "--html", str(html)))
    assert "<svg" in html.read_text(encoding="utf-8")
    data = json.loads(_ok(invoke("monitor", "report", "churn-team", "--json")).stdout)
    assert data["current_rows"] == 6800 and "age" in data["windows"][-1]["drifted"]
    assert data["alerts"] and data["alerts"][0]["monitor"] == "churn-team"
    listing = _ok(invoke("monitor", "list")).stdout
    assert "churn-team" in listing and "churn-mon:1" in listing
    listed = json.loads(_ok(invoke("monitor", "list", "--json")).stdout)["monitors"]
    assert listed[0]["open_alerts"] >= 1 and listed[0]["last_window"] is not None
    assert "Validation schema" in _ok(invoke("monitor", "show", "churn-team")).stdout
    alerts = json.loads(_ok(invoke("monitor", "alerts", "list", "--json")).stdout)["alerts"]
    age = next(a for a in alerts if a["feature"] == "age")
    assert age["state"] == "open" and age["run_id"] == run.id and age["version"] == 1
    assert invoke("monitor", "alerts", "ack", str(age["id"])).exit_code == 1  # a viewer cannot

    act_as("ana")
    acked = _ok(invoke("monitor", "alerts", "ack", str(age["id"]), "--user", "zed")).stdout
    assert "acknowledged by ana" in acked  # the key's user, whatever --user says
    detail = _ok(invoke("monitor", "alerts", "show", str(age["id"]))).stdout
    for visible in ("acknowledged", "churn-mon:1", run.id, "baseline", "Params"):
        assert visible in detail, visible

    labels = tmp_path / "labels.csv"
    pd.DataFrame({"id": [*ids[:1000], "never-seen"], "label": [1] * 1001}).to_csv(labels, index=False)
    assert "1,000 labels matched" in _ok(invoke("monitor", "labels", "churn-team", str(labels))).stdout
    _ok(invoke("monitor", "alerts", "resolve", str(age["id"])))
    act_as("bob")  # removing a rule needs a maintainer
    _ok(invoke("monitor", "alerts", "remove", str(rules[0]["id"])))
    assert "no alert rules" in _ok(invoke("monitor", "alerts", "rules", "churn-team")).stdout
    act_as("ana")
    refused_delete = invoke("monitor", "delete", "churn-team", "--yes")
    assert refused_delete.exit_code == 1 and "needs the maintainer role" in refused_delete.stderr
    act_as("bob")
    assert "Deleted monitor churn-team" in _ok(invoke("monitor", "delete", "churn-team", "--yes")).stdout
    assert invoke("monitor", "show", "churn-team").exit_code == 1


def test_ingest_to_a_server_splits_batches_over_its_upload_limit(
    live_server: Any, invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = live_server.start_server(tmp_path / "server", "--max-upload-mb", "0.25")
    try:
        monkeypatch.setenv("MLTRAIL_SERVER", server.url)
        monkeypatch.setenv("MLTRAIL_JOURNAL_DIR", str(tmp_path / "journal"))
        monkeypatch.delenv("MLTRAIL_API_KEY", raising=False)
        train = _frame(3000, 1)
        clf = linear.LogisticRegression(max_iter=500).fit(train[FEATURES], train["churned"])
        with mltrail.init(project="shop", capture=OFF) as run:
            run.log_dataset(train, name="train", role="train")
            mltrail.models.register("churn-big", run=run, model=clf, input_example=train[FEATURES].head(5))
        _ok(invoke("monitor", "create", "big", "--model", "churn-big:1"))
        big = tmp_path / "big.parquet"
        ids = _traffic(big, clf, [(1, 0.0)], n=60_000)  # 50,000-row batches of about 2 MB as Arrow
        done = json.loads(_ok(invoke("monitor", "ingest", "big", str(big), "--json")).stdout)
        assert done["rows"] == 60_000 and len(done["windows"]) == 1
        assert json.loads(_ok(invoke("monitor", "report", "big", "--json")).stdout)["current_rows"] == 60_000
        labels = tmp_path / "labels.parquet"
        pd.DataFrame({"id": [ids[0], ids[-1]], "label": [1, 0]}).to_parquet(labels)
        assert "2 labels matched" in _ok(invoke("monitor", "labels", "big", str(labels))).stdout
    finally:
        close_journaling_transports()
        server.stop()
