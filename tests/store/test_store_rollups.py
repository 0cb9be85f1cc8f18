"""Metric rollups: downsampled histories equal a brute-force reference; merged, recomputed and migrated
rollups equal freshly written ones; zoomed ranges never leak points; deleting a run deletes its rollups."""

from __future__ import annotations

import itertools
import math
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltrail.entities import MetricHistory, MetricsBatch
from mltrail.stats.downsample import minmax_downsample
from mltrail.store.factory import _config, open_store
from mltrail.store.sql import SqlStore

WIDTHS = [64 * 8 ** (level - 1) for level in range(1, 6)]
Point = tuple[int, Any]  # (step, value), NaN as the string "nan" so that sets compare


def new_run(store: SqlStore, project: str) -> str:
    run_id = uuid.uuid4().hex
    store.create_run(run_id=run_id, project=project, name="r", user=None, start_time=time.time())
    return run_id


def log(store: SqlStore, run_id: str, steps: Sequence[int], values: Sequence[float], key: str = "x") -> None:
    steps = [int(s) for s in steps]
    walls = [s * 0.5 for s in steps]
    store.log_metrics(run_id, MetricsBatch([key] * len(steps), steps, [float(v) for v in values], walls))


def history(n: int, seed: int) -> tuple[list[int], list[float]]:
    """``n`` points with gaps between steps, NaN runs, ±inf and one large spike."""
    rng = np.random.default_rng(seed)
    steps = np.cumsum(rng.choice([1, 1, 1, 2, 7, 100], size=n)).astype(np.int64) - 1
    values = rng.normal(size=n).cumsum()
    if n >= 10:
        values[rng.integers(0, n, size=max(1, n // 50))] = np.nan
        start = int(rng.integers(0, n - 5))
        values[start : start + 5] = np.nan  # a run of NaN, maybe a whole bucket
        values[int(rng.integers(0, n))] = np.inf
        values[int(rng.integers(0, n))] = -np.inf
        values[int(rng.integers(0, n))] = 1e9  # spike
    return steps.tolist(), values.tolist()


def as_point(step: int, value: float) -> Point:
    return (step, "nan" if math.isnan(value) else value)


def reference(
    steps: Sequence[int], values: Sequence[float], lo: int | None, hi: int | None, max_points: int
) -> tuple[set[Point], int]:
    """Brute force: the expected points of a downsampled read, and the points in the range."""
    inside = [
        (s, v)
        for s, v in sorted(zip(steps, values, strict=True))
        if (lo is None or s >= lo) and (hi is None or s <= hi)
    ]
    if len(inside) <= max_points:
        return {as_point(s, v) for s, v in inside}, len(inside)
    first, last = inside[0][0], inside[-1][0]
    n_buckets = (max_points - 2) // 2
    # The finest level whose buckets over the range are at most 8x the budget; `group` of its buckets merge.
    spans = [(w, last // w - first // w + 1) for w in WIDTHS]
    fitting = [(w, span) for w, span in spans if span <= 8 * n_buckets]
    finest = spans[0][1]
    if not fitting or (fitting[0][0] == WIDTHS[0] and finest < n_buckets and finest * WIDTHS[0] <= 262_144):
        keep = minmax_downsample(
            np.array([s for s, _ in inside]), np.array([v for _, v in inside]), max_points
        )
        return {as_point(*inside[i]) for i in keep.tolist()}, len(inside)
    width, span = fitting[0]
    group = -(-span // n_buckets)
    buckets: dict[int, list[tuple[int, float]]] = {}
    for s, v in inside:
        buckets.setdefault((s // width - first // width) // group, []).append((s, v))
    expected = {as_point(*inside[0]), as_point(*inside[-1])}
    for points in buckets.values():
        numbers = [(v, s) for s, v in points if not math.isnan(v)]
        if not numbers:
            expected.add(as_point(*points[0]))
            continue
        low = min(numbers)  # smallest value, then first step
        high = min((-v, s) for v, s in numbers)
        expected.add(as_point(low[1], low[0]))
        expected.add(as_point(high[1], -high[0]))
    return expected, len(inside)


def check(
    store: SqlStore,
    run_id: str,
    steps: Sequence[int],
    values: Sequence[float],
    max_points: int,
    lo: int | None = None,
    hi: int | None = None,
) -> MetricHistory:
    got = store.get_metric_history(run_id, "x", min_step=lo, max_step=hi, max_points=max_points)
    expected, total = reference(steps, values, lo, hi, max_points)
    assert {as_point(s, v) for s, v in zip(got.steps, got.values, strict=True)} == expected
    assert len(got.steps) == len(expected) <= max_points
    assert got.steps == sorted(set(got.steps))
    assert got.wall_times == [s * 0.5 for s in got.steps]
    assert got.total_points == total
    assert got.downsampled == (total > max_points)
    inside = [
        v for s, v in zip(steps, values, strict=True) if (lo is None or s >= lo) and (hi is None or s <= hi)
    ]
    numbers = [v for v in inside if not math.isnan(v)]
    if numbers and max_points >= 4:  # the range's extremes survive (2 or 3 points: first and last only)
        assert min(numbers) in got.values
        assert max(numbers) in got.values
    if got.steps:
        assert (lo is None or got.steps[0] >= lo) and (hi is None or got.steps[-1] <= hi)
    return got


def rollups(store: SqlStore, run_id: str, key: str = "x") -> list[tuple[Any, ...]]:
    """The key's rollup rows without the key id, so two runs' rollups compare."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT r.level, r.bucket, r.min_step, r.min_value, r.min_wall_time, r.max_step, r.max_value,"
                " r.max_wall_time, r.count, r.nan_count"
                " FROM metric_rollups r JOIN metric_keys k ON k.id = r.key_id"
                " WHERE k.run_id = :run AND k.key = :key ORDER BY r.level, r.bucket"
            ),
            {"run": run_id, "key": key},
        ).all()
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("n", [1, 63, 64, 65, 5_000, 120_000])
def test_downsampled_history_equals_reference(store: SqlStore, project: str, n: int) -> None:
    run_id = new_run(store, project)
    steps, values = history(n, seed=n)
    log(store, run_id, steps, values)
    for max_points in (2, 3, 10, 100, 1000):
        check(store, run_id, steps, values, max_points)


def test_empty_range(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    steps, values = history(5_000, seed=1)
    log(store, run_id, steps, values)
    got = check(store, run_id, steps, values, 100, lo=steps[-1] + 1)
    assert got.steps == [] and got.total_points == 0 and not got.downsampled
    assert check(store, run_id, steps, values, 100, lo=-(10**6), hi=-1).steps == []


def test_levels_and_spikes(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    steps = list(range(300_000))
    values = [0.0] * len(steps)
    for spike in (5, 64 * 100 + 3, 200_001, 299_999):
        values[spike] = 1.0 + spike
    values[150_000] = -1.0
    log(store, run_id, steps, values)
    # 1,000 points: 4,688 buckets of 64 steps exceed 8 x 499, so level 2 (586 buckets of 512 steps) in
    # groups of 2: 293 groups.
    got = check(store, run_id, steps, values, 1000)
    assert {5, 6403, 150_000, 200_001, 299_999} <= set(got.steps)
    assert len(got.steps) <= 2 * 293 + 2  # flat stretches give one point per group


def test_downsampling_uses_most_of_the_budget(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    steps = list(range(120_000))
    values = np.random.default_rng(11).normal(size=len(steps)).tolist()
    log(store, run_id, steps, values)
    got = check(store, run_id, steps, values, 1000)
    # 120,000 steps: 1,875 level-1 buckets in groups of 4 → 469 groups, each giving its min and max.
    assert 900 <= len(got.steps) <= 1000
    for max_points in (2, 4, 20, 200, 5000):
        check(store, run_id, steps, values, max_points)


def test_a_short_history_uses_the_budget_too(store: SqlStore, project: str) -> None:
    # 1,000 steps are 16 buckets of 64: the rollups alone gave 32 points where 200 were asked.
    run_id = new_run(store, project)
    steps = list(range(1000))
    values = np.random.default_rng(5).normal(size=len(steps)).tolist()
    log(store, run_id, steps, values)
    got = check(store, run_id, steps, values, 200)
    assert 180 <= len(got.steps) <= 200
    assert 90 <= len(check(store, run_id, steps, values, 100).steps) <= 100
    assert len(check(store, run_id, steps, values, 40).steps) > 32


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        (64, 127),  # exactly one level-1 bucket
        (63, 128),  # one point either side of it
        (0, 4095),
        (4096, 8192),
        (511, 70_000),
        (100, None),
        (None, 99_999),
        (1, 119_000),
        (32_768, 32_768 * 3 - 1),
        (-50, 10),
    ],
)
def test_zoomed_ranges(store: SqlStore, project: str, lo: int | None, hi: int | None) -> None:
    run_id = new_run(store, project)
    steps, values = history(120_000, seed=7)
    log(store, run_id, steps, values)
    for max_points in (2, 5, 40, 100, 1000):
        check(store, run_id, steps, values, max_points, lo, hi)


def test_edge_buckets_do_not_leak_points_outside_the_range(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    steps = list(range(10_000))
    values = [float(s % 7) for s in steps]
    values[999] = -100.0  # the global extremes sit just outside the range
    values[2001] = 100.0
    log(store, run_id, steps, values)
    got = check(store, run_id, steps, values, 20, lo=1000, hi=2000)
    assert -100.0 not in got.values and 100.0 not in got.values
    assert got.total_points == 1001
    assert got.steps[0] == 1000 and got.steps[-1] == 2000


def test_max_points_above_the_history_returns_it_all(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    steps, values = history(5_000, seed=3)
    log(store, run_id, steps, values)
    got = store.get_metric_history(run_id, "x", max_points=5_000)
    assert not got.downsampled and got.steps == steps and got.total_points == 5_000
    zoomed = store.get_metric_history(run_id, "x", min_step=steps[100], max_step=steps[199], max_points=100)
    assert not zoomed.downsampled and zoomed.steps == steps[100:200]


def test_batches_merge_to_the_rollups_of_one_batch(store: SqlStore, project: str) -> None:
    steps, values = history(20_000, seed=11)
    whole = new_run(store, project)
    log(store, whole, steps, values)
    pieces = new_run(store, project)
    rng = np.random.default_rng(0)
    cuts = sorted({0, len(steps), *rng.integers(1, len(steps), size=40).tolist(), 1, 2, 3})
    for start, end in itertools.pairwise(cuts):
        log(store, pieces, steps[start:end], values[start:end])
    assert rollups(store, pieces) == rollups(store, whole)
    assert len(rollups(store, whole)) > 300
    check(store, pieces, steps, values, 300)


def test_overwrites_recompute_the_rollups(store: SqlStore, project: str) -> None:
    steps, values = history(20_000, seed=5)
    run_id = new_run(store, project)
    log(store, run_id, steps, values)
    final = dict(zip(steps, values, strict=True))
    # Overwrite the extremes (they must disappear), a middle stretch with NaN, and go past the end.
    low, high = int(np.nanargmin(values)), int(np.nanargmax(values))
    rewrite = {steps[low]: 0.0, steps[high]: 0.5}
    rewrite.update(dict.fromkeys(steps[9_000:9_300], math.nan))
    rewrite.update({steps[-1] + d: float(d) for d in (1, 64, 5_000)})
    log(store, run_id, list(rewrite), list(rewrite.values()))
    final.update(rewrite)
    # A batch that rewrites one key and appends to another.
    store.log_metrics(
        run_id,
        MetricsBatch(["x", "y", "y"], [steps[100], 0, 1], [-7.0, 1.0, 2.0], [steps[100] * 0.5, 0.0, 0.5]),
    )
    final[steps[100]] = -7.0
    fresh = new_run(store, project)
    log(store, fresh, list(final), list(final.values()))
    assert rollups(store, run_id) == rollups(store, fresh)
    assert rollups(store, run_id, "y") == [
        (level, 0, 0, 1.0, 0.0, 1, 2.0, 0.5, 2, 0) for level in range(1, 6)
    ]
    final_steps = sorted(final)
    final_values = [final[s] for s in final_steps]
    for max_points in (50, 1000):
        check(store, run_id, final_steps, final_values, max_points)
    summary = store.get_run(run_id).metrics["x"]
    assert summary.count == sum(r[8] for r in rollups(store, run_id) if r[0] == 1)


def test_dense_overwrite_of_whole_buckets(store: SqlStore, project: str) -> None:
    # Buckets whose 64 steps are all rewritten are computed from the batch alone, the others from the points.
    steps = list(range(10_000))
    values = [float(s % 100) for s in steps]
    values[3_000] = 1e6  # an old extreme inside a wholly rewritten bucket must go
    run_id = new_run(store, project)
    log(store, run_id, steps, values)
    rewritten = list(range(100, 5_100))
    new_values = [-float(s % 37) if s % 500 else math.nan for s in rewritten]
    log(store, run_id, rewritten, new_values)
    final = dict(zip(steps, values, strict=True)) | dict(zip(rewritten, new_values, strict=True))
    fresh = new_run(store, project)
    log(store, fresh, list(final), list(final.values()))
    assert rollups(store, run_id) == rollups(store, fresh)
    check(store, run_id, list(final), list(final.values()), 100)


def test_delete_run_deletes_rollups(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    other = new_run(store, project)
    log(store, run_id, range(1000), [float(i) for i in range(1000)])
    log(store, other, range(1000), [float(i) for i in range(1000)])
    with store.engine.connect() as conn:
        key_ids = (
            conn.execute(sa.text("SELECT id FROM metric_keys WHERE run_id = :run"), {"run": run_id})
            .scalars()
            .all()
        )
    assert rollups(store, run_id)
    store.delete_run(run_id)
    with store.engine.connect() as conn:
        left = conn.execute(
            sa.text("SELECT count(*) FROM metric_rollups WHERE key_id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": list(key_ids)},
        ).scalar_one()
    assert left == 0
    assert len(rollups(store, other)) == 16 + 2 + 1 + 1 + 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(
        st.lists(
            st.tuples(
                st.integers(min_value=-100, max_value=3_000),
                st.sampled_from([0.0, 1.0, -1.0, 2.5, math.nan, math.inf, -math.inf, 1e6]),
            ),
            min_size=1,
            max_size=300,
        ),
        min_size=1,
        max_size=6,
    ),
    window=st.tuples(st.integers(-200, 3_100), st.integers(0, 3_200)),
    max_points=st.integers(min_value=2, max_value=60),
)
def test_random_batches(
    store: SqlStore,
    project: str,
    batches: list[list[tuple[int, float]]],
    window: tuple[int, int],
    max_points: int,
) -> None:
    run_id = new_run(store, project)
    final: dict[int, float] = {}
    for points in batches:
        steps = [s for s, _ in points]
        values = [v for _, v in points]
        log(store, run_id, steps, values)
        final.update(points)  # the last write of a step wins, within a batch too
    fresh = new_run(store, project)
    log(store, fresh, list(final), list(final.values()))
    assert rollups(store, run_id) == rollups(store, fresh)
    steps, values = list(final), list(final.values())
    check(store, run_id, steps, values, max_points)
    check(store, run_id, steps, values, max_points, window[0], window[0] + window[1])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without tables: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    server: str = request.getfixturevalue("postgres_url")  # any database of the test server
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"mltrail_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_migration_backfills_existing_points(empty_db_url: str) -> None:
    url = empty_db_url
    engine = sa.create_engine(url)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    steps, values = history(30_000, seed=2)
    negative = list(range(-700, -1))
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 0)"))
        conn.execute(
            sa.text(
                "INSERT INTO runs (id, project_id, name, status, start_time, context)"
                " VALUES ('old', 1, 'old', 'finished', 0, '{}')"
            )
        )
        for key_id, key, count in ((1, "x", len(steps)), (2, "neg", len(negative))):
            conn.execute(
                sa.text("INSERT INTO metric_keys (id, run_id, key, count) VALUES (:id, 'old', :key, :n)"),
                {"id": key_id, "key": key, "n": count},
            )
        points = [
            {"k": 1, "s": s, "v": None if math.isnan(v) else v, "w": s * 0.5}
            for s, v in zip(steps, values, strict=True)
        ]
        points += [{"k": 2, "s": s, "v": float(s % 13), "w": s * 0.5} for s in negative]
        conn.execute(sa.text("INSERT INTO metric_points VALUES (:k, :s, :v, :w)"), points)
    engine.dispose()
    store = open_store(url)  # migrates to the head: 0002 backfills the rollups
    try:
        if store.engine.dialect.name == "postgresql":  # ids were given explicitly: move the sequence on
            with store.engine.begin() as conn:
                conn.exec_driver_sql("SELECT setval('metric_keys_id_seq', 10)")
        fresh = new_run(store, "p")
        log(store, fresh, steps, values)
        log(store, fresh, negative, [float(s % 13) for s in negative], key="neg")
        assert rollups(store, "old") == rollups(store, fresh)
        assert rollups(store, "old", "neg") == rollups(store, fresh, "neg")
        check(store, "old", steps, values, 200)
    finally:
        store.close()


def _points(store: SqlStore, run_id: str, key: str) -> list[tuple[Any, ...]]:
    got = store.get_metric_history(run_id, key)
    return [(*as_point(s, v), w) for s, v, w in zip(got.steps, got.values, got.wall_times, strict=True)]


_small_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, -0.0, 1.0, float("nan")]),
)
_small_batches = st.lists(  # batches of (key, step, value) appended in order; steps may repeat in a batch
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "sys/c"]), st.integers(0, 700), _small_values), max_size=60
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=_small_batches)
def test_small_batches_store_what_the_numpy_path_stores(
    store: SqlStore, project: str, batches: list[list[tuple[str, int, float]]]
) -> None:
    # Small batches skip numpy (store/sql/small_batches.py); the numpy path must store exactly the same
    # points, summaries and rollups, whether a batch appends or overwrites (the latter falls back to numpy).
    runs = {}
    for small in (False, True):
        store._small_batches = small  # type: ignore[misc]
        run_id = new_run(store, project)
        for batch in batches:
            keys = [k for k, _, _ in batch]
            steps = [s for _, s, _ in batch]
            values = [v for _, _, v in batch]
            store.log_metrics(run_id, MetricsBatch(keys, steps, values, [1000.0 + s for s in steps]))
        runs[small] = run_id
    store._small_batches = True  # type: ignore[misc]
    numpy_run, small_run = store.get_run(runs[False]), store.get_run(runs[True])
    assert repr(numpy_run.metrics) == repr(small_run.metrics)
    for key in numpy_run.metrics:
        assert _points(store, runs[False], key) == _points(store, runs[True], key)
        assert repr(rollups(store, runs[False], key)) == repr(rollups(store, runs[True], key))


def test_appending_small_batches_do_not_use_the_numpy_path(
    store: SqlStore, project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mltrail.store.sql.metrics as metrics

    def refuse(batch: MetricsBatch) -> None:
        raise AssertionError("numpy path used")

    monkeypatch.setattr(metrics, "_Prepared", refuse)
    run_id = new_run(store, project)
    log(store, run_id, range(100), [float(i) for i in range(100)])
    log(store, run_id, range(100, 200), [float("nan")] * 100)
    assert store.get_run(run_id).metrics["x"].count == 200
    with pytest.raises(AssertionError, match="numpy path used"):  # an overwrite recomputes with numpy
        log(store, run_id, [150], [1.0])
