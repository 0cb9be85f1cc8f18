"""Slice ranking: a planted slice is found, and a tiny slice cannot top the list on luck."""

from __future__ import annotations

import numpy as np

from mltrail.stats.slices import SliceColumn, bin_numeric, rank_slices


def test_bins_are_quantiles_with_missing_values_apart() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, np.nan, 5.0, 6.0, 7.0, 8.0])
    col = bin_numeric("x", values, bins=4)
    assert col is not None
    assert col.codes[4] == -1
    assert sorted(set(col.codes[col.codes >= 0].tolist())) == [0, 1, 2, 3]
    assert col.labels[-1].endswith("]") and col.labels[0].startswith("[1")
    constant = bin_numeric("c", np.ones(5))
    assert constant is not None and constant.labels == ["1"]
    assert bin_numeric("none", np.array([np.nan])) is None


def test_a_tiny_slice_does_not_top_a_large_clear_rise() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    group = rng.integers(0, 4, n)  # 0: 5 rows below, 1: the planted rise, others: noise
    group[:5] = 0
    group[5:][group[5:] == 0] = 2
    wrong_a = (rng.random(n) < 0.1).astype(float)
    wrong_b = wrong_a.copy()
    wrong_b[:3] = 1.0  # the 5-row slice: 3 of 5 went wrong (a 60% rise)
    wrong_a[:3] = 0.0
    planted = (group == 1) & (rng.random(n) < 0.15)
    wrong_b[planted] = 1.0
    column = SliceColumn("g", group.astype(np.int64), ["tiny", "planted", "b", "c"])
    found = rank_slices([column], wrong_b - wrong_a, wrong_a, wrong_b, paired_binary=True, min_rows=1)
    assert found[0]["slice"] == {"g": "planted"}
    assert found[0]["lower"] > 0 and found[0]["p"] < 1e-6
    tiny = next(s for s in found if s["slice"] == {"g": "tiny"})
    assert tiny["rise"] > found[0]["rise"] and tiny["lower"] < found[0]["lower"]
    assert tiny["worse"] == 3 and tiny["better"] == 0


def test_pairs_and_regression_changes() -> None:
    a = SliceColumn("a", np.array([0, 0, 1, 1] * 50), ["a0", "a1"])
    b = SliceColumn("b", np.array([0, 1, 0, 1] * 50), ["b0", "b1"])
    change = np.where((a.codes == 1) & (b.codes == 1), 2.0, 0.0) + np.tile([0.01, -0.01], 100)
    found = rank_slices([a, b], change, np.zeros(200), np.abs(change), paired_binary=False, min_rows=10)
    assert found[0]["slice"] == {"a": "a1", "b": "b1"} and found[0]["rows"] == 50
    assert found[0]["worse"] is None
