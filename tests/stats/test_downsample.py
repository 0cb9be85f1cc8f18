"""minmax_downsample keeps extremes, order and bounds, and is fast."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mltrail.stats.downsample import minmax_downsample


def _noise(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.arange(n, dtype=np.int64), rng.normal(size=n)


@pytest.mark.parametrize("max_points", [4, 5, 10, 101, 1000])
def test_bounds_order_and_endpoints(max_points: int) -> None:
    steps, values = _noise(10_000)
    keep = minmax_downsample(steps, values, max_points)
    assert 0 < len(keep) <= max_points
    assert np.all(np.diff(keep) > 0)
    assert keep[0] == 0
    assert keep[-1] == len(steps) - 1
    assert keep.dtype == np.int64


def test_global_extremes_and_a_single_spike_survive() -> None:
    steps, values = _noise(100_000)
    values[31_337] = 1e6
    values[77_001] = -1e6
    keep = minmax_downsample(steps, values, 200)
    assert 31_337 in keep
    assert 77_001 in keep


def test_each_bucket_keeps_its_min_and_max() -> None:
    steps = np.arange(12)
    values = np.array([5, 1, 9, 3, 2, 8, 0, 4, 7, 6, 10, 11], dtype=float)
    # (8 - 2) // 2 = 3 buckets of width 11/3: steps 0-3, 4-7, 8-11.
    keep = minmax_downsample(steps, values, 8)
    assert keep.tolist() == [0, 1, 2, 5, 6, 9, 11]


def test_all_points_when_few() -> None:
    steps, values = _noise(10)
    assert minmax_downsample(steps, values, 10).tolist() == list(range(10))
    assert minmax_downsample(steps[:0], values[:0], 10).tolist() == []
    assert minmax_downsample(steps[:1], values[:1], 2).tolist() == [0]


@pytest.mark.parametrize("max_points", [2, 3])
def test_tiny_budgets_keep_first_and_last(max_points: int) -> None:
    steps, values = _noise(100)
    assert minmax_downsample(steps, values, max_points).tolist() == [0, 99]


def test_budget_below_two_is_an_error() -> None:
    steps, values = _noise(10)
    with pytest.raises(ValueError, match="at least 2"):
        minmax_downsample(steps, values, 1)


def test_mismatched_lengths_are_an_error() -> None:
    with pytest.raises(ValueError, match="one length"):
        minmax_downsample(np.arange(3), np.zeros(4), 2)


def test_nan_only_bucket_keeps_one_nan_point() -> None:
    steps = np.arange(100)
    values = np.linspace(0.0, 1.0, 100)
    values[40:60] = np.nan
    # 10 buckets of width 9.9: bucket 4 is steps 40-49 and bucket 5 is steps 50-59, all NaN.
    keep = minmax_downsample(steps, values, 22)
    nan_kept = [i for i in keep if np.isnan(values[i])]
    assert nan_kept == [40, 50]
    assert len(keep) <= 22


def test_nan_is_ignored_when_a_bucket_has_numbers() -> None:
    steps = np.arange(8)
    values = np.array([0.0, np.nan, 5.0, -1.0, 2.0, np.nan, 3.0, 1.0])
    keep = minmax_downsample(steps, values, 6)  # 2 buckets: 0-3 and 4-7
    assert keep.tolist() == [0, 2, 3, 6, 7]  # bucket 4-7: min 1.0 at 7, max 3.0 at 6


def test_infinities_are_extremes() -> None:
    steps, values = _noise(1000)
    values[10] = np.inf
    values[20] = -np.inf
    keep = minmax_downsample(steps, values, 10)
    assert 10 in keep
    assert 20 in keep


def test_uneven_and_unsorted_steps() -> None:
    steps = np.array([0, 1, 2, 3, 1000, 1001, 1002, 5000])
    values = np.array([1.0, 9.0, 2.0, 3.0, 4.0, 8.0, 0.0, 6.0])
    keep = minmax_downsample(steps, values, 6)
    assert keep.tolist() == [0, 1, 6, 7]
    perm = np.array([3, 7, 0, 5, 1, 6, 2, 4])
    keep_perm = minmax_downsample(steps[perm], values[perm], 6)
    assert np.all(np.diff(keep_perm) > 0)
    assert sorted(steps[perm][keep_perm].tolist()) == steps[keep].tolist()


def test_all_steps_equal() -> None:
    steps = np.zeros(50, dtype=np.int64)
    values = np.arange(50, dtype=float)[::-1].copy()
    keep = minmax_downsample(steps, values, 10)
    assert keep.tolist() == [0, 49]


def test_hundred_thousand_points_under_5_ms() -> None:
    steps, values = _noise(100_000)
    minmax_downsample(steps, values, 1000)
    best = min(_timed(steps, values) for _ in range(20))
    assert best < 0.005, f"{best * 1e3:.2f} ms"


def _timed(steps: np.ndarray, values: np.ndarray) -> float:
    start = time.perf_counter()
    minmax_downsample(steps, values, 1000)
    return time.perf_counter() - start
