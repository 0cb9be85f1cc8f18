"""Monitoring on SQLite and PostgreSQL: windows, segments, validation, delayed labels, reports and alerts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from mltrail.entities import AlertState, Monitor
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.monitoring.alerts import AlertService
from mltrail.services.monitoring.report import build_report
from mltrail.services.monitoring.service import MonitoringService
from mltrail.stats.profile import DatasetProfile, profile_batches
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

DAY = 86400.0
T0 = 1_764_547_200.0  # 2025-12-01 00:00 UTC


def traffic(n: int, seed: int, *, shift: float = 0.0, day: int = 0, ids: bool = True) -> pa.Table:
    rng = np.random.default_rng(seed)
    age = rng.normal(40 + shift * 10, 10, n)
    income = rng.lognormal(10, 0.5, n)
    country = rng.choice(["DE", "FR", "ES"], n, p=[0.5, 0.3, 0.2])
    prob = 1 / (1 + np.exp(-(age - 40) / 10))
    cols: dict[str, Any] = {
        "age": age,
        "income": income,
        "country": country,
        "prediction": (prob > 0.5).astype(np.int64),
        "score": prob,
        "timestamp": T0 + day * DAY + rng.uniform(0, DAY - 1, n),
    }
    if ids:
        cols["id"] = [f"{seed}-{i}" for i in range(n)]
    return pa.table(cols)


@dataclass
class World:
    store: SqlStore
    monitoring: MonitoringService
    alerts: AlertService
    sent: list[tuple[str, dict[str, Any]]]

    def monitor(self, **options: Any) -> Monitor:
        reference = traffic(5000, 1).drop_columns(["timestamp", "id", "score"])
        return self.monitoring.create_monitor(
            f"mon-{uuid.uuid4().hex[:8]}",
            project=f"p-{uuid.uuid4().hex[:6]}",
            reference=profile_batches(reference),
            reference_source="test",
            features=["age", "income", "country"],
            training_metrics={"val/acc": 0.97},
            **options,
        )


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    store = open_store(db_url)
    sent: list[tuple[str, dict[str, Any]]] = []

    def notifier(channel: str, payload: Any) -> tuple[bool, int | None, str | None]:
        sent.append((channel, dict(payload)))
        return True, 200, None

    alerts = AlertService(store, notifier=notifier)
    monitoring = MonitoringService(store, BlobStore(str(tmp_path / "blobs")), after_ingest=alerts.evaluate)
    yield World(store, monitoring, alerts, sent)
    alerts.close()
    store.close()


def test_windows_segments_and_validation(world: World) -> None:
    mon = world.monitor(segments=["country", "age < 30"])
    result = world.monitoring.ingest(mon.name, traffic(2000, 2))
    assert result.rows == 2000 and result.windows == (T0,)
    days = world.store.list_windows(mon.id, "day", segment=None)
    segments = {w.segment for w in days}
    assert {"", "country=DE", "country=FR", "country=ES", "age < 30"} <= segments
    hours = world.store.list_windows(mon.id, "hour")
    assert sum(w.rows for w in hours) == 2000 and len(hours) == 24
    # a batch missing a column, with an extra one and unseen categories: kept, violations counted
    odd = traffic(100, 3).drop_columns(["income"]).append_column("extra", pa.array([1] * 100))
    odd = odd.set_column(odd.column_names.index("country"), "country", pa.array(["XX"] * 100))
    out = world.monitoring.ingest(mon.name, odd)
    assert out.violations["income: missing column"] == 100
    assert out.violations["country: unknown category"] == 100
    assert out.violations["extra column: extra"] == 100
    assert world.monitoring.ingest(mon.name, traffic(0, 4)).rows == 0
    raw = world.monitoring.read_raw(mon.name)
    assert raw.num_rows == 2100


def test_drift_found_in_shifted_days_only_and_report(world: World) -> None:
    mon = world.monitor(segments=["country"])
    for day in range(6):
        world.monitoring.ingest(mon.name, traffic(3000, 10 + day, shift=1.5 if day >= 4 else 0.0, day=day))
    report = build_report(world.store, mon)
    assert report["period"]["windows"] == 6 and report["current_rows"] == 18000
    drifted = [w["drifted"] for w in report["windows"]]
    assert drifted[:4] == [[], [], [], []]
    assert "age" in drifted[4] and "age" in drifted[5] and "income" not in drifted[5]
    assert report["distributions"]["age"]["kind"] == "numeric"
    assert set(report["segments"]) == {"country=DE", "country=FR", "country=ES"}
    assert report["performance"]["training"] == {"accuracy": 0.97}


def test_the_outputs_reference_is_the_first_whole_day_when_the_training_data_has_none(world: World) -> None:
    # A training dataset's profile has no prediction column: the output is compared with its first day.
    training = traffic(5000, 1).drop_columns(["timestamp", "id", "score", "prediction"])
    mon = world.monitoring.create_monitor(
        f"mon-{uuid.uuid4().hex[:8]}",
        project=f"p-{uuid.uuid4().hex[:6]}",
        reference=profile_batches(training),
        reference_source="train dataset churn-train v1",
        features=["age", "income", "country"],
    )
    world.monitoring.ingest(mon.name, traffic(3000, 40, day=0))
    assert "prediction" not in DatasetProfile.from_bytes(world.store.get_monitor(mon.name).reference).columns
    world.monitoring.ingest(mon.name, traffic(3000, 41, day=1))  # day 0 is over
    after = world.store.get_monitor(mon.name)
    reference = DatasetProfile.from_bytes(after.reference)
    assert reference.columns["prediction"].count == 3000 and reference.columns["age"].count == 5000
    assert after.reference_source == "train dataset churn-train v1; prediction: traffic of 2025-12-01"
    # Day 0's kept figures were computed again, with the output.
    day0 = world.store.list_windows(mon.id, "day")[0]
    assert day0.figures is not None and "prediction" in day0.figures["scores"]
    # Older customers shift the predicted classes: the output drifts, not on the first days.
    world.monitoring.ingest(mon.name, traffic(3000, 42, shift=2.0, day=2))
    drifted = [w["drifted"] for w in build_report(world.store, after)["windows"]]
    assert "prediction" not in drifted[0] + drifted[1] and "prediction" in drifted[2]
    # A reference with the output keeps it.
    given = world.monitor()
    before = world.store.get_monitor(given.name).reference
    for day in range(3):
        world.monitoring.ingest(given.name, traffic(500, 50 + day, day=day))
    assert world.store.get_monitor(given.name).reference == before


def test_after_a_move_the_outputs_reference_is_the_first_whole_day_since(world: World) -> None:
    training = profile_batches(traffic(5000, 1).drop_columns(["timestamp", "id", "score", "prediction"]))
    mon = world.monitoring.create_monitor(
        f"mon-{uuid.uuid4().hex[:8]}",
        project=f"p-{uuid.uuid4().hex[:6]}",
        reference=training,
        reference_source="train dataset churn-train v1",
        features=["age", "income", "country"],
        model="churn",
        version=1,
    )
    for day in range(2):
        world.monitoring.ingest(mon.name, traffic(1000, 60 + day, day=day))
    # The alias moved to v2 in the afternoon of day 2 (what services/monitor_alias does), with v2's
    # training profile: no output again.
    world.store.rebind_monitor(
        mon.name,
        expected_version=1,
        version=2,
        run_id=None,
        training_metrics={},
        since=T0 + 2 * DAY + 15 * 3600,
        reference=training.to_bytes(),
        reference_source="train dataset churn-train v2",
    )
    server = MonitoringService(world.store, world.monitoring.blobs, cache=False)
    for day, rows in ((2, 700), (3, 800)):
        server.ingest(mon.name, traffic(rows, 70 + day, day=day))
    # Day 3 is the first whole day of v2, and it is not over yet.
    assert "prediction" not in DatasetProfile.from_bytes(world.store.get_monitor(mon.name).reference).columns
    server.ingest(mon.name, traffic(900, 74, day=4))
    after = world.store.get_monitor(mon.name)
    assert DatasetProfile.from_bytes(after.reference).columns["prediction"].count == 800
    assert after.reference_source == "train dataset churn-train v2; prediction: traffic of 2025-12-04"


def test_delayed_labels_give_accuracy_per_window(world: World) -> None:
    mon = world.monitor()
    batch = traffic(1000, 20)
    world.monitoring.ingest(mon.name, batch)
    ids = batch.column("id").to_pylist()
    truth = batch.column("prediction").to_pylist()
    truth[:100] = [1 - y for y in truth[:100]]  # 90 % right
    matched, unknown = world.monitoring.log_labels(mon.name, [*ids, "never-seen"], [*truth, 1])
    assert (matched, unknown) == (1000, 1)
    perf = build_report(world.store, mon)["windows"][0]["performance"]
    assert perf["accuracy"] == pytest.approx(0.9) and perf["labeled"] == 1000
    assert 0.0 <= perf["roc_auc"] <= 1.0 and perf["log_loss"] > 0
    again, _ = world.monitoring.log_labels(mon.name, ids[:10], truth[:10])
    assert again == 0  # already labeled: replaced, not counted twice
    assert world.store.get_monitor(mon.name).unmatched_labels == 1


def test_alert_opens_after_consecutive_windows_dedups_and_resolves(world: World) -> None:
    mon = world.monitor()
    rule = world.alerts.add_rule(
        mon,
        metric="drift.psi",
        feature="*",
        above=0.2,
        for_windows=2,
        notify=["slack:https://hooks.example/x"],
    )
    world.monitoring.ingest(mon.name, traffic(3000, 30, day=0))
    world.monitoring.ingest(mon.name, traffic(3000, 31, shift=2.0, day=1))
    assert world.alerts.list(mon) == []  # one drifted window is not two
    world.monitoring.ingest(mon.name, traffic(3000, 32, shift=2.0, day=2))
    world.monitoring.ingest(
        mon.name, traffic(500, 33, shift=2.0, day=2)
    )  # same window again: no second alert
    alerts = world.alerts.list(mon)
    # the input drifted, and so did the output it drives
    assert sorted((a.feature, a.state) for a in alerts) == [("age", "open"), ("prediction", "open")]
    assert world.alerts.flush()
    assert [c for c, _ in world.sent] == ["slack:https://hooks.example/x"] * 2
    assert {p["feature"] for _, p in world.sent} == {"age", "prediction"}
    assert world.sent[0][1]["monitor"] == mon.name and world.sent[0][1]["version"] is None
    acked = world.alerts.acknowledge(alerts[0].id, "ana")
    assert acked.state is AlertState.ACKNOWLEDGED
    world.monitoring.ingest(mon.name, traffic(3000, 34, day=3))
    assert {a.state for a in world.alerts.list(mon)} == {AlertState.RESOLVED}
    assert world.alerts.flush()
    assert [p["state"] for _, p in world.sent[2:]] == ["resolved", "resolved"]  # resolutions are sent too
    log = world.store.list_alert_notifications(alerts[0].id)
    assert [n.channel for n in log] == ["slack:https://hooks.example/…"] * 2 and all(n.ok for n in log)
    assert rule.for_windows == 2


def test_bad_rules_and_monitors_are_refused(world: World) -> None:
    mon = world.monitor()
    with pytest.raises(InvalidInputError) as info:
        world.alerts.add_rule(mon, metric="drift.nope", above=1)
    assert info.value.field == "metric"
    with pytest.raises(InvalidInputError) as info:
        world.alerts.add_rule(mon, metric="drift.psi", feature="height", above=0.2)
    assert info.value.field == "feature"
    with pytest.raises(InvalidInputError) as info:
        world.monitor(segments=["age <"])
    assert info.value.field == "segments"
    with pytest.raises(InvalidInputError) as info:
        world.monitoring.ingest(mon.name, traffic(10, 5).set_column(5, "timestamp", pa.array(["x"] * 10)))
    assert info.value.field == "timestamp"


def test_delete_removes_the_monitor_and_everything_it_kept(world: World) -> None:
    mon = world.monitor()
    world.alerts.add_rule(mon, metric="rows", below=10)
    world.monitoring.ingest(mon.name, traffic(200, 40))
    world.monitoring.delete(mon.name)
    with pytest.raises(NotFoundError):
        world.store.get_monitor(mon.name)
    assert world.store.list_windows(mon.id, "day", segment=None) == []
    assert world.store.list_alert_rules(mon.id) == []


def test_wrong_types_all_null_columns_and_out_of_order_times_are_kept_and_counted(world: World) -> None:
    mon = world.monitor()
    later, earlier = traffic(300, 50, day=3), traffic(300, 51, day=1)
    world.monitoring.ingest(mon.name, later)
    world.monitoring.ingest(mon.name, earlier)  # an older day arrives after a newer one: its own window
    starts = [w.start for w in world.store.list_windows(mon.id, "day")]
    assert starts == [T0 + DAY, T0 + 3 * DAY]
    odd = traffic(200, 52, day=3)
    odd = odd.set_column(odd.column_names.index("age"), "age", pa.array([str(x) for x in range(200)]))
    odd = odd.set_column(odd.column_names.index("income"), "income", pa.nulls(200, pa.float64()))
    out = world.monitoring.ingest(mon.name, odd)
    assert out.violations["age: wrong type"] == 200
    assert out.violations["income: null"] == 200
    day3 = world.store.list_windows(mon.id, "day")[-1]
    assert day3.rows == 500
    report = build_report(world.store, mon)
    income = next(c for c in report["overall"]["columns"] if c["column"] == "income")
    assert income["missing_rate_cur"] > 0.2  # the all-null batch shows as missing values
