"""The output's reference and replacing a monitor's reference (issue 13), on SQLite and PostgreSQL: the
report says plainly when the output is compared with its first day of traffic, and ``set_reference``
(a profile, or a dataset a run logged) replaces the reference, the segment references and the source of
the version watched now, computes the kept figures again and evaluates the alert rules."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from test_monitoring import T0, World, traffic, world  # noqa: F401  (the fixture)

from mltrail.entities import MetricsBatch
from mltrail.errors import InvalidInputError
from mltrail.render.html_report import render_report_html
from mltrail.services.monitoring.report import build_report
from mltrail.services.monitoring.segments import profile_reference
from mltrail.services.tracking.datasets import DatasetService
from mltrail.services.tracking.fingerprint import fingerprint
from mltrail.services.tracking.service import TrackingService
from mltrail.stats.profile import DatasetProfile, profile_batches

FEATURES = ["age", "income", "country"]


def _from_training(w: World, **options: object) -> str:
    """A monitor whose reference is a training dataset's profile: no prediction column."""
    training = traffic(5000, 1).drop_columns(["timestamp", "id", "score", "prediction"])
    mon = w.monitoring.create_monitor(
        f"mon-{uuid.uuid4().hex[:8]}",
        project=f"p-{uuid.uuid4().hex[:6]}",
        reference=profile_batches(training),
        reference_source="train dataset churn-train v1",
        features=FEATURES,
        model="churn",
        version=1,
        **options,  # type: ignore[arg-type]
    )
    return mon.name


def _mostly_one(table: pa.Table) -> pa.Table:
    """Reference rows whose model said 1 nine times in ten: today's even mix drifts against it."""
    at = table.column_names.index("prediction")
    said = [0 if i % 10 == 0 else 1 for i in range(table.num_rows)]
    return table.set_column(at, "prediction", pc.cast(pa.array(said), pa.int64()))


def test_the_report_says_what_the_output_is_compared_with(world: World) -> None:  # noqa: F811
    name = _from_training(world)
    world.monitoring.ingest(name, traffic(1000, 2, day=0))
    pending = build_report(world.store, world.store.get_monitor(name))["reference"]["output"]
    assert pending["source"] == "pending" and "first whole day of traffic" in pending["statement"]
    world.monitoring.ingest(name, traffic(1000, 3, day=1))
    report = build_report(world.store, world.store.get_monitor(name))
    output = report["reference"]["output"]
    assert output["source"] == "launch_day" and output["day"] == "2025-12-01"
    assert "first day of traffic, 2025-12-01" in output["statement"]
    assert "A model wrong from day one looks normal" in output["statement"]
    assert f"mltrail monitor set-reference {name} --from-run RUN" in output["statement"]
    assert "first day of traffic, 2025-12-01" in render_report_html(report)
    given = world.monitor()  # a reference with the output
    assert build_report(world.store, given)["reference"]["output"]["source"] == "reference"


def test_set_reference_recomputes_figures_segments_history_and_alerts(world: World) -> None:  # noqa: F811
    name = _from_training(world, segments=["country"])
    for day in range(3):
        world.monitoring.ingest(name, traffic(2000, 10 + day, day=day))
    before = world.store.get_monitor(name)
    assert before.reference_source.endswith("prediction: traffic of 2025-12-01")
    rule = world.alerts.add_rule(before, metric="drift.psi", feature="prediction", above=0.2)
    assert world.alerts.list(before) == []  # the output looks like its own first day
    report = build_report(world.store, before)
    assert report["segment_reference"] == "whole" and all(
        "prediction" not in w["drifted"] for w in report["windows"]
    )

    rows = _mostly_one(traffic(6000, 99).drop_columns(["timestamp", "id", "score"]))
    updated = world.monitoring.set_reference(
        name, reference=profile_reference(rows, ["country"]), source="file wrong-day-one.parquet"
    )
    assert updated.reference_source == "file wrong-day-one.parquet"
    assert updated.versions[-1].reference_source == "file wrong-day-one.parquet"  # the version watched now
    kept = DatasetProfile.from_bytes(updated.reference)
    assert set(kept.columns) == {*FEATURES, "prediction"}  # the watched columns only
    # Every kept figure was computed again, against the new reference: the output drifts in each window.
    windows = world.store.list_windows(updated.id, "day", segment=None)
    assert windows and all(w.fresh_figures is not None for w in windows)
    assert all("prediction" in w.fresh_figures["drifted"] for w in windows if w.segment == "")  # type: ignore[index]
    report = build_report(world.store, updated)
    assert report["reference"]["output"]["source"] == "reference"
    assert report["segment_reference"] == "segment"  # each segment now meets its own slice of it
    assert report["segments"]["country=DE"]["reference"] == "segment"
    # hour windows' figures were forgotten too; a report by the hour computes them (profiles read again)
    hourly = build_report(world.store, updated, granularity="hour")["segments"]["country=DE"]
    assert len(hourly["windows"]) == 72 and "prediction" in hourly["drifted_columns"]
    # the rules were evaluated at the newest window
    assert [(a.rule_id, a.feature) for a in world.alerts.list(updated)] == [(rule.id, "prediction")]

    # A reference without the output: the first whole day of traffic completes it again.
    plain = traffic(3000, 5).drop_columns(["timestamp", "id", "score", "prediction"])
    again = world.monitoring.set_reference(name, reference=profile_batches(plain), source="file plain.csv")
    assert again.reference_source == "file plain.csv; prediction: traffic of 2025-12-01"
    assert "prediction" in DatasetProfile.from_bytes(again.reference).columns

    with pytest.raises(InvalidInputError) as info:
        world.monitoring.set_reference(
            name, reference=profile_batches(plain.drop_columns(["age"])), source="file bad.csv"
        )
    assert info.value.field == "reference" and "age" in info.value.message
    with pytest.raises(InvalidInputError):
        world.monitoring.set_reference(name, source="nothing")


def test_set_reference_from_a_run_takes_its_dataset_with_the_output(world: World) -> None:  # noqa: F811
    name = _from_training(world)
    for day in range(2):
        world.monitoring.ingest(name, traffic(1000, 30 + day, day=day))
    run_id = uuid.uuid4().hex
    tracking = TrackingService(world.store)
    tracking.start_run(run_id=run_id, project="p", name="eval", user="ana")
    tracking.log_metrics(run_id, MetricsBatch(["val/acc"], [0], [0.9], [T0], client_id="c", seq=1))
    datasets = DatasetService(world.store)
    train = traffic(3000, 40).select(FEATURES)
    holdout = _mostly_one(traffic(2000, 41).select([*FEATURES, "prediction"]))
    datasets.record(run_id, fingerprint(train, name="churn-train"), "train")
    datasets.record(run_id, fingerprint(holdout, name="churn-holdout"), "test")
    updated = world.monitoring.set_reference(name, run_id=run_id)
    assert updated.reference_source == f"run {run_id}: test dataset churn-holdout v1"
    assert DatasetProfile.from_bytes(updated.reference).columns["prediction"].count == 2000
    windows = build_report(world.store, updated)["windows"]
    assert all("prediction" in w["drifted"] for w in windows)

    empty = uuid.uuid4().hex
    tracking.start_run(run_id=empty, project="p", name="no-data", user="ana")
    with pytest.raises(InvalidInputError) as info:
        world.monitoring.set_reference(name, run_id=empty)
    assert info.value.field == "run"
