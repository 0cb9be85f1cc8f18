"""KllSource reads a sketch's CDF right whatever shape its levels are in."""

from __future__ import annotations

import numpy as np
from datasketches import kll_doubles_sketch

from mltrail.stats.drift_measures import KllSource
from mltrail.stats.kll_sorted import sorted_sketch_bytes


def _assert_matches_the_sketch(sketch: kll_doubles_sketch) -> None:
    source = KllSource(sketch)
    points = np.unique(np.quantile(np.asarray([item for item, _ in sketch]), np.linspace(0, 1, 57)))
    for inclusive in (True, False):
        expected = np.asarray(sketch.get_cdf(points, inclusive))[:-1]
        np.testing.assert_allclose(source.cdf(points, inclusive=inclusive), expected, atol=1e-12)
    ranks = np.linspace(0.01, 0.99, 49)
    # Quantiles are inverted_cdf: the smallest item with F(x) ≥ rank, the sketch's inclusive ones.
    np.testing.assert_array_equal(source.quantiles(ranks), np.asarray(sketch.get_quantiles(ranks, True)))


def test_sketch_with_empty_level_zero() -> None:
    # Regression: the datasketches 5.2 iterator gives weight 1 to every item when level 0 is empty,
    # and KllSource took its weights from it, so half the sketch's mass went missing. A sketch of a
    # sample scaled by 2 has nothing on level 0.
    rng = np.random.default_rng(1)
    values = np.sort(rng.normal(size=30_000))
    sketch = kll_doubles_sketch.deserialize(sorted_sketch_bytes(values, 200, rng, n=60_000))
    assert sum(weight for _, weight in sketch) != sketch.n  # the library bug this guards against
    _assert_matches_the_sketch(sketch)


def test_merged_sketches() -> None:
    # About a quarter of merges leave level 0 empty; check plenty, and that some of them did.
    rng = np.random.default_rng(2)
    empty_level_zero = 0
    for _ in range(60):
        a, b = kll_doubles_sketch(200), kll_doubles_sketch(200)
        a.update(rng.normal(size=int(rng.integers(1, 5_000))))
        b.update(rng.lognormal(size=int(rng.integers(1, 5_000))))
        a.merge(b)
        empty_level_zero += sum(weight for _, weight in a) != a.n
        _assert_matches_the_sketch(a)
    assert empty_level_zero > 0
