"""ColumnSummaryBuilder: hand-computed summaries, and merging batches equals the whole table."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from mltrail.stats.columns import DISTINCT_EXACT_LIMIT, ColumnSummaryBuilder


def _summary(data: pa.Table | pa.RecordBatch) -> dict[str, dict[str, Any]]:
    builder = ColumnSummaryBuilder()
    builder.update(data)
    return builder.result()


def test_numeric_columns_by_hand() -> None:
    table = pa.table(
        {
            "i": pa.array([1, 2, 3, None], pa.int32()),
            "f": [1.0, float("nan"), 3.0, None],
            "b": [True, False, True, True],
        }
    )
    out = _summary(table)
    assert out["i"] == {
        "type": "int32",
        "count": 4,
        "missing": 1,
        "min": 1,
        "max": 3,
        "mean": 2.0,
        "std": 1.0,
    }
    assert out["f"] == {
        "type": "double",
        "count": 4,
        "missing": 2,
        "min": 1.0,
        "max": 3.0,
        "mean": 2.0,
        "std": pytest.approx(math.sqrt(2.0)),
    }
    assert out["b"] == {
        "type": "bool",
        "count": 4,
        "missing": 0,
        "min": 0,
        "max": 1,
        "mean": 0.75,
        "std": pytest.approx(0.5),
    }


def test_all_missing_and_single_values() -> None:
    out = _summary(pa.table({"f": [float("nan"), None], "one": [1.5, None]}))
    assert out["f"] == {
        "type": "double",
        "count": 2,
        "missing": 2,
        "min": None,
        "max": None,
        "mean": None,
        "std": None,
    }
    assert out["one"]["std"] is None
    assert out["one"]["mean"] == 1.5


def test_strings_and_dictionaries() -> None:
    values = ["a", "b", "a", None, "c", "a", "b", "d", "e", "f"]
    out = _summary(pa.table({"s": values, "d": pa.array(values).dictionary_encode()}))
    expected_top = [
        {"value": "a", "count": 3},
        {"value": "b", "count": 2},
        {"value": "c", "count": 1},
        {"value": "d", "count": 1},
        {"value": "e", "count": 1},
    ]
    assert out["s"] == {"type": "string", "count": 10, "missing": 1, "distinct": 6, "top": expected_top}
    assert out["d"]["distinct"] == 6
    assert out["d"]["top"] == expected_top
    assert out["d"]["missing"] == 1


def test_many_distinct_values_become_approximate() -> None:
    n = 30_000
    builder = ColumnSummaryBuilder()
    for start in range(0, n, 7_000):
        builder.update(pa.table({"s": [f"v{i}" for i in range(start, min(n, start + 7_000))] + ["hot"] * 5}))
    out = builder.result()["s"]
    assert out["distinct_approx"] is True
    assert abs(out["distinct"] - (n + 1)) / (n + 1) < 0.1
    assert out["top"][0] == {"value": "hot", "count": 25}


def test_exact_up_to_the_limit() -> None:
    out = _summary(pa.table({"s": [str(i) for i in range(DISTINCT_EXACT_LIMIT)]}))["s"]
    assert out["distinct"] == DISTINCT_EXACT_LIMIT
    assert "distinct_approx" not in out


def test_timestamps_and_dates_give_iso_strings() -> None:
    table = pa.table(
        {
            "ts": pa.array(
                [dt.datetime(2024, 1, 2, 3, 4, 5), None, dt.datetime(2023, 5, 6)], pa.timestamp("us")
            ),
            "tz": pa.array([1_700_000_000_000_000_000, None, None], pa.timestamp("ns", tz="UTC")),
            "d": [dt.date(2020, 1, 1), dt.date(2021, 2, 3), None],
        }
    )
    out = _summary(table)
    assert out["ts"]["min"] == "2023-05-06T00:00:00.000000"
    assert out["ts"]["max"] == "2024-01-02T03:04:05.000000"
    assert out["ts"]["missing"] == 1
    assert out["tz"]["min"] == "2023-11-14T22:13:20.000000000Z"
    assert out["d"] == {
        "type": "date32[day]",
        "count": 3,
        "missing": 1,
        "min": "2020-01-01",
        "max": "2021-02-03",
    }


def test_other_types_only_count_and_missing() -> None:
    out = _summary(pa.table({"l": [[1], None, [2, 3]], "bin": [b"x", b"y", None]}))
    assert out["l"] == {"type": "list<item: int64>", "count": 3, "missing": 1}
    assert out["bin"] == {"type": "binary", "count": 3, "missing": 1}


def _mixed_table(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    floats = rng.normal(10, 3, n)
    floats[rng.random(n) < 0.1] = np.nan
    return pa.table(
        {
            "i": pa.array(rng.integers(-100, 100, n), mask=rng.random(n) < 0.05),
            "f": floats,
            "s": pa.array(rng.choice(["x", "y", "z", "w"], n).tolist(), mask=rng.random(n) < 0.02),
            "t": pa.array(rng.integers(0, 10**12, n), pa.timestamp("ms")),
        }
    )


def test_batches_and_merges_equal_the_whole_table() -> None:
    table = _mixed_table(10_000, 1)
    whole = _summary(table.combine_chunks())
    streamed = ColumnSummaryBuilder()
    for batch in table.to_batches(max_chunksize=777):
        streamed.update(batch)
    left, right = ColumnSummaryBuilder(), ColumnSummaryBuilder()
    left.update(table.slice(0, 3_000))
    right.update(table.slice(3_000))
    left.merge(right)
    for other in (streamed.result(), left.result()):
        assert other.keys() == whole.keys()
        for name, col in whole.items():
            for key, value in col.items():
                assert other[name][key] == (pytest.approx(value) if isinstance(value, float) else value)
    f = table.column("f").to_numpy()
    assert whole["f"]["mean"] == pytest.approx(np.nanmean(f))
    assert whole["f"]["std"] == pytest.approx(np.nanstd(f, ddof=1))


def test_output_is_json() -> None:
    out = _summary(_mixed_table(100, 2))
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_type_change_between_batches_is_an_error() -> None:
    builder = ColumnSummaryBuilder()
    builder.update(pa.table({"x": [1]}))
    with pytest.raises(ValueError, match="changed type"):
        builder.update(pa.table({"x": ["a"]}))
