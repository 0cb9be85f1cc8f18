"""Monitors fed with profiles instead of rows (``MonitoringService.log_profile``), on SQLite and PostgreSQL;
and the raw batches' Hive-partitioned lake, read back with pyarrow."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from mltrail.entities import AlertState, Monitor
from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.alerts import AlertService
from mltrail.services.monitoring.performance import accumulate
from mltrail.services.monitoring.report import build_report
from mltrail.services.monitoring.segments import profile_reference
from mltrail.services.monitoring.service import MonitoringService
from mltrail.stats.profile import profile_batches
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store
from mltrail.store.monitoring import LabelMatch

DAY = 86400.0
T0 = 1_764_547_200.0  # 2025-12-01 00:00 UTC


def traffic(n: int, seed: int, *, shift: float = 0.0, day: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    age = rng.normal(40 + shift * 10, 10, n)
    return pa.table(
        {
            "age": age,
            "income": rng.lognormal(10, 0.5, n),
            "country": rng.choice(["DE", "FR", "ES"], n, p=[0.5, 0.3, 0.2]),
            "prediction": (age > 40).astype(np.int64),
            "timestamp": T0 + day * DAY + rng.uniform(0, DAY - 1, n),
            "id": [f"{seed}-{i}" for i in range(n)],
        }
    )


class World:
    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.store = open_store(db_url)
        self.alerts = AlertService(self.store, notifier=lambda channel, payload: (True, 200, None))
        self.blobs = BlobStore(str(tmp_path / "blobs"))
        self.monitoring = MonitoringService(self.store, self.blobs, after_ingest=self.alerts.evaluate)

    def monitor(self, **options: Any) -> Monitor:
        reference = traffic(5000, 1).drop_columns(["timestamp", "id"])
        return self.monitoring.create_monitor(
            f"mon-{uuid.uuid4().hex[:8]}",
            project="p",
            reference=profile_reference(reference, options.get("segments", ())),
            reference_source="test",
            features=["age", "income", "country"],
            **options,
        )


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(db_url, tmp_path)
    yield w
    w.alerts.close()
    w.store.close()


def test_a_profile_gives_the_windows_the_rows_would(world: World) -> None:
    by_rows, by_profile = world.monitor(), world.monitor()
    for day, shift in ((0, 0.0), (1, 1.0)):
        rows = traffic(6000, 10 + day, shift=shift, day=day)
        logged = world.monitoring.ingest(by_rows.name, rows)
        profile = profile_batches(rows.drop_columns(["timestamp", "id"]))
        done = world.monitoring.log_profile(by_profile.name, profile, window_start=T0 + day * DAY)
        assert done.rows == 6000 and done.windows == (T0 + day * DAY,)
        assert done.violations.keys() == logged.violations.keys()  # counts: exact, ranges from sketches
    a, b = build_report(world.store, by_rows), build_report(world.store, by_profile)
    assert [w["rows"] for w in a["windows"]] == [w["rows"] for w in b["windows"]] == [6000, 6000]
    assert [w["drifted"] for w in b["windows"]] == [w["drifted"] for w in a["windows"]]
    assert "age" in b["windows"][1]["drifted"] and "age" not in b["windows"][0]["drifted"]
    # no raw rows came with the profile
    assert world.monitoring.read_raw(by_profile.name).num_rows == 0


def test_a_profile_feeds_validation_segments_and_alerts(world: World) -> None:
    mon = world.monitor(segments=["country"])
    world.alerts.add_rule(mon, metric="drift.psi", feature="age", above=0.2)
    rows = traffic(4000, 7, shift=1.5).drop_columns(["timestamp", "id", "income"])  # income missing
    rows = rows.set_column(0, "age", pa.array([None, *rows.column("age").to_pylist()[1:]], pa.float64()))
    profile = profile_reference(rows, ["country"])
    done = world.monitoring.log_profile(mon.name, profile, window_start=T0)
    assert done.violations["income: missing column"] == 4000
    assert done.violations["age: null"] == 1
    assert "age: above max" in done.violations  # from the sketch's ranks: the shift pushed values past it
    report = build_report(world.store, mon)
    assert sorted(report["segments"]) == ["country=DE", "country=ES", "country=FR"]
    rows_de = sum(1 for c in rows.column("country").to_pylist() if c == "DE")
    assert report["segments"]["country=DE"]["windows"][0]["rows"] == rows_de
    opened = world.alerts.list(mon)
    assert [a.state for a in opened] == [AlertState.OPEN] and opened[0].feature == "age"


def test_a_segment_profile_an_hour_and_retries(world: World) -> None:
    mon = world.monitor(segments=["country"], granularity="hour")
    profile = profile_batches(traffic(500, 3).drop_columns(["timestamp", "id"]))
    done = world.monitoring.log_profile(
        mon.name, profile, window_start=T0 + 3600, segment="country=DE", batch_key="k1"
    )
    assert done.windows == (T0 + 3600,)
    assert world.store.list_windows(mon.id, "hour", segment="", profiles=False) == []  # only the segment's
    again = world.monitoring.log_profile(
        mon.name, profile, window_start=T0 + 3600, segment="country=DE", batch_key="k1"
    )
    assert again.duplicate
    windows = world.store.list_windows(mon.id, "hour", segment="country=DE", profiles=False)
    assert [(w.start, w.rows) for w in windows] == [(T0 + 3600, 500)]
    days = world.store.list_windows(mon.id, "day", segment="country=DE", profiles=False)
    assert [(w.start, w.rows) for w in days] == [(T0, 500)]


def test_performance_retried_with_its_key_counts_once(world: World) -> None:
    mon = world.monitor(segments=["country"], granularity="hour")
    rows = traffic(400, 4).drop_columns(["timestamp", "id"])
    world.monitoring.log_profile(
        mon.name, profile_reference(rows, ["country"]), window_start=T0, batch_key="k"
    )
    acc = accumulate(
        [LabelMatch(str(i), T0, None, "1", str(i % 2), i % 2) for i in range(400)], "classification"
    )
    done = world.monitoring.log_performance(
        mon.name,
        {"": acc, "country=DE": acc},
        window_start=T0,
        batch_key="k",  # the profile's key too
    )
    assert (done.windows, done.duplicate) == ((T0,), False)  # a profile's key is not a performance's
    again = world.monitoring.log_performance(
        mon.name, {"": acc, "country=DE": acc}, window_start=T0, batch_key="k"
    )
    assert (again.windows, again.duplicate) == ((), True)
    for granularity in ("hour", "day"):
        for segment in ("", "country=DE"):
            (window,) = world.store.list_windows(mon.id, granularity, segment=segment, profiles=False)
            assert window.performance["n"] == 400, (granularity, segment)
    # another key, or none, is another call
    assert not world.monitoring.log_performance(
        mon.name, {"": acc}, window_start=T0, batch_key="k2"
    ).duplicate
    assert not world.monitoring.log_performance(mon.name, {"": acc}, window_start=T0).duplicate
    assert world.monitoring.labelled_performance(mon.name, since=T0, until=T0 + DAY)["labeled"] == 1200


@pytest.mark.parametrize(
    ("options", "call", "field"),
    [
        ({}, {"window_start": T0 + 5}, "window_start"),
        ({}, {"window_start": -DAY}, "window_start"),
        ({}, {"window_start": T0, "segment": "country=DE"}, "segment"),
        ({"granularity": "hour"}, {"window_start": T0, "granularity": "day"}, "granularity"),
        ({}, {"window_start": T0, "granularity": "week"}, "granularity"),
    ],
)
def test_a_bad_profile_call_names_its_field(
    world: World, options: dict[str, Any], call: dict[str, Any], field: str
) -> None:
    mon = world.monitor(**options)
    profile = profile_batches(traffic(100, 2).drop_columns(["timestamp", "id"]))
    with pytest.raises(InvalidInputError) as info:
        world.monitoring.log_profile(mon.name, profile, **call)
    assert info.value.field == field
    assert world.store.list_windows(mon.id, "day", profiles=False) == []


def test_raw_batches_form_a_hive_lake_pyarrow_reads(world: World) -> None:
    mon = world.monitor()
    batch = pa.concat_tables([traffic(300, 4, day=0), traffic(200, 5, day=2)])
    world.monitoring.ingest(mon.name, batch)
    world.monitoring.ingest(mon.name, batch)  # a replay: the same files, not new ones
    url = world.monitoring.lake_url(mon.name)
    assert url == str(Path(world.blobs.root) / "lake" / f"monitor={mon.name}")
    days = sorted(p.name for p in Path(url).iterdir())
    assert days == ["day=2025-12-01", "day=2025-12-03"]
    assert all(len(list((Path(url) / d).glob("*.parquet"))) == 1 for d in days)
    lake = ds.dataset(str(Path(url).parent), format="parquet", partitioning="hive")
    table = lake.to_table(filter=ds.field("day") == "2025-12-03")
    assert table.num_rows == 200 and set(table.column("monitor").to_pylist()) == {mon.name}
    assert sorted(table.column("id").to_pylist()) == sorted(traffic(200, 5, day=2).column("id").to_pylist())
    assert world.monitoring.read_raw(mon.name).num_rows == 1000  # drill-down reads the lake (both indexed)
    world.monitoring.delete(mon.name)
    assert not Path(url).exists()
