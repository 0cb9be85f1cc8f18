"""Performance estimated before labels, through the service on SQLite and PostgreSQL: calibration at
creation and later, estimates of stored windows beside realized figures, alert rules on estimates."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.alerts import AlertService
from mltrail.services.monitoring.estimation import calibration_from_table
from mltrail.services.monitoring.report import build_report
from mltrail.services.monitoring.service import MonitoringService
from mltrail.stats.profile import profile_batches
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

DAY = 86400.0
T0 = 1_764_547_200.0  # 2025-12-01 00:00 UTC


def churn(n: int, seed: int, *, shift: float = 0.0, day: int = 0) -> tuple[pa.Table, np.ndarray]:
    """Traffic of a churn model whose probabilities are too flat (so they need calibrating), and the
    true labels drawn from the real probabilities. ``shift`` moves age, which changes true accuracy."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40 + shift * 10, 10, n)
    z = (age - 40) / 10
    label = (rng.random(n) < 1 / (1 + np.exp(-2 * z))).astype(np.int64)
    score = 1 / (1 + np.exp(-(0.9 * z + 0.4)))
    table = pa.table(
        {
            "age": age,
            "prediction": (score >= 0.5).astype(np.int64),
            "score": score,
            "id": [f"{seed}-{i}" for i in range(n)],
            "timestamp": T0 + day * DAY + rng.uniform(0, DAY - 1, n),
        }
    )
    return table, label


@pytest.fixture
def services(db_url: str, tmp_path: Path) -> Iterator[tuple[SqlStore, MonitoringService, AlertService]]:
    store = open_store(db_url)
    alerts = AlertService(store)
    monitoring = MonitoringService(store, BlobStore(str(tmp_path / "blobs")), after_ingest=alerts.evaluate)
    yield store, monitoring, alerts
    alerts.close()
    store.close()


def _reference() -> pa.Table:
    table, label = churn(20_000, 1)
    return table.drop_columns(["id", "timestamp"]).append_column("churned", pa.array(label))


def _create(monitoring: MonitoringService, *, calibrated: bool, task: str = "classification") -> Any:
    reference = _reference()
    calibration = (
        calibration_from_table(reference, label="churned", prediction="prediction", task=task)
        if calibrated
        else None
    )
    return monitoring.create_monitor(
        f"mon-{uuid.uuid4().hex[:8]}",
        project=f"p-{uuid.uuid4().hex[:6]}",
        reference=profile_batches(reference.select(["age", "prediction"])),
        reference_source="test",
        features=["age"],
        task=task,
        calibration=calibration,
    )


def test_estimates_per_window_follow_true_accuracy_and_sit_beside_realized(
    services: tuple[SqlStore, MonitoringService, AlertService],
) -> None:
    store, monitoring, _ = services
    mon = _create(monitoring, calibrated=True)
    truth, batches = [], []
    for day, shift in enumerate([0.0, 0.0, 1.0, 1.5]):
        table, label = churn(4000, 10 + day, shift=shift, day=day)
        monitoring.ingest(mon.name, table)
        batches.append((table, label))
        truth.append(float((table.column("prediction").to_numpy() == label).mean()))
    report = build_report(store, mon)
    assert report["estimation"]["calibrated"] and report["estimation"]["kind"] == "binary"
    estimated = [w["estimated"]["accuracy"] for w in report["windows"]]
    for est, true in zip(estimated, truth, strict=True):
        assert est["value"] == pytest.approx(true, abs=0.03)  # ~3 sampling SE at 4,000 rows
        assert est["lower"] < est["value"] < est["upper"]
    assert estimated[3]["value"] > estimated[0]["value"] + 0.05  # the shift raised accuracy; seen unlabelled
    assert report["estimation"]["error"] == {}  # no labels yet
    # labels arrive for every window: realized beside estimated, and how far apart they were
    for table, label in batches:
        monitoring.log_labels(mon.name, table.column("id").to_pylist(), label.tolist())
    report = build_report(store, mon)
    for window, true in zip(report["windows"], truth, strict=True):
        assert window["performance"]["accuracy"] == pytest.approx(true)
    error = report["estimation"]["error"]["accuracy"]
    assert error["windows"] == 4 and error["mae"] < 0.03 and error["within_band"] >= 3
    # the same report read twice gives the same figures
    assert build_report(store, mon)["estimation"] == report["estimation"]


def test_calibrating_later_estimates_windows_already_stored(
    services: tuple[SqlStore, MonitoringService, AlertService],
) -> None:
    store, monitoring, _ = services
    mon = _create(monitoring, calibrated=False)
    table, label = churn(3000, 30)
    monitoring.ingest(mon.name, table)
    before = build_report(store, mon)
    assert before["windows"][0]["estimated"] == {} and not before["estimation"]["calibrated"]
    calibrated = monitoring.calibrate_from(mon.name, _reference(), label="churned")
    assert calibrated.calibration is not None and calibrated.calibration["rows"] == 20_000
    after = build_report(store, store.get_monitor(mon.name))
    true = float((table.column("prediction").to_numpy() == label).mean())
    assert after["windows"][0]["estimated"]["accuracy"]["value"] == pytest.approx(true, abs=0.03)
    with pytest.raises(InvalidInputError) as info:
        monitoring.calibrate(mon.name, {"method": "cbpe", "version": 1, "bins": 3})
    assert info.value.field == "calibration"


