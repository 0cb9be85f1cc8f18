"""profile_batches: hand-checked counts, merge equals the whole, exact round-trips, and the edge cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mltrail.stats.profile import ColumnProfile, DatasetProfile, infer_kind, profile_batches


def _numeric(
    p: DatasetProfile, name: str
) -> tuple[int, float, float, float | int | None, float | int | None]:
    summary = p[name].numeric
    assert summary is not None
    return summary.count, summary.mean, summary.variance or 0.0, summary.min, summary.max


def test_counts_by_hand() -> None:
    table = pa.table(
        {
            "i": pa.array([1, 2, None, 4]),
            "f": [1.0, float("nan"), float("inf"), None],
            "s": ["a", "", None, "a"],
            "b": [True, False, None, True],
            "d": pa.array(["x", "y", "x", None]).dictionary_encode(),
            "t": pa.array([1, 2, 3, None], pa.timestamp("s")),
        }
    )
    p = profile_batches(table)
    assert p.rows == 4
    assert [p[c].kind for c in table.column_names] == [
        "numeric",
        "numeric",
        "categorical",
        "categorical",
        "categorical",
        "other",
    ]
    i = p["i"]
    assert (i.count, i.nulls, i.nan, i.infinite, i.absent, i.valid) == (4, 1, 0, 0, 0, 3)
    assert _numeric(p, "i") == (3, pytest.approx(7 / 3), pytest.approx(7 / 3), 1, 4)
    assert isinstance(i.numeric and i.numeric.min, int)  # integer ends stay exact ints
    f = p["f"]
    assert (f.nulls, f.nan, f.infinite, f.valid, f.missing, f.missing_rate) == (1, 1, 1, 1, 2, 0.5)
    assert p["s"].categories is not None and p["s"].categories.frequencies() == ({"a": 2, "": 1}, 0)
    assert p["b"].categories is not None and p["b"].categories.frequencies() == ({"true": 2, "false": 1}, 0)
    assert p["d"].categories is not None and p["d"].categories.frequencies() == ({"x": 2, "y": 1}, 0)
    assert (p["t"].count, p["t"].nulls, p["t"].numeric, p["t"].categories) == (4, 1, None, None)
    assert p["d"].types == ("dictionary<values=string, indices=int32, ordered=0>",)


def test_infer_kind() -> None:
    assert infer_kind(pa.int8()) == infer_kind(pa.float32()) == infer_kind(pa.decimal128(10, 2)) == "numeric"
    assert infer_kind(pa.large_string()) == infer_kind(pa.bool_()) == "categorical"
    assert infer_kind(pa.null()) == "null"
    assert infer_kind(pa.list_(pa.int8())) == infer_kind(pa.date32()) == "other"


def _mixed_table(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    labels = np.array([f"c{k}" for k in range(30)])
    return pa.table(
        {
            "x": pa.array(rng.normal(5.0, 2.0, n), mask=rng.random(n) < 0.05),
            "k": pa.array(rng.integers(-50, 50, n)),
            "c": pa.array(labels[rng.integers(0, 30, n)], mask=rng.random(n) < 0.05),
        }
    )


def test_merge_of_halves_equals_whole() -> None:
    table = _mixed_table(60_000, seed=1)
    whole = profile_batches(table)
    merged = profile_batches(table.slice(0, 25_000)).merge(profile_batches(table.slice(25_000)))
    assert merged.rows == whole.rows == 60_000
    for name in ("x", "k"):
        a, b = whole[name], merged[name]
        assert (a.count, a.nulls, a.nan, a.absent) == (b.count, b.nulls, b.nan, b.absent)
        count, mean, var, lo, hi = _numeric(whole, name)
        m_count, m_mean, m_var, m_lo, m_hi = _numeric(merged, name)
        assert (count, lo, hi) == (m_count, m_lo, m_hi)
        assert m_mean == pytest.approx(mean, rel=1e-9)
        assert m_var == pytest.approx(var, rel=1e-9)
        assert a.numeric is not None and b.numeric is not None
        eps = a.numeric.kll.normalized_rank_error(False)
        for q in (0.01, 0.25, 0.5, 0.75, 0.99):
            value = b.numeric.kll.get_quantile(q)
            # The merged sketch's quantile must sit within the sketch error of rank q in the whole sketch.
            assert abs(a.numeric.kll.get_rank(value) - q) <= 2 * eps
    assert whole["c"].categories is not None and merged["c"].categories is not None
    assert whole["c"].categories.frequencies() == merged["c"].categories.frequencies()
    assert merged["c"].nulls == whole["c"].nulls


def test_iterable_of_batches_equals_table_on_exact_parts() -> None:
    table = _mixed_table(10_000, seed=2)
    one = profile_batches(table)
    many = profile_batches(table.to_batches(max_chunksize=999))
    threaded = profile_batches(table.to_batches(max_chunksize=999), threads=2)
    for p in (many, threaded):
        assert p["c"].categories is not None and one["c"].categories is not None
        assert p["c"].categories.frequencies() == one["c"].categories.frequencies()
        assert _numeric(p, "k")[0] == _numeric(one, "k")[0]
        assert _numeric(p, "x")[1] == pytest.approx(_numeric(one, "x")[1], rel=1e-12)


def test_round_trip_is_exact() -> None:
    table = _mixed_table(5_000, seed=3)
    p = profile_batches(table.to_batches(max_chunksize=1_000))
    data = p.to_bytes()
    back = DatasetProfile.from_bytes(data)
    assert back == p
    assert back.to_bytes() == data  # exact categories and KLL bytes are stable through a round trip
    assert DatasetProfile.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    # A restored profile keeps working (KLL merges are randomized, so compare the exact parts).
    twice = back.merge(p)
    assert twice.rows == 10_000 and _numeric(twice, "k")[:3] == pytest.approx(
        (10_000 - 0, _numeric(p, "k")[1], _numeric(p, "k")[2]), rel=1e-3
    )


def test_round_trip_after_switch_to_frequent_items() -> None:
    labels = pa.array([f"id{k}" for k in range(3_000)] + ["hot"] * 5_000)
    p = profile_batches(pa.table({"c": labels}), category_cap=100)
    back = DatasetProfile.from_bytes(p.to_bytes())
    assert back == p  # compared item by item with bounds: the sketch's bytes are not layout-stable
    assert back["c"].categories is not None and not back["c"].categories.exact
    assert (
        back["c"].categories.frequencies() == p["c"].categories.frequencies() if p["c"].categories else False
    )


def test_from_dict_rejects_other_formats() -> None:
    with pytest.raises(ValueError, match="not a version"):
        DatasetProfile.from_dict({"format": "whylogs", "version": 1, "rows": 0, "columns": []})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=80),
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=80),
)
def test_merge_property_numeric(left: list[float], right: list[float]) -> None:
    merged = profile_batches(pa.table({"x": pa.array(left, pa.float64())})).merge(
        profile_batches(pa.table({"x": pa.array(right, pa.float64())}))
    )
    values = np.asarray(left + right)
    col = merged["x"]
    assert col.count == len(values) and col.valid == len(values) and merged.rows == len(values)
    summary = col.numeric
    assert summary is not None
    assert summary.count == len(values)
    if len(values) == 0:
        assert summary.min is None and summary.max is None
        return
    assert (summary.min, summary.max) == (values.min(), values.max())
    scale = float(np.max(np.abs(values)))
    assert summary.mean == pytest.approx(float(np.mean(values)), rel=1e-9, abs=1e-9 * scale)
    if len(values) > 1:
        assert summary.variance == pytest.approx(float(np.var(values, ddof=1)), rel=1e-9, abs=1e-9 * scale**2)


def test_all_null_column_is_numeric_with_no_values() -> None:
    p = profile_batches(pa.table({"x": pa.array([None, None, None], pa.float64()), "n": pa.nulls(3)}))
    x = p["x"]
    assert (x.kind, x.count, x.nulls, x.valid, x.missing_rate) == ("numeric", 3, 3, 0, 1.0)
    assert x.numeric is not None and x.numeric.count == 0 and x.numeric.kll.is_empty()
    assert (p["n"].kind, p["n"].nulls) == ("null", 3)
    # A null-typed part takes the kind of the other side when merged.
    merged = p.merge(profile_batches(pa.table({"n": ["a"]})))
    assert (merged["n"].kind, merged["n"].count, merged["n"].nulls) == ("categorical", 4, 3)


def test_constant_column() -> None:
    p = profile_batches(pa.table({"x": np.full(10_000, 7.5)}))
    assert _numeric(p, "x") == (10_000, 7.5, 0.0, 7.5, 7.5)
    summary = p["x"].numeric
    assert summary is not None and summary.std == 0.0


def test_zero_row_batch_records_columns() -> None:
    empty = pa.table({"x": pa.array([], pa.float64()), "s": pa.array([], pa.string())})
    p = profile_batches(empty)
    assert p.rows == 0
    assert (p["x"].kind, p["x"].count, p["x"].missing_rate) == ("numeric", 0, None)
    assert (p["s"].kind, p["s"].count) == ("categorical", 0)
    assert p == DatasetProfile.from_bytes(p.to_bytes())
    assert profile_batches([]).rows == 0


def test_empty_string_is_a_category_not_missing() -> None:
    p = profile_batches(pa.table({"s": ["", "", "a", None]}))
    assert p["s"].categories is not None
    assert p["s"].categories.frequencies() == ({"": 2, "a": 1}, 0)
    assert (p["s"].nulls, p["s"].missing) == (1, 1)


def test_switch_to_frequent_items_keeps_counts_seen_so_far() -> None:
    batches = [
        pa.record_batch({"c": pa.array(["hot"] * 4_000 + ["warm"] * 1_000)}),
        pa.record_batch({"c": pa.array([f"rare{k}" for k in range(2_000)])}),  # passes the cap of 50
        pa.record_batch({"c": pa.array(["hot"] * 1_000)}),
    ]
    p = profile_batches(batches, category_cap=50)
    cats = p["c"].categories
    assert cats is not None and not cats.exact and cats.total == 8_000
    listed, unlisted = cats.frequencies()
    assert listed["hot"] == 5_000 and listed["warm"] == 1_000
    assert sum(listed.values()) + unlisted == 8_000
    exact = profile_batches(batches, category_cap=10_000)
    assert exact["c"].categories is not None and exact["c"].categories.exact
    # Merging an exact part into a switched one stays in sketch mode and keeps the totals.
    both = p.merge(exact)
    assert both["c"].categories is not None and both["c"].categories.total == 16_000
    assert both["c"].categories.frequencies()[0]["hot"] == 10_000


def test_int_then_float_batches_are_one_numeric_column() -> None:
    p = profile_batches(
        [pa.record_batch({"x": pa.array([1, 2, 3])}), pa.record_batch({"x": pa.array([0.5, float("nan")])})]
    )
    assert p["x"].kind == "numeric" and p["x"].types == ("double", "int64")
    assert _numeric(p, "x")[:2] == (4, pytest.approx(6.5 / 4))
    assert p["x"].nan == 1


def test_conflicting_kinds_raise_unless_overridden() -> None:
    batches = [pa.record_batch({"x": pa.array([1, 2])}), pa.record_batch({"x": pa.array(["a", "b"])})]
    with pytest.raises(TypeError, match="categorical="):
        profile_batches(batches)
    p = profile_batches(batches, categorical=["x"])
    assert p["x"].categories is not None
    assert p["x"].categories.frequencies() == ({"1": 1, "2": 1, "a": 1, "b": 1}, 0)


def test_overrides() -> None:
    table = pa.table({"code": pa.array([3, 3, 7]), "flag": [True, False, True], "s": ["a", "b", "c"]})
    p = profile_batches(table, categorical=["code"], numeric=["flag"])
    assert p["code"].categories is not None and p["code"].categories.frequencies() == ({"3": 2, "7": 1}, 0)
    assert _numeric(p, "flag")[:2] == (3, pytest.approx(2 / 3))
    with pytest.raises(TypeError, match="cannot be numeric"):
        profile_batches(table, numeric=["s"])
    with pytest.raises(ValueError, match="both"):
        profile_batches(table, numeric=["s"], categorical=["s"])


def test_absent_column_is_counted_apart_from_nulls() -> None:
    batches = [
        pa.record_batch({"a": [1.0, 2.0], "b": ["x", None]}),
        pa.record_batch({"a": [3.0]}),
        pa.record_batch({"a": [4.0], "c": [1]}),
    ]
    p = profile_batches(batches, columns=["a", "b", "c", "never"])
    assert list(p.columns) == ["a", "b", "c", "never"]
    assert (p["b"].count, p["b"].nulls, p["b"].absent, p["b"].missing_rate) == (2, 1, 2, 0.75)
    assert (p["c"].count, p["c"].absent) == (1, 3)  # first seen in the third batch
    assert (p["never"].kind, p["never"].count, p["never"].absent) == ("null", 0, 4)
    # A column only one side of a merge has counts the other side's rows as absent.
    merged = p.merge(profile_batches(pa.table({"a": [5.0, 6.0]})))
    assert (merged["b"].count, merged["b"].absent) == (2, 4)
    assert merged.rows == 6


def test_columns_selects_and_ignores_the_rest() -> None:
    p = profile_batches(pa.table({"a": [1], "b": [2]}), columns=["b"])
    assert list(p.columns) == ["b"]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="kll_k"):
        profile_batches(pa.table({"a": [1]}), kll_k=2)
    with pytest.raises(ValueError, match="category_cap"):
        profile_batches(pa.table({"a": [1]}), category_cap=0)
    with pytest.raises(TypeError, match="RecordBatch"):
        profile_batches([{"a": [1]}])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="duplicate"):
        profile_batches(pa.table([pa.array([1]), pa.array([2])], names=["a", "a"]))


def test_large_int64_ends_stay_exact() -> None:
    big = 2**62 + 1
    p = profile_batches(pa.table({"x": pa.array([big, -big, 0])}))
    assert _numeric(p, "x")[3:] == (-big, big)
    assert math.isclose(_numeric(p, "x")[1], 0.0, abs_tol=1e3)


def test_column_profile_repr_and_equality() -> None:
    a = ColumnProfile("x", "null", absent=3)
    assert a == ColumnProfile.from_dict(a.to_dict())
    assert "x" in repr(a) and "rows=0" in repr(profile_batches([]))
