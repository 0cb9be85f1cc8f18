"""Profiles computed in Spark (``local[2]``, ``mltrail.spark.profile``) against the same data profiled here;
drift reports from Spark DataFrames and Hive-partitioned Parquet; a nightly Spark job feeding a monitor; the
monitor's raw lake read by Spark."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_monitor_profiles import DAY, T0, World, traffic

import mltrail
import mltrail.spark
from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.labels import performance_updates
from mltrail.services.monitoring.report import build_report
from mltrail.services.monitoring.spark_profile import partition_profiles
from mltrail.stats.profile import DatasetProfile, profile_batches
from mltrail.store.monitoring import LabelMatch

COLUMNS = ["age", "income", "country", "plan_pro", "visits"]


def data(n: int, seed: int, *, shift: float = 0.0, day: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    age = rng.normal(40 + shift * 10, 10, n)
    age[rng.random(n) < 0.01] = np.nan
    visits = rng.poisson(3, n).astype(object)
    visits[rng.random(n) < 0.05] = None
    country = rng.choice(["DE", "FR", "ES", "IT"], n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    country[rng.random(n) < 0.02] = None
    seconds = T0 + day * DAY + rng.uniform(0, 2 * DAY - 1, n)
    return pa.table(
        {
            "age": pa.array(age, pa.float64()),
            "income": rng.lognormal(10, 0.5 + shift * 0.2, n),
            "country": pa.array(country, pa.string()),
            "plan_pro": rng.random(n) < 0.3,
            "visits": pa.array(visits, pa.int64()),
            "timestamp": pa.array((seconds * 1e6).astype(np.int64), pa.timestamp("us", tz="UTC")),
        }
    )


def _parquet(table: pa.Table, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=4000)
    return str(path)


def _same_counts(local: DatasetProfile, remote: DatasetProfile) -> None:
    assert remote.rows == local.rows and list(remote.columns) == list(local.columns)
    for name, want in local.columns.items():
        got = remote.columns[name]
        assert (got.kind, got.count, got.nulls, got.nan, got.infinite, got.absent) == (
            want.kind,
            want.count,
            want.nulls,
            want.nan,
            want.infinite,
            want.absent,
        ), name
        if want.numeric is not None:
            a, b = want.numeric, got.numeric
            assert b is not None and (b.count, b.min, b.max) == (a.count, a.min, a.max)
            assert math.isclose(b.mean, a.mean, rel_tol=1e-9) and math.isclose(b.m2, a.m2, rel_tol=1e-9)
            for q in (0.1, 0.5, 0.9):  # within the sketches' rank error (ties: a discrete column's)
                value = b.kll.get_quantile(q)
                low, high = a.kll.get_rank(value, inclusive=False), a.kll.get_rank(value, inclusive=True)
                assert low - 0.02 < q < high + 0.02, (name, q)
        if want.categories is not None:
            assert got.categories is not None
            assert got.categories.frequencies() == want.categories.frequencies()


def test_a_partitions_profiles_are_the_profile_of_its_rows() -> None:
    table = data(20_000, 1)
    batches = table.to_batches(max_chunksize=3000)
    out = pa.Table.from_batches(list(partition_profiles(batches, columns=COLUMNS)))
    assert out.num_rows == 1 and math.isnan(out.column("window")[0].as_py())
    _same_counts(
        profile_batches(table, columns=COLUMNS), DatasetProfile.from_bytes(out.column("profile")[0].as_py())
    )


def test_spark_profiles_equal_the_local_profile(spark: Any, tmp_path: Path) -> None:
    table = data(30_000, 2)
    df = spark.read.parquet(_parquet(table, tmp_path / "d.parquet")).repartition(4)
    profile = mltrail.spark.profile(df, columns=[*COLUMNS, "absent_column"])
    assert isinstance(profile, DatasetProfile)
    _same_counts(profile_batches(table, columns=[*COLUMNS, "absent_column"]), profile)
    assert profile["absent_column"].absent == 30_000
    with pytest.raises(InvalidInputError) as info:
        mltrail.spark.profile(df, segments=["nope"])
    assert info.value.field == "columns"
    with pytest.raises(InvalidInputError) as info:
        mltrail.spark.profile(table)
    assert info.value.field == "df"


def test_windows_and_segments_in_spark(spark: Any, tmp_path: Path) -> None:
    table = data(12_000, 3)
    df = spark.read.parquet(_parquet(table, tmp_path / "d.parquet")).repartition(3)
    daily = mltrail.spark.profile(df, columns=COLUMNS, segments=["country", "age < 30"], window="day")
    assert isinstance(daily, dict) and sorted(daily) == [T0, T0 + DAY]
    seconds = table.column("timestamp").cast(pa.int64()).to_numpy() / 1e6
    starts = np.floor(seconds / DAY) * DAY
    countries = np.array(table.column("country").to_pylist(), dtype=object)
    ages = table.column("age").to_numpy(zero_copy_only=False)
    for start, profile in daily.items():
        rows = starts == start
        assert profile.rows == int(rows.sum()) and "timestamp" not in profile.columns
        assert sorted(profile.segments) == ["age < 30", "country"]
        assert sorted(profile.segments["country"]) == ["country=DE", "country=ES", "country=FR", "country=IT"]
        de = profile.segments["country"]["country=DE"]
        assert de is not None and de.rows == int((rows & (countries == "DE")).sum())
        young = profile.segments["age < 30"]["age < 30"]
        assert young is not None and young.rows == int((rows & (ages < 30)).sum())
        local = profile_batches(table.filter(pa.array(rows)), columns=COLUMNS)
        _same_counts(local, DatasetProfile(profile.rows, profile.columns))


def _findings(report: Any) -> dict[str, tuple[bool, float]]:
    return {c["column"]: (c["drifted"], c["statistic"]) for c in report.to_dict()["columns"]}


def test_drift_report_of_spark_frames_finds_what_pandas_finds(spark: Any, tmp_path: Path) -> None:
    reference, current = (
        data(40_000, 4).drop_columns(["timestamp"]),
        data(40_000, 5, shift=1.0).drop_columns(["timestamp"]),
    )
    here = mltrail.drift_report(reference.to_pandas(), current.to_pandas())
    ref_df = spark.read.parquet(_parquet(reference, tmp_path / "ref.parquet")).repartition(4)
    cur_df = spark.read.parquet(_parquet(current, tmp_path / "cur.parquet")).repartition(4)
    there = mltrail.drift_report(ref_df, cur_df)
    assert there.drifted_columns == here.drifted_columns and "age" in there.drifted_columns
    assert "country" not in there.drifted_columns
    mine, theirs = _findings(here), _findings(there)
    assert mine.keys() == theirs.keys()
    for column, (drifted, statistic) in mine.items():
        assert theirs[column][0] == drifted
        # label counts are exact; Wasserstein distances read KLL sketches merged in another order
        assert math.isclose(theirs[column][1], statistic, rel_tol=0.1, abs_tol=0.005), column


def test_drift_report_of_a_hive_partitioned_lake_with_filters(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    days = {"2026-01-01": data(5000, 6), "2026-01-02": data(5000, 7), "2026-01-03": data(5000, 8, shift=1.0)}
    for day, table in days.items():
        _parquet(table, root / "monitor=churn" / f"day={day}" / "part-0.parquet")
    report = mltrail.drift_report(
        root,
        str(root),
        reference_filter=[("day", "<", "2026-01-03")],
        current_filter=[("day", "=", "2026-01-03")],
    )
    expected = mltrail.drift_report(
        pa.concat_tables([days["2026-01-01"], days["2026-01-02"]]), days["2026-01-03"]
    )
    assert report.reference.rows == 10_000 and report.current.rows == 5000
    assert "day" not in report.reference.columns and "monitor" not in report.reference.columns
    assert report.drifted_columns == expected.drifted_columns and "age" in report.drifted_columns
    one_day = mltrail.drift_report(root / "monitor=churn" / "day=2026-01-01", days["2026-01-02"])
    assert list(one_day.reference.columns) == days["2026-01-01"].column_names  # a folder without partitions
    with pytest.raises(InvalidInputError) as info:
        mltrail.drift_report(root, root, current_filter="day is today")
    assert info.value.field == "filter"


@pytest.fixture
def world(tmp_path: Path) -> Any:
    w = World(f"sqlite:///{tmp_path / 'store' / 'mltrail.db'}", tmp_path)
    yield w
    w.alerts.close()
    w.store.close()


def test_a_nightly_spark_job_feeds_a_monitor_and_reads_its_lake(
    spark: Any, world: World, tmp_path: Path
) -> None:
    mon = world.monitor(segments=["country"])
    rows = pa.concat_tables([traffic(3000, 20, day=0), traffic(3000, 21, shift=1.5, day=1)])
    world.monitoring.ingest(mon.name, rows)  # the raw rows land in the lake too
    lake = spark.read.parquet(str(Path(world.monitoring.lake_url(mon.name)).parent))
    assert lake.where(lake.day == "2025-12-02").count() == 3000
    assert {r["monitor"] for r in lake.select("monitor").distinct().collect()} == {mon.name}

    # the nightly job: Spark profiles the lake per day and segment, the monitor takes the profiles
    job = world.monitor(segments=["country"])
    traffic_df = lake.drop("monitor", "day")
    for start, profile in mltrail.spark.profile(traffic_df, segments=["country"], window="day").items():
        world.monitoring.log_profile(job.name, profile, window_start=start)
    a, b = build_report(world.store, mon), build_report(world.store, job)
    assert [w["rows"] for w in b["windows"]] == [w["rows"] for w in a["windows"]] == [3000, 3000]
    assert [w["drifted"] for w in b["windows"]] == [w["drifted"] for w in a["windows"]]
    assert "age" in b["windows"][1]["drifted"]
    assert sorted(b["segments"]) == sorted(a["segments"])


def test_performance_accumulated_in_spark_equals_the_labels_own(
    spark: Any, world: World, tmp_path: Path
) -> None:
    rows = pa.concat_tables([traffic(3000, 30, day=0), traffic(3000, 31, day=1)])
    rng = np.random.default_rng(32)
    truth = (rows.column("age").to_numpy() + rng.normal(0, 8, rows.num_rows) > 40).astype(np.int64)
    score = 1 / (1 + np.exp(-(rows.column("age").to_numpy() - 40) / 5))
    rows = rows.append_column("churned", pa.array(truth)).append_column("score", pa.array(score))
    df = spark.read.parquet(_parquet(rows, tmp_path / "labelled.parquet")).repartition(3)
    found = mltrail.spark.performance(df, label="churned", score="score", segments=["country"], window="day")
    assert sorted(found) == [T0, T0 + DAY]

    times = rows.column("timestamp").to_numpy()
    countries = rows.column("country").to_pylist()
    matches = [
        LabelMatch(str(i), float(t), float(s), str(p), str(y), float(y), (f"country={c}",))
        for i, (t, s, p, y, c) in enumerate(
            zip(times, score, rows.column("prediction").to_pylist(), truth, countries, strict=True)
        )
    ]
    expected = performance_updates(matches, "classification")["day"]
    for start, by_segment in found.items():
        assert sorted(by_segment) == sorted(seg for seg, s in expected if s == start)
        for segment, acc in by_segment.items():
            want = expected[(segment, start)]
            assert (acc["n"], acc["confusion"], acc["pos_hist"], acc["neg_hist"]) == (
                want["n"],
                want["confusion"],
                want["pos_hist"],
                want["neg_hist"],
            )
            assert math.isclose(acc["logloss_sum"], want["logloss_sum"], rel_tol=1e-9)

    # a monitor takes them beside the windows' profiles, and reports the same figures as labels would
    mon = world.monitor(segments=["country"])
    for start, profile in mltrail.spark.profile(
        df, columns=["age", "income", "country", "prediction"], segments=["country"], window="day"
    ).items():
        world.monitoring.log_profile(mon.name, profile, window_start=start)
    for start, accumulators in found.items():
        world.monitoring.log_performance(mon.name, accumulators, window_start=start)
    perf = world.monitoring.labelled_performance(mon.name, since=T0, until=T0 + 2 * DAY)
    assert perf["labeled"] == 6000 and perf["accuracy"] == pytest.approx(
        float((rows.column("prediction").to_numpy() == truth).mean())
    )
    de = world.monitoring.labelled_performance(mon.name, segment="country=DE", since=T0, until=T0 + 2 * DAY)
    assert de["labeled"] == countries.count("DE")
    with pytest.raises(InvalidInputError) as info:
        world.monitoring.log_performance(mon.name, {"plan=pro": {"n": 1}}, window_start=T0)
    assert info.value.field == "accumulators"


def test_the_session_runs_with_the_small_driver_settings(spark: Any) -> None:
    """mltrail.spark.DRIVER_1GB as the JVM took them (a setting Spark ignored or refused would not show)."""
    from mltrail.spark import DRIVER_1GB

    conf = spark.sparkContext.getConf()
    for key, value in DRIVER_1GB.items():
        assert value in conf.get(key)  # Spark puts its own Java options before ours
    runtime = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    arguments = list(runtime.getInputArguments())
    assert "-XX:+UseSerialGC" in arguments and "-Xmx480m" in arguments