def test_an_alert_rule_on_an_estimate_fires_over_stored_windows(
    services: tuple[SqlStore, MonitoringService, AlertService],
) -> None:
    _, monitoring, alerts = services
    mon = _create(monitoring, calibrated=True)
    now = T0 + 3 * DAY
    alerts.clock = monitoring.clock = lambda: now
    for day, shift in enumerate([0.0, -1.5, -1.5]):  # young customers: the model gets worse at day 1
        monitoring.ingest(mon.name, churn(3000, 40 + day, shift=shift, day=day)[0])
    assert alerts.list(mon) == []
    rule = alerts.add_rule(mon, metric="estimated.recall", below=0.6, for_windows=2)
    opened = alerts.list(mon, state="open")
    assert [a.rule_id for a in opened] == [rule.id] and opened[0].window_start == T0 + 2 * DAY
    assert opened[0].value < 0.6
    assert alerts.add_rule(mon, metric="estimated.accuracy", below=0.5) is not None
    assert len(alerts.list(mon, state="open")) == 1  # accuracy stays high: no second alert


def test_a_classifiers_calibration_is_refused_for_a_regression_monitor(
    services: tuple[SqlStore, MonitoringService, AlertService],
) -> None:
    _, monitoring, _ = services
    mon = _create(monitoring, calibrated=False, task="regression")
    cbpe = calibration_from_table(
        _reference(), label="churned", prediction="prediction", task="classification"
    )
    with pytest.raises(InvalidInputError) as info:
        monitoring.calibrate(mon.name, cbpe)
    assert info.value.field == "calibration" and "dle" in info.value.message


def _regression_traffic(
    n: int, seed: int, *, shift: float = 0.0, day: int = 0
) -> tuple[pa.Table, np.ndarray]:
    """A price model whose errors grow with |x2|: moving x2 moves its MAE and RMSE."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(0, 1, n), rng.normal(shift, 1, n)
    y = 2 * x1 + rng.normal(0, 1, n) * (0.2 + np.abs(x2))
    table = pa.table(
        {
            "x1": x1,
            "x2": x2,
            "prediction": 2 * x1,
            "id": [f"{seed}-{i}" for i in range(n)],
            "timestamp": T0 + day * DAY + rng.uniform(0, DAY - 1, n),
        }
    )
    return table, y


def test_direct_loss_estimation_for_a_regression_monitor(
    services: tuple[SqlStore, MonitoringService, AlertService],
) -> None:
    pytest.importorskip("sklearn")
    store, monitoring, alerts = services
    reference, y = _regression_traffic(20_000, 1)
    mon = monitoring.create_monitor(
        f"mon-{uuid.uuid4().hex[:8]}",
        project=f"p-{uuid.uuid4().hex[:6]}",
        reference=profile_batches(reference.select(["x1", "x2", "prediction"])),
        reference_source="test",
        features=["x1", "x2"],
        task="regression",
    )
    labelled = reference.drop_columns(["id", "timestamp"]).append_column("price", pa.array(y))
    mon = monitoring.calibrate_from(mon.name, labelled, label="price")
    assert mon.calibration is not None and mon.calibration["inputs"] == ["x1", "x2", "prediction"]
    truth = []
    now = T0 + 2 * DAY
    alerts.clock = monitoring.clock = lambda: now
    for day, shift in enumerate([0.0, 1.0]):
        table, label = _regression_traffic(5000, 20 + day, shift=shift, day=day)
        monitoring.ingest(mon.name, table)
        truth.append(float(np.abs(label - table.column("prediction").to_numpy()).mean()))
        monitoring.log_labels(mon.name, table.column("id").to_pylist(), label.tolist())
    report = build_report(store, store.get_monitor(mon.name))
    assert report["estimation"]["method"] == "DLE" and report["estimation"]["metrics"] == ["mae", "rmse"]
    for window, true in zip(report["windows"], truth, strict=True):
        assert window["estimated"]["mae"]["value"] == pytest.approx(true, rel=0.06)
        assert window["performance"]["mae"] == pytest.approx(true)
    assert report["estimation"]["error"]["mae"]["windows"] == 2
    rule = alerts.add_rule(mon, metric="estimated.mae", above=0.95)  # day 1's errors are larger
    opened = alerts.list(mon, state="open")
    assert [a.rule_id for a in opened] == [rule.id] and opened[0].window_start == T0 + DAY
