"""A column profile seen as the other kind (``stats.profile_convert``): class codes as labels and back."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from mltrail.stats.profile import profile_batches
from mltrail.stats.profile_convert import as_kind


def test_class_codes_become_labels_with_their_counts() -> None:
    rng = np.random.default_rng(3)
    codes = rng.choice([0, 1, 2], 50_000, p=[0.6, 0.3, 0.1])
    column = profile_batches(pa.table({"y": codes})).columns["y"]
    labels = as_kind(column, "categorical")
    assert labels is not None and labels.kind == "categorical" and labels.categories is not None
    counts, _ = labels.categories.frequencies()
    exact = {str(c): int((codes == c).sum()) for c in (0, 1, 2)}
    assert set(counts) == set(exact) and sum(counts.values()) == 50_000
    for label, n in exact.items():  # within the sketch's PMF error
        assert abs(counts[label] - n) / 50_000 < 0.02
    small = profile_batches(pa.table({"y": [0, 1, 1, 1]})).columns["y"]
    seen = as_kind(small, "categorical")
    assert seen is not None and seen.categories is not None
    assert seen.categories.frequencies()[0] == {"0": 1, "1": 3}  # exact while the sketch holds every value


def test_what_cannot_be_seen_as_the_other_kind_is_none() -> None:
    fractions = profile_batches(pa.table({"y": np.linspace(0, 1, 100)})).columns["y"]
    assert as_kind(fractions, "categorical") is None
    words = profile_batches(pa.table({"y": ["yes", "no"]})).columns["y"]
    assert as_kind(words, "numeric") is None
    numbers = as_kind(profile_batches(pa.table({"y": ["1", "0", "1"]})).columns["y"], "numeric")
    assert numbers is not None and numbers.numeric is not None
    assert numbers.numeric.count == 3 and numbers.numeric.mean == 2 / 3
