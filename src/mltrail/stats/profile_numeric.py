"""Mergeable summary of one numeric column: exact moments (Chan et al.) plus a KLL quantile sketch."""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np
from datasketches import kll_doubles_sketch

from mltrail.stats.kll_merge import merge_kll
from mltrail.stats.kll_sorted import sample_shift, sorted_sketch_bytes

__all__ = ["INGEST_SEED", "NumericSummary"]

INGEST_SEED = 0x696E6773  # "ings": the sampling and compaction offsets of every sketched batch


class NumericSummary:
    """Count, min, max, mean and M2 of finite values, merged exactly, and a KLL sketch of the same values.

    Only finite values enter: NaN and ±inf are counted by the caller (:class:`ColumnProfile`), because a
    single inf turns mean and variance into inf/NaN and makes every CDF-distance undefined.
    Build one with :meth:`empty`, feed it with :meth:`update`, combine with :meth:`merged`.
    """

    __slots__ = ("count", "kll", "m2", "max", "mean", "min")

    def __init__(
        self,
        count: int,
        mean: float,
        m2: float,
        min_: float | int | None,
        max_: float | int | None,
        kll: Any,
    ) -> None:
        self.count = count
        self.mean = mean
        self.m2 = m2
        self.min = min_
        self.max = max_
        self.kll = kll

    @classmethod
    def empty(cls, kll_k: int = 200) -> NumericSummary:
        if not 8 <= kll_k <= 65535:
            raise ValueError(f"kll_k must be in [8, 65535], got {kll_k}")
        return cls(0, 0.0, 0.0, None, None, kll_doubles_sketch(kll_k))

    @property
    def variance(self) -> float | None:
        """Sample variance (ddof=1); None below two values."""
        return self.m2 / (self.count - 1) if self.count > 1 else None

    @property
    def std(self) -> float | None:
        var = self.variance
        return None if var is None else math.sqrt(max(var, 0.0))

    def update(self, values: np.ndarray, lo: float | int, hi: float | int) -> None:
        """Add finite float64 ``values`` (any order; a read-only view is fine) whose smallest and
        largest are ``lo`` and ``hi`` (exact ints for integer columns, whose values above 2**53 a
        float cannot hold). See :mod:`mltrail.stats.kll_sorted` for how the sketch takes them."""
        n = len(values)
        if n == 0:
            return
        mean = float(np.add.reduce(values)) / n
        centred = values - mean
        # Not np.dot: it goes to a multithreaded BLAS whose spinning threads cost more than the sum.
        m2 = float(np.add.reduce(np.square(centred, out=centred)))
        self._add_moments(n, mean, m2, lo, hi)
        k = self.kll.k
        if n <= k:
            # Fits KLL's lowest level: no compaction, so no random bits either.
            batch = kll_doubles_sketch(k)
            batch.update(np.sort(values))
        else:
            # Seeded by the batch's size and ends: the same batches give the same sketch in any process
            # (a window's figures must not depend on the run that ingested it), and every batch draws
            # its own offsets, so that their rank errors cancel rather than add up.
            rng = np.random.default_rng([INGEST_SEED, n, self.count, *np.array([lo, hi], "<f8").view("<u8")])
            shift = sample_shift(n)
            # Sorting is the cost here (numpy sorts without the GIL, but about 45 ms per million doubles on
            # an AVX-512 Zen 4): a long batch is sketched from a uniform sample of n >> shift of its values.
            sample = values if shift == 0 else values[rng.integers(0, n, n >> shift)]
            sketch = sorted_sketch_bytes(np.sort(sample), k, rng, n=n, lo=float(lo), hi=float(hi))
            batch = kll_doubles_sketch.deserialize(sketch)
        self.kll = batch if self.kll.is_empty() else merge_kll([self.kll, batch], k)

    def _add_moments(
        self, n: int, mean: float, m2: float, lo: float | int | None, hi: float | int | None
    ) -> None:
        if n == 0:
            return
        total = self.count + n
        if self.count == 0:
            self.mean, self.m2 = mean, m2
        else:
            delta = mean - self.mean
            self.mean += delta * n / total
            self.m2 += m2 + delta * delta * (self.count * n / total)
        self.count = total
        if lo is not None and (self.min is None or lo < self.min):
            self.min = lo
        if hi is not None and (self.max is None or hi > self.max):
            self.max = hi

    def merged(self, other: NumericSummary) -> NumericSummary:
        """A new summary of both inputs; neither is changed. Deterministic, as ``merge_all``."""
        return NumericSummary.merge_all([self, other])

    @classmethod
    def merge_all(cls, parts: list[NumericSummary]) -> NumericSummary:
        """One summary of all ``parts`` (at least one), the same every time for the same parts in the same
        order: the sketches are pooled by :func:`mltrail.stats.kll_merge.merge_kll` (seeded), not merged
        by datasketches (random bits seeded per process)."""
        out = NumericSummary.empty(min(p.kll.k for p in parts))
        for part in parts:
            out._add_moments(part.count, part.mean, part.m2, part.min, part.max)
        out.kll = merge_kll([p.kll for p in parts], out.kll.k)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "mean": self.mean,
            "m2": self.m2,
            "min": self.min,
            "max": self.max,
            "kll_k": self.kll.k,
            "kll": base64.b64encode(self.kll.serialize()).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericSummary:
        kll = kll_doubles_sketch.deserialize(base64.b64decode(data["kll"]))
        return cls(int(data["count"]), float(data["mean"]), float(data["m2"]), data["min"], data["max"], kll)
