"""Slice ranking: a planted slice is found, and a tiny slice cannot top the list on luck."""

from __future__ import annotations

import math

import numpy as np

from mltrail.stats.slices import (
    GROUP_CELLS,
    SliceColumn,
    _CellTables,
    _Codes,
    _groups,
    bin_numeric,
    rank_slices,
)


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


def _random_columns(rng: np.random.Generator, n: int, widths: list[int]) -> list[SliceColumn]:
    columns = []
    for i, k in enumerate(widths):
        codes = rng.integers(0, k, n)
        codes[rng.random(n) < 0.05] = -1  # missing values
        columns.append(SliceColumn(f"c{i}", codes.astype(np.int64), [f"v{j}" for j in range(k)]))
    return columns


def test_groups_hold_every_column_and_pair_in_16_bit_cells() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        widths = [int(w) for w in rng.choice([2, 3, 4, 11, 21, 101], rng.integers(1, 25))]
        for pairs in (True, False):
            groups = _groups(widths, pairs)
            assert all(math.prod(widths[x] for x in g) <= GROUP_CELLS for g in groups)
            held = {(x,) for g in groups for x in g}
            assert held == {(x,) for x in range(len(widths))}
            if pairs:
                held_pairs = {(x, y) for g in groups for i, x in enumerate(g) for y in g[i + 1 :]}
                assert {(x, y) for x in range(len(widths)) for y in range(x + 1, len(widths))} <= held_pairs


def test_cell_counts_from_group_tables_equal_direct_counts() -> None:
    rng = np.random.default_rng(7)
    n = 5_000
    columns = _random_columns(rng, n, [100, 20, 10, 3, 1, 10, 100, 2])
    subsets = (np.flatnonzero(rng.random(n) < 0.2), np.flatnonzero(rng.random(n) < 0.1))
    codes = [_Codes.of(c.codes, len(c.labels), subsets) for c in columns]
    widths = [len(c.labels) + 1 for c in columns]
    tables = _CellTables(codes, widths, _groups(widths, pairs=True))
    assert len(tables.groups) > 1  # the columns span several blocks
    full = [np.where(c.codes < 0, len(c.labels), c.codes) for c in columns]
    for part, rows in ((None, np.arange(n)), (0, subsets[0]), (1, subsets[1])):
        for x in range(len(columns)):
            direct = np.bincount(full[x][rows], minlength=widths[x])
            assert np.array_equal(tables.counts((x,), part), direct)
            for y in range(x + 1, len(columns)):
                pair = np.bincount(full[x][rows] * widths[y] + full[y][rows], minlength=widths[x] * widths[y])
                assert np.array_equal(tables.counts((x, y), part), pair.reshape(widths[x], widths[y]))


def test_listed_slices_count_what_their_rows_hold() -> None:
    rng = np.random.default_rng(11)
    n = 20_000
    columns = _random_columns(rng, n, [100, 4, 10, 3, 20])
    wrong_a = (rng.random(n) < 0.2).astype(float)
    wrong_b = wrong_a.copy()
    flip = rng.random(n) < 0.1
    wrong_b[flip] = 1.0 - wrong_b[flip]
    wrong_b[(columns[1].codes == 2) & (rng.random(n) < 0.1)] = 1.0
    wrong_b[(columns[1].codes == 2) & (columns[3].codes == 0) & (rng.random(n) < 0.6)] = 1.0
    found = rank_slices(
        columns, wrong_b - wrong_a, wrong_a, wrong_b, paired_binary=True, min_rows=1, top=100_000
    )
    assert any(len(s["slice"]) == 2 for s in found) and any(len(s["slice"]) == 1 for s in found)
    by_name = {c.name: c for c in columns}
    for s in found:
        mask = np.ones(n, dtype=bool)
        for name, label in s["slice"].items():
            column = by_name[name]
            mask &= column.codes == column.labels.index(label)
        rows = int(mask.sum())
        assert s["rows"] == rows
        assert s["worse"] == int((wrong_b[mask] > wrong_a[mask]).sum())
        assert s["better"] == int((wrong_b[mask] < wrong_a[mask]).sum())
        assert s["error_a"] == round(float(wrong_a[mask].sum() / rows), 6)
        assert s["error_b"] == round(float(wrong_b[mask].sum() / rows), 6)
