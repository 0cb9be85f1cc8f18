"""Mergeable category counts of one column: exact up to a cap, then a frequent-items sketch."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from datasketches import frequent_items_error_type, frequent_strings_sketch

__all__ = ["DEFAULT_CATEGORY_CAP", "DEFAULT_FREQUENT_LG_K", "CategoryCounts"]

DEFAULT_CATEGORY_CAP = 1000
# 2**12 map slots hold up to 3072 items; the estimate of any item is within 3.5/4096 ≈ 0.09 % of the
# column's total weight (datasketches' a-priori bound), far below any drift threshold.
DEFAULT_FREQUENT_LG_K = 12


class CategoryCounts:
    """Counts of non-missing category labels (strings).

    Exact (``counts``) while at most ``cap`` distinct labels have been seen. The update that passes the cap
    moves every count seen so far into a ``frequent_strings_sketch`` and goes on there, so ``total`` stays
    exact and the frequent labels keep estimates with a known error bound, while rare labels fall out.
    """

    __slots__ = ("cap", "counts", "lg_k", "sketch", "total")

    def __init__(
        self,
        cap: int = DEFAULT_CATEGORY_CAP,
        lg_k: int = DEFAULT_FREQUENT_LG_K,
        counts: dict[str, int] | None = None,
        sketch: Any = None,
        total: int = 0,
    ) -> None:
        if cap < 1:
            raise ValueError(f"category_cap must be at least 1, got {cap}")
        if not 3 <= lg_k <= 26:
            raise ValueError(f"frequent_lg_k must be in [3, 26], got {lg_k}")
        self.cap = cap
        self.lg_k = lg_k
        self.counts: dict[str, int] | None = {} if counts is None and sketch is None else counts
        self.sketch = sketch
        self.total = total

    @property
    def exact(self) -> bool:
        return self.sketch is None

    def update(self, counts: Mapping[str, int]) -> None:
        """Add label → count (counts > 0)."""
        self.total += sum(counts.values())
        if self.counts is not None:
            for label, n in counts.items():
                self.counts[label] = self.counts.get(label, 0) + n
            if len(self.counts) > self.cap:
                self._switch_to_sketch()
        else:
            for label, n in counts.items():
                self.sketch.update(label, n)

    def _switch_to_sketch(self) -> None:
        assert self.counts is not None
        self.sketch = frequent_strings_sketch(self.lg_k)
        for label, n in self.counts.items():
            self.sketch.update(label, n)
        self.counts = None

    def frequencies(self) -> tuple[dict[str, int], int]:
        """(label → count, weight of labels not listed). Exact mode lists everything (0 unlisted); sketch
        mode lists the sketch's estimates of the labels it keeps, the rest of ``total`` is unlisted."""
        if self.counts is not None:
            return dict(self.counts), 0
        rows = self.sketch.get_frequent_items(frequent_items_error_type.NO_FALSE_POSITIVES)
        listed = {str(label): int(estimate) for label, estimate, _lower, _upper in rows}
        # Estimates can overshoot by the sketch's error; never let the unlisted weight go negative.
        return listed, max(self.total - sum(listed.values()), 0)

    def merged(self, other: CategoryCounts) -> CategoryCounts:
        """A new CategoryCounts of both inputs (with this one's cap); neither is changed."""
        out = CategoryCounts(self.cap, self.lg_k)
        for part in (self, other):
            if part.counts is not None:
                out.update(part.counts)
                continue
            if out.counts is not None:
                out._switch_to_sketch()
            out.sketch.merge(part.sketch)
            out.total += part.total
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cap": self.cap, "lg_k": self.lg_k, "total": self.total}
        if self.counts is not None:
            out["counts"] = dict(self.counts)
        else:
            out["frequent"] = base64.b64encode(self.sketch.serialize()).decode("ascii")
        return out

    def canonical(self) -> dict[str, Any]:
        """Content to compare by: the sketch's bytes depend on its hash-map layout, which a round trip
        through ``serialize`` may reorder, so the sketch is compared by every item it keeps, with bounds."""
        out = self.to_dict()
        if self.sketch is not None:
            rows = self.sketch.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES)
            out["frequent"] = sorted(rows)
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CategoryCounts) and self.canonical() == other.canonical()

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoryCounts:
        sketch = None
        if "frequent" in data:
            sketch = frequent_strings_sketch.deserialize(base64.b64decode(data["frequent"]))
        counts = {str(k): int(v) for k, v in data["counts"].items()} if "counts" in data else None
        return cls(int(data["cap"]), int(data["lg_k"]), counts, sketch, int(data["total"]))
