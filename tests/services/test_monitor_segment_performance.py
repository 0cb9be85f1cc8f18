"""Performance per segment once labels arrive (issue 13), on SQLite and PostgreSQL: a label updates the
windows of every segment its prediction fell in (value and rule segments, day and hour windows), the
report gives each segment's figures, and an alert rule on a performance metric of one segment fires."""

from __future__ import annotations

import pyarrow as pa
import pytest
from test_monitoring import T0, World, traffic, world  # noqa: F401  (the fixture)

from mltrail.render.html_report import render_report_html
from mltrail.services.monitoring.report import build_report


def _labels(batch: pa.Table, wrong_in: str) -> list[int]:
    """The true classes: right everywhere except for half the predictions of ``wrong_in``."""
    truth = batch.column("prediction").to_pylist()
    countries = batch.column("country").to_pylist()
    flip = 0
    for i, country in enumerate(countries):
        if country == wrong_in:
            flip += 1
            if flip % 2:
                truth[i] = 1 - truth[i]
    return truth


def test_labels_give_each_segment_its_own_performance_and_alerts(world: World) -> None:  # noqa: F811
    mon = world.monitor(segments=["country", "age < 30"])
    rule_de = world.alerts.add_rule(mon, metric="performance.accuracy", segment="country=DE", below=0.8)
    world.alerts.add_rule(mon, metric="performance.accuracy", segment="country=FR", below=0.8)
    batch = traffic(3000, 7)
    world.monitoring.ingest(mon.name, batch)
    truth = _labels(batch, "DE")
    matched, _ = world.monitoring.log_labels(mon.name, batch.column("id").to_pylist(), truth)
    assert matched == 3000

    report = build_report(world.store, world.store.get_monitor(mon.name))
    segments = report["segments"]
    de, fr = segments["country=DE"]["performance"], segments["country=FR"]["performance"]
    n_de = batch.column("country").to_pylist().count("DE")
    assert de["labeled"] == n_de and de["accuracy"] == pytest.approx(0.5, abs=0.01)
    assert fr["accuracy"] == 1.0 and segments["country=ES"]["performance"]["accuracy"] == 1.0
    young = sum(a < 30 for a in batch.column("age").to_pylist())
    assert segments["age < 30"]["performance"]["labeled"] == young
    assert segments["country=DE"]["windows"][0]["performance"]["labeled"] == n_de
    # all traffic is unchanged: every label counts once there
    assert report["performance"]["overall"]["labeled"] == 3000
    # hour windows of a segment carry their labels too
    hours = world.store.list_windows(mon.id, "hour", segment="country=DE")
    assert sum(int(w.performance.get("n", 0)) for w in hours) == n_de

    alerts = world.alerts.list(mon)
    assert [(a.rule_id, a.segment) for a in alerts] == [(rule_de.id, "country=DE")]
    assert alerts[0].value == pytest.approx(0.5, abs=0.01)

    page = render_report_html(report)
    assert "Performance" in page and f"{n_de:,} labeled" in page


def test_a_rule_on_segment_performance_added_later_sees_the_labels_already_in(world: World) -> None:  # noqa: F811
    mon = world.monitor(segments=["country"])
    for day in range(2):
        batch = traffic(1500, 20 + day, day=day)
        world.monitoring.ingest(mon.name, batch)
        world.monitoring.log_labels(mon.name, batch.column("id").to_pylist(), _labels(batch, "FR"))
    world.monitoring.clock = lambda: T0 + 2 * 86400.0  # the alert horizon ends at the last window
    world.alerts.clock = world.monitoring.clock
    world.alerts.add_rule(mon, metric="performance.accuracy", segment="country=FR", below=0.8, for_windows=2)
    assert [a.segment for a in world.alerts.list(mon, state="open")] == ["country=FR"]


def test_a_segments_period_is_counted_from_the_window_figures_its_charts_and_rules_read(
    world: World,  # noqa: F811
) -> None:
    mon = world.monitor(segments=["country"])
    for day in range(4):
        world.monitoring.ingest(mon.name, traffic(3000, 40 + day, shift=2.0 if day == 2 else 0.0, day=day))
    report = build_report(world.store, world.store.get_monitor(mon.name))
    for name, seg in report["segments"].items():
        drifted = {c for w in seg["windows"] for c in w["drifted"]}
        assert set(seg["drifted_columns"]) == drifted, name
        shares = [w["share_drifted"] for w in seg["windows"]]
        assert seg["share_drifted"] == max(shares), name
        assert seg["rows"] == sum(w["rows"] for w in seg["windows"])
    de = report["segments"]["country=DE"]
    assert "age" in de["drifted_columns"] and de["windows_drifted"] == 1
    assert [bool(w["drifted"]) for w in de["windows"]] == [False, False, True, False]


def test_labels_leave_the_kept_drift_figures_fresh(world: World) -> None:  # noqa: F811
    mon = world.monitor(segments=["country"])
    batch = traffic(1000, 9)
    world.monitoring.ingest(mon.name, batch)
    world.monitoring.log_labels(mon.name, batch.column("id").to_pylist(), _labels(batch, "DE"))
    windows = world.store.list_windows(mon.id, "day", segment=None)
    assert len(windows) == 4 and all(w.fresh_figures is not None for w in windows)  # nothing to recompute
    assert all(w.performance for w in windows)
