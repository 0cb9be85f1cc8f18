"""``LatencySketch``: quantiles within 1 % of numpy's on seeded data, exact merges in any order, and a
JSON form that refuses what it cannot read."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mltrail.stats.latency_sketch import MAX_INDEX, LatencySketch


def _sketch(values: np.ndarray) -> LatencySketch:
    sketch = LatencySketch()
    for v in values:
        sketch.add(float(v))
    return sketch


@pytest.mark.parametrize("seed", [0, 1])
def test_quantiles_are_within_one_percent_of_the_exact_ones(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.concatenate([rng.lognormal(0.0, 1.0, 20_000), rng.exponential(40.0, 2_000)])
    sketch = _sketch(values)
    assert sketch.count == len(values)
    for q in (0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0):
        exact = float(np.quantile(values, q, method="lower"))
        upper = float(np.quantile(values, q, method="higher"))
        got = sketch.quantile(q)
        assert got is not None
        assert exact * 0.99 <= got <= upper * 1.01, (q, got, exact, upper)


def test_merging_in_any_order_gives_the_same_sketch_as_one_pass() -> None:
    rng = np.random.default_rng(5)
    parts = [rng.gamma(2.0, 3.0, n) for n in (10, 1_000, 333)]
    whole = _sketch(np.concatenate(parts))
    forward = LatencySketch()
    for part in parts:
        forward.merge(_sketch(part))
    backward = LatencySketch()
    for part in reversed(parts):
        backward.merge(_sketch(part))
    for merged in (forward, backward):
        assert merged.buckets == whole.buckets and merged.count == whole.count
        assert merged.quantiles((0.5, 0.99)) == whole.quantiles((0.5, 0.99))


def test_zeros_empty_and_odd_values() -> None:
    assert LatencySketch().quantile(0.5) is None
    sketch = LatencySketch()
    for v in (0.0, 0.0, 0.0, math.nan, -1.0, 5.0):
        sketch.add(v)
    assert sketch.count == 4 and sketch.quantile(0.5) == 0.0  # NaN and negatives are not latencies
    assert sketch.quantile(1.0) == pytest.approx(5.0, rel=0.01)
    sketch.add(math.inf)  # into the top bucket, read back finite
    top = sketch.quantile(1.0)
    assert top is not None and math.isfinite(top)
    with pytest.raises(ValueError):
        sketch.quantile(1.5)


def test_the_json_form_round_trips_and_refuses_what_it_cannot_read() -> None:
    sketch = _sketch(np.array([0.0, 1.0, 2.5, 100.0]))
    again = LatencySketch.from_dict(sketch.to_dict())
    assert again.buckets == sketch.buckets and again.zeros == 1 and again.count == 4
    bad = [
        [],
        {"accuracy": 0.05},
        {"zeros": -1},
        {"zeros": True},
        {"sum": "x"},
        {"sum": math.nan},
        {"buckets": []},
        {"buckets": {"a": 1}},
        {"buckets": {"1": -1}},
        {"buckets": {str(MAX_INDEX + 1): 1}},
        {"buckets": {"1": 2**53}},
    ]
    for doc in bad:
        with pytest.raises(ValueError):
            LatencySketch.from_dict(doc)  # type: ignore[arg-type]
