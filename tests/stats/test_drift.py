"""compare_profiles: shifts found, stable columns left alone, and the degenerate columns handled."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from mltrail.stats.drift import ColumnTest, DriftOptions, column_drift, compare_profiles, exact_column_drift
from mltrail.stats.drift_measures import SortedSample, bin_masses, js_distance, psi, quantile_bins
from mltrail.stats.profile import DatasetProfile, profile_batches

LABELS = np.array([f"v{k}" for k in range(12)])


def _data(
    n: int, seed: int, *, shift: float = 0.0, scale: float = 1.0, weights: np.ndarray | None = None
) -> pa.Table:
    rng = np.random.default_rng(seed)
    p = weights if weights is not None else np.full(12, 1 / 12)
    return pa.table(
        {
            "normal": rng.normal(shift, scale, n),
            "skewed": rng.lognormal(0.0 + shift, 0.6, n),
            "count": rng.poisson(4.0 + 4 * shift, n),
            "label": LABELS[rng.choice(12, n, p=p)],
        }
    )


def _compare(ref: pa.Table, cur: pa.Table, options: DriftOptions | None = None) -> dict[str, bool]:
    result = compare_profiles(profile_batches(ref), profile_batches(cur), options)
    return {c.column: c.drifted for c in result.columns}


def test_same_distribution_is_not_flagged_by_distances() -> None:
    for seed in range(3):
        drifted = _compare(_data(20_000, seed), _data(20_000, 100 + seed))
        assert not any(drifted.values()), (seed, drifted)


def test_small_samples_flag_at_about_the_significance_level() -> None:
    # KS and chi-square at p < 0.05 flag 5 % of same-distribution pairs by design: check the rate, over
    # 160 tests (mean 8; more than 20 has probability below 1e-4), rather than pretend it is 0.
    flagged = 0
    for seed in range(40):
        flagged += sum(_compare(_data(500, seed), _data(500, 1_000 + seed)).values())
    assert flagged <= 20


@pytest.mark.parametrize("n", [500, 20_000])
def test_shifts_are_found(n: int) -> None:
    skew = np.linspace(1, 3, 12) / np.linspace(1, 3, 12).sum()
    ref, cur = _data(n, 1), _data(n, 2, shift=0.5, weights=skew)
    assert _compare(ref, cur) == {"normal": True, "skewed": True, "count": True, "label": True}
    # A change of spread alone is found too.
    assert _compare(ref, _data(n, 3, scale=1.6))["normal"]


def test_default_tests_by_size_and_overrides() -> None:
    small = compare_profiles(profile_batches(_data(800, 1)), profile_batches(_data(800, 2)))
    assert [(c.test, c.threshold) for c in small.columns] == [("ks", 0.05)] * 3 + [("chisquare", 0.05)]
    assert all(c.p_value is not None for c in small.columns)
    large = compare_profiles(profile_batches(_data(1_001, 1)), profile_batches(_data(800, 2)))
    assert [c.test for c in large.columns] == ["wasserstein"] * 3 + ["jensenshannon"]
    assert all(c.p_value is None for c in large.columns)
    options = DriftOptions(
        numeric_test="psi",
        thresholds={"psi": 0.5},
        columns={"label": ColumnTest(test="chisquare", threshold=0.01), "count": ColumnTest(skip=True)},
    )
    custom = compare_profiles(profile_batches(_data(5_000, 1)), profile_batches(_data(5_000, 2)), options)
    assert [(c.column, c.test, c.threshold) for c in custom.columns] == [
        ("normal", "psi", 0.5),
        ("skewed", "psi", 0.5),
        ("label", "chisquare", 0.01),
    ]
    with pytest.raises(ValueError, match="numeric_test"):
        DriftOptions(numeric_test="chisquare")
    with pytest.raises(ValueError, match="out of range"):
        DriftOptions(thresholds={"ks": 2.0})
    with pytest.raises(ValueError, match="does not apply"):
        compare_profiles(
            profile_batches(_data(100, 1)),
            profile_batches(_data(100, 2)),
            DriftOptions(columns={"label": ColumnTest(test="ks")}),
        )


def test_threshold_decides() -> None:
    ref, cur = profile_batches(_data(20_000, 1)), profile_batches(_data(20_000, 2, shift=0.05))
    stat = column_drift(ref["normal"], cur["normal"]).statistic
    assert stat is not None and 0.02 < stat < 0.1
    loose = DriftOptions(columns={"normal": ColumnTest(threshold=stat * 1.01)})
    strict = DriftOptions(columns={"normal": ColumnTest(threshold=stat * 0.99)})
    assert not column_drift(ref["normal"], cur["normal"], loose).drifted
    assert column_drift(ref["normal"], cur["normal"], strict).drifted


def _constant(value: float, n: int = 5_000) -> DatasetProfile:
    return profile_batches(pa.table({"x": np.full(n, value)}))


@pytest.mark.parametrize("n", [300, 5_000])
def test_constant_columns(n: int) -> None:
    same = column_drift(_constant(2.0, n)["x"], _constant(2.0, n)["x"])
    assert not same.drifted and same.scores["wasserstein_norm"] == 0.0 and same.scores["psi"] == 0.0
    assert same.scores["ks"] == 0.0 and same.scores["jensenshannon"] == 0.0
    moved = column_drift(_constant(2.0, n)["x"], _constant(3.0, n)["x"])
    assert moved.drifted
    assert moved.scores["ks"] == 1.0 and moved.scores["jensenshannon"] == pytest.approx(1.0)
    assert moved.scores["wasserstein_norm"] == pytest.approx(1.0 / 3.0)  # relative difference of the two
    zero = column_drift(_constant(0.0, n)["x"], _constant(0.0, n)["x"])
    assert not zero.drifted and zero.scores["wasserstein_norm"] == 0.0
    # Constant reference, varied current: normalized by the current spread, no division by zero.
    varied = profile_batches(pa.table({"x": np.random.default_rng(0).normal(2.0, 1.0, n)}))
    assert column_drift(_constant(2.0, n)["x"], varied["x"]).drifted


def test_all_null_and_zero_row_current() -> None:
    ref = profile_batches(_data(2_000, 1))
    nulls = profile_batches(
        pa.table(
            {name: pa.nulls(500, (ref[name].numeric and pa.float64()) or pa.string()) for name in ref.columns}
        )
    )
    result = compare_profiles(ref, nulls)
    for c in result.columns:
        assert (c.test, c.drifted, c.missing_rate_cur, c.missing_drifted) == (None, False, 1.0, True)
        assert c.note == "no values in current"
    assert result.missing_drifted_columns == ("normal", "skewed", "count", "label")
    assert not result.dataset_drifted and result.share_drifted == 0.0
    empty = compare_profiles(ref, profile_batches(_data(2_000, 1).slice(0, 0)))
    assert all(c.note == "no values in current" and c.missing_delta is None for c in empty.columns)
    assert empty.rows_cur == 0
    json.dumps(empty.to_dict(), allow_nan=False)


def test_column_missing_from_current_and_extra_columns() -> None:
    ref = profile_batches(pa.table({"a": [1.0, 2.0, 3.0] * 100, "b": ["x", "y", "z"] * 100}))
    cur = profile_batches(pa.table({"a": [1.0, 2.0, 3.0] * 100, "c": [1] * 300}))
    result = compare_profiles(ref, cur)
    b = result.column("b")
    assert (b.missing_rate_cur, b.missing_drifted, b.test) == (1.0, True, None)
    assert result.unreferenced_columns == ("c",)
    with pytest.raises(KeyError):
        result.column("c")


def test_new_categories_are_reported() -> None:
    ref = profile_batches(pa.table({"c": ["a", "b"] * 1_000}))
    cur = profile_batches(pa.table({"c": ["a", "b"] * 800 + ["new1"] * 300 + ["new2"] * 100}))
    for drift in (
        column_drift(ref["c"], cur["c"]),
        exact_column_drift(
            np.array(["a", "b"] * 1_000), np.array(["a", "b"] * 800 + ["new1"] * 300 + ["new2"] * 100)
        ),
    ):
        assert drift.new_categories == ("new1", "new2")
        assert drift.scores["new_category_share"] == pytest.approx(0.2)
        assert drift.drifted and drift.test == "jensenshannon"
        assert drift.scores["psi"] > 0.2
    small_ref = profile_batches(pa.table({"c": ["a", "b"] * 100}))
    small_cur = profile_batches(pa.table({"c": ["a", "b"] * 95 + ["new"] * 10}))
    drift = column_drift(small_ref["c"], small_cur["c"])
    assert drift.test == "chisquare" and drift.p_value is not None and drift.p_value < 0.05


def test_kind_change_counts_as_drift() -> None:
    ref = profile_batches(pa.table({"x": [1.0, 2.0, 3.0]}))
    cur = profile_batches(pa.table({"x": ["a", "b", "c"]}))
    drift = compare_profiles(ref, cur)
    assert (
        drift.drifted_columns == ("x",)
        and drift.columns[0].note == "kind changed from numeric to categorical"
    )
    assert drift.dataset_drifted


def test_other_kind_compares_missing_only() -> None:
    col = pa.array([1, None, 3, 4], pa.timestamp("s"))
    result = compare_profiles(profile_batches(pa.table({"t": col})), profile_batches(pa.table({"t": col})))
    assert result.columns[0].test is None and result.columns[0].missing_delta == 0.0


def test_missing_rate_increase_is_flagged() -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(size=20_000)
    mask_ref, mask_cur = rng.random(20_000) < 0.02, rng.random(20_000) < 0.15
    ref = profile_batches(pa.table({"x": pa.array(values, mask=mask_ref)}))
    cur = profile_batches(pa.table({"x": pa.array(values, mask=mask_cur)}))
    drift = compare_profiles(ref, cur).columns[0]
    assert not drift.drifted and drift.missing_drifted
    assert drift.missing_delta == pytest.approx(mask_cur.mean() - mask_ref.mean(), abs=1e-12)
    assert drift.missing_p_value is not None and drift.missing_p_value < 1e-6


def test_dataset_drift_share_and_json() -> None:
    ref, cur = _data(5_000, 1), _data(5_000, 2, shift=0.5)
    result = compare_profiles(profile_batches(ref), profile_batches(cur))
    assert result.drifted_columns == ("normal", "skewed", "count")
    assert result.share_drifted == pytest.approx(0.75) and result.dataset_drifted
    assert not compare_profiles(
        profile_batches(ref), profile_batches(cur), DriftOptions(drift_share=0.8)
    ).dataset_drifted
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert json.loads(text)["columns"][0]["scores"]["ks"] > 0.1


def test_measures_by_hand() -> None:
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.5, 0.5])
    assert js_distance(p, q) == pytest.approx(np.sqrt(0.5))
    assert js_distance(p, p) == 0.0
    assert psi(p, p, 1e-4) == 0.0
    e = (p + 1e-4) / (1 + 3e-4)
    a = (q + 1e-4) / (1 + 3e-4)
    assert psi(p, q, 1e-4) == pytest.approx(float(np.sum((a - e) * np.log(a / e))))
    # Ties become their own bins: 0 and 1 hold 70 % and 30 % of the reference.
    ref = SortedSample(np.array([0.0] * 7 + [1.0] * 3))
    edges, atoms = quantile_bins(ref, 10)
    assert edges.tolist() == [0.0, 1.0] and atoms.tolist() == [True, True]  # 0 six times, 1 three times
    assert bin_masses(ref, edges, atoms).tolist() == pytest.approx([0.0, 0.7, 0.0, 0.3, 0.0])
    cur = SortedSample(np.array([0.0] * 5 + [0.5] * 2 + [2.0] * 3))
    assert bin_masses(cur, edges, atoms).tolist() == pytest.approx([0.0, 0.5, 0.2, 0.0, 0.3])
