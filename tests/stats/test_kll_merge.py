"""The deterministic KLL merge: same inputs, same sketch; exact n, min and max; KLL's accuracy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
from datasketches import kll_doubles_sketch

from mltrail.stats.kll_merge import kll_levels, merge_kll
from mltrail.stats.kll_sorted import sorted_sketch_bytes
from mltrail.stats.profile import DatasetProfile, profile_batches


def _sketches(seed: int = 1) -> tuple[list[object], np.ndarray]:
    rng = np.random.default_rng(seed)
    parts, values = [], []
    for i in range(30):
        v = rng.normal(i / 30, 1, 40_000 if i % 3 else 7)
        values.append(v)
        # built with a seeded generator, so that another process builds the very same inputs
        sketch = sorted_sketch_bytes(np.sort(v), 200, np.random.default_rng(i))
        parts.append(kll_doubles_sketch.deserialize(sketch))
    single = kll_doubles_sketch(200)
    single.update(5.0)
    parts += [single, kll_doubles_sketch(200)]
    values.append(np.array([5.0]))
    return parts, np.sort(np.concatenate(values))


def test_the_merge_is_the_same_every_time_and_keeps_n_min_max_and_accuracy() -> None:
    parts, exact = _sketches()
    merged = merge_kll(parts)
    assert merged.serialize() == merge_kll(parts).serialize()
    assert merged.n == exact.size
    assert merged.get_min_value() == exact[0] and merged.get_max_value() == exact[-1]
    n, levels, _, _ = kll_levels(merged)
    assert n == sum(items.size << h for h, items in enumerate(levels))
    bound = kll_doubles_sketch.get_normalized_rank_error(200, False)
    for q in np.linspace(0.01, 0.99, 99):
        assert abs(merged.get_rank(float(np.quantile(exact, q))) - q) <= bound


def test_the_merge_is_the_same_in_another_process() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import test_kll_merge as t; "
        "from mltrail.stats.kll_merge import merge_kll; print(merge_kll(t._sketches()[0]).serialize().hex())"
    )
    here = str(Path(__file__).parent)
    outs = {
        subprocess.run([sys.executable, "-c", code, here], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert outs == {merge_kll(_sketches()[0]).serialize().hex() + "\n"}


def test_profiles_merge_all_matches_merge_but_for_the_sketch_randomness() -> None:
    rng = np.random.default_rng(3)
    profiles = [
        profile_batches(pa.table({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)}))
        for _ in range(5)
    ]
    profiles.append(profile_batches(pa.table({"c": ["a", None]})))
    merged = DatasetProfile.merge_all(profiles)
    assert merged is not None and DatasetProfile.merge_all([]) is None
    folded = profiles[0]
    for p in profiles[1:]:
        folded = folded.merge(p)
    assert merged.rows == folded.rows
    for name in ("x", "c"):
        a, b = merged.columns[name], folded.columns[name]
        assert (a.count, a.nulls, a.absent, a.kind) == (b.count, b.nulls, b.absent, b.kind)
    assert merged.columns["c"].categories.frequencies() == folded.columns["c"].categories.frequencies()  # type: ignore[union-attr]
    x, y = merged.columns["x"].numeric, folded.columns["x"].numeric
    assert x is not None and y is not None
    assert (x.count, x.min, x.max) == (y.count, y.min, y.max) and abs(x.mean - y.mean) < 1e-12
    assert DatasetProfile.merge_all(profiles) == merged  # type: ignore[comparison-overlap]
