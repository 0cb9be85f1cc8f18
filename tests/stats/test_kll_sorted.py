"""KLL sketches built in one step from sorted batches (stats.kll_sorted): valid, exact in n and ends,
and within the stated rank error. The picks come from the generator passed in, so these are
deterministic."""

from __future__ import annotations

import re

import numpy as np
import pytest
from datasketches import kll_doubles_sketch

from mltrail.stats.kll_sorted import (
    SAMPLE_SIZE,
    level_capacity,
    sample_shift,
    sorted_sketch_bytes,
    total_capacity,
)


def _levels(sketch: kll_doubles_sketch) -> list[tuple[int, int]]:
    """(nominal capacity, size) per level, from the sketch's own summary."""
    text = sketch.to_string(True, False)
    return [(int(cap), int(size)) for cap, size in re.findall(r"^\s+\d+: (\d+), (\d+)$", text, re.M)]


def _rank_error(sketch: kll_doubles_sketch, exact: np.ndarray) -> float:
    points = np.quantile(exact, np.linspace(0.0005, 0.9995, 400))
    truth = np.searchsorted(exact, points, side="right") / exact.size
    estimate = np.asarray(sketch.get_cdf(np.unique(points), True))[:-1]
    return float(np.abs(estimate - truth[np.searchsorted(points, np.unique(points))]).max())


def test_capacities_match_the_library() -> None:
    # The library's own summary lists each level's nominal capacity: ours must agree, or the
    # offsets written would point at the wrong items.
    rng = np.random.default_rng(0)
    for n in (1_000, 10_000, 100_000, 1_000_000):
        sketch = kll_doubles_sketch(200)
        sketch.update(rng.normal(size=n))
        levels = _levels(sketch)
        assert [cap for cap, _ in levels] == [level_capacity(200, len(levels), h) for h in range(len(levels))]
        assert total_capacity(200, len(levels)) == sum(cap for cap, _ in levels)


@pytest.mark.parametrize("n", [1, 2, 7, 200, 201, 801, 4_096, 4_097, 32_767, 100_000, 131_071])
@pytest.mark.parametrize("k", [8, 200, 1_000])
def test_whole_batch_sketch_is_valid_and_close(n: int, k: int) -> None:
    rng = np.random.default_rng(n + k)
    values = np.sort(rng.lognormal(0.0, 1.0, n))
    sketch = kll_doubles_sketch.deserialize(sorted_sketch_bytes(values, k, rng))
    assert sketch.n == n
    assert sketch.get_min_value() == values[0] and sketch.get_max_value() == values[-1]
    for capacity, size in _levels(sketch):
        assert size <= capacity
    assert sketch.num_retained <= total_capacity(k, len(_levels(sketch)))
    # Any rank is off by less than one top-level block: 2**h / n < 2 / k.
    assert _rank_error(sketch, values) < 2.0 / k + 1e-12
    # A valid state: it serializes back to the same bytes and keeps working as a sketch.
    assert sketch.serialize() == kll_doubles_sketch.deserialize(sketch.serialize()).serialize()
    sketch.update(values)
    assert sketch.n == 2 * n


@pytest.mark.parametrize("n", [2 * SAMPLE_SIZE, 100_000, 131_072, 1_000_003])
def test_sampled_sketch_keeps_n_and_ends_exact(n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.normal(3.0, 2.0, n)
    shift = sample_shift(n)
    sample = np.sort(values[rng.integers(0, n, n >> shift)])
    assert SAMPLE_SIZE <= sample.size < 2 * SAMPLE_SIZE
    raw = sorted_sketch_bytes(sample, 200, rng, n=n, lo=float(values.min()), hi=float(values.max()))
    sketch = kll_doubles_sketch.deserialize(raw)
    assert sketch.n == n
    assert sketch.get_min_value() == values.min() and sketch.get_max_value() == values.max()
    for capacity, size in _levels(sketch):
        assert size <= capacity
    # Within KLL's own bound at k=200 (1.33 %, 99 % confidence); the sample adds ≤ 0.4 % (1 sd).
    assert _rank_error(sketch, np.sort(values)) < sketch.normalized_rank_error(False)


def test_merged_sampled_batches_stay_within_the_kll_bound() -> None:
    rng = np.random.default_rng(5)
    merged = kll_doubles_sketch(200)
    everything = []
    for _ in range(8):
        batch = rng.lognormal(0.0, 0.75, 131_072)
        everything.append(batch)
        sample = np.sort(batch[rng.integers(0, batch.size, batch.size >> sample_shift(batch.size))])
        merged.merge(
            kll_doubles_sketch.deserialize(
                sorted_sketch_bytes(sample, 200, rng, n=batch.size, lo=batch.min(), hi=batch.max())
            )
        )
    exact = np.sort(np.concatenate(everything))
    assert merged.n == exact.size
    assert _rank_error(merged, exact) < merged.normalized_rank_error(False)


def test_bad_arguments() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="at least one"):
        sorted_sketch_bytes(np.empty(0), 200, rng)
    with pytest.raises(ValueError, match="power-of-two multiple"):
        sorted_sketch_bytes(np.arange(10.0), 200, rng, n=35)
