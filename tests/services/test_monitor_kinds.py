"""A column that changes kind in the middle of a window is kept and reported, never a failed merge (issue
13), on SQLite and PostgreSQL: numbers arriving as text and back, a monitor of an alias whose new version
outputs labels where the old one gave codes (both orders), and a kind no value of which can be read."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from test_monitoring import DAY, T0, World, traffic, world  # noqa: F401  (the fixture)

from mltrail.render.html_report import render_report_html
from mltrail.services.monitoring.report import build_report
from mltrail.services.monitoring.service import MonitoringService
from mltrail.stats.profile import DatasetProfile, profile_batches


def _as_text(table: pa.Table, column: str) -> pa.Table:
    values = table.column(column)
    if pa.types.is_floating(values.type):
        values = pc.round(values, 1)
    return table.set_column(table.column_names.index(column), column, pc.cast(values, pa.string()))


def _day(w: World, mon_id: int) -> DatasetProfile:
    return DatasetProfile.from_bytes(w.store.list_windows(mon_id, "day")[0].profile)


def test_numbers_as_text_and_labels_as_numbers_are_kept_in_the_windows_kind(world: World) -> None:  # noqa: F811
    mon = world.monitor()
    world.monitoring.ingest(mon.name, traffic(300, 1))
    odd = _as_text(traffic(200, 2), "age")  # "41.3": numbers sent as text
    odd = odd.set_column(odd.column_names.index("country"), "country", pa.array([7] * 200))  # codes
    out = world.monitoring.ingest(mon.name, odd)
    assert out.violations["age: wrong type"] == 200  # reported by validation…
    day = _day(world, mon.id)
    assert day.columns["age"].kind == "numeric" and day.columns["age"].valid == 500  # …and kept
    assert day.columns["country"].categories is not None
    assert day.columns["country"].categories.frequencies()[0]["7"] == 200
    words = _as_text(traffic(100, 3), "age")
    words = words.set_column(words.column_names.index("age"), "age", pa.array(["old"] * 50 + ["12"] * 50))
    world.monitoring.ingest(mon.name, words)
    assert _day(world, mon.id).columns["age"].valid == 550  # "12" read as a number, "old" cannot be


@pytest.mark.parametrize("codes_first", [True, False])
def test_a_reference_of_another_output_kind_within_a_window_merges(
    world: World,  # noqa: F811
    codes_first: bool,
) -> None:
    def batch(seed: int, *, labels: bool) -> pa.Table:
        rows = traffic(400, seed)
        return _as_text(rows, "prediction") if labels else rows

    first = batch(1, labels=not codes_first).drop_columns(["timestamp", "id", "score"])
    mon = world.monitoring.create_monitor(
        f"mon-{uuid.uuid4().hex[:8]}",
        project="p",
        reference=profile_batches(first),
        reference_source="given",
        features=["age", "income", "country"],
        model="churn",
        version=1,
    )
    world.monitoring.ingest(mon.name, batch(2, labels=not codes_first))
    # In the afternoon the alias moves to v2, whose reference gives the output in the other kind.
    second = batch(3, labels=codes_first).drop_columns(["timestamp", "id", "score"])
    world.store.rebind_monitor(
        mon.name,
        expected_version=1,
        version=2,
        run_id=None,
        training_metrics={},
        since=T0 + 12 * 3600,
        reference=profile_batches(second).to_bytes(),
        reference_source="given v2",
    )
    server = MonitoringService(world.store, world.monitoring.blobs, cache=False)
    later = batch(4, labels=codes_first)
    out = server.ingest(mon.name, later)  # the same day window: merged, not a TypeError
    assert out.rows == 400
    day = _day(world, mon.id)
    assert day.rows == 800 and day.columns["prediction"].valid == 800  # both batches' outputs kept
    server.ingest(
        mon.name, batch(5, labels=codes_first).set_column(5, "timestamp", pa.array([T0 + DAY] * 400))
    )
    report = build_report(world.store, world.store.get_monitor(mon.name))  # reads both kinds' windows
    assert report["period"]["windows"] == 2 and report["current_rows"] == 1200


def test_a_kind_that_cannot_be_read_is_kept_beside_and_reported(world: World) -> None:  # noqa: F811
    mon = world.monitor()
    world.monitoring.ingest(mon.name, traffic(300, 1))
    # The schema now says age holds labels: the window holds numbers, the next batch words.
    schema = {**mon.schema, "columns": {**mon.schema["columns"], "age": {"kind": "categorical"}}}
    world.monitoring.update(mon.name, schema=schema)
    words = traffic(200, 2)
    words = words.set_column(words.column_names.index("age"), "age", pa.array(["young", "old"] * 100))
    world.monitoring.ingest(mon.name, words)
    day = _day(world, mon.id)
    assert day.rows == 500 and day.columns["age"].kind == "numeric"
    assert day.columns["age⟂categorical"].count == 200  # kept beside, in its own kind
    report = build_report(world.store, world.store.get_monitor(mon.name))
    assert report["kind_changes"] == [{"column": "age", "kind": "categorical", "rows": 200, "windows": [T0]}]
    shown = "Kept in another kind beside the column (not drift-tested): age as categorical: 200 rows"
    assert shown in render_report_html(report)
