"""``LatencySketch``: quantiles of positive values (latencies) within 1 % relative error, merged exactly.

Values go to logarithmic buckets (bucket ``i`` holds ``(γ^(i-1), γ^i]`` with ``γ = 1.01 / 0.99``, the
scheme of DDSketch, Masson et al., VLDB 2019): any quantile is answered within 1 % of a true value of that
rank, whatever the distribution. Merging adds bucket counts, so sketches of many windows and gateway
replicas merge in any order to the same figures (no random compaction, unlike KLL), and adding a value
costs one ``log`` and one dict update, small enough for a request path. Latencies from 1 µs to hours
take at most ~1,500 buckets; in practice a window of requests fills a few dozen. Values at or below
``MIN_VALUE`` are counted in a zero bucket and read back as 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MIN_VALUE", "RELATIVE_ACCURACY", "LatencySketch"]

RELATIVE_ACCURACY = 0.01
MIN_VALUE = 1e-6
MAX_INDEX = 5000  # γ^5000 ≈ 1e43: any finite latency in ms fits, and the read never overflows
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
_TOP = _GAMMA ** (MAX_INDEX - 1)


class LatencySketch:
    """A mergeable quantile sketch of non-negative values; ``to_dict``/``from_dict`` as JSON."""

    __slots__ = ("buckets", "count", "total", "zeros")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.zeros = 0
        self.count = 0
        self.total = 0.0

    def add(self, value: float) -> None:
        """Count one value (a NaN or negative one is ignored: a latency cannot be either)."""
        if not value > MIN_VALUE:  # also False for NaN
            if value >= 0:
                self.zeros += 1
                self.count += 1
            return
        index = MAX_INDEX if value >= _TOP else math.ceil(math.log(value) / _LOG_GAMMA)  # inf: the top one
        buckets = self.buckets
        buckets[index] = buckets.get(index, 0) + 1
        self.count += 1
        if value != math.inf:
            self.total += value

    def merge(self, other: LatencySketch) -> LatencySketch:
        """Add ``other``'s counts into this sketch (exact: the order of merges does not matter)."""
        buckets = self.buckets
        for index, n in other.buckets.items():
            buckets[index] = buckets.get(index, 0) + n
        self.zeros += other.zeros
        self.count += other.count
        self.total += other.total
        return self

    def copy(self) -> LatencySketch:
        return LatencySketch().merge(self)

    def quantile(self, q: float) -> float | None:
        """The value of rank ``q`` (0..1) within 1 % relative error; None for an empty sketch."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"a quantile is between 0 and 1, got {q!r}")
        if self.count == 0:
            return None
        rank = q * (self.count - 1)  # the 0-based rank, as numpy's default (linear) puts it
        seen = self.zeros
        if rank < seen:
            return 0.0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if rank < seen:
                # The middle of the bucket in relative terms: within RELATIVE_ACCURACY of any value in it.
                return 2 * _GAMMA**index / (_GAMMA + 1)
        return 2 * _GAMMA ** max(self.buckets) / (_GAMMA + 1)

    def quantiles(self, qs: Iterable[float]) -> list[float | None]:
        return [self.quantile(q) for q in qs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": RELATIVE_ACCURACY,
            "zeros": self.zeros,
            "sum": self.total,
            "buckets": {str(k): v for k, v in sorted(self.buckets.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LatencySketch:
        """Read ``to_dict``'s form; a malformed one raises ``ValueError`` saying what is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError("a latency sketch is an object")
        if data.get("accuracy", RELATIVE_ACCURACY) != RELATIVE_ACCURACY:
            raise ValueError(f"a latency sketch of accuracy {data.get('accuracy')!r}: only 0.01 is read")
        sketch = cls()
        zeros = data.get("zeros", 0)
        total = data.get("sum", 0.0)
        buckets = data.get("buckets", {})
        if (
            not _count(zeros)
            or isinstance(total, bool)
            or not isinstance(total, int | float)
            or not math.isfinite(total)
            or not isinstance(buckets, Mapping)
        ):
            raise ValueError(
                "a latency sketch has zeros (a count), sum (a finite number) and buckets (an object)"
            )
        if len(buckets) > 4096:
            raise ValueError("a latency sketch has at most 4096 buckets")
        for key, n in buckets.items():
            try:
                index = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"bucket {key!r} is not an integer") from None
            if not _count(n) or abs(index) > MAX_INDEX:
                raise ValueError(f"bucket {key!r}: a count of values in a bucket index within ±{MAX_INDEX}")
            if n:
                sketch.buckets[index] = n
        sketch.zeros = zeros
        sketch.total = float(total)
        sketch.count = zeros + sum(sketch.buckets.values())
        if sketch.count >= 2**53:
            raise ValueError("a latency sketch counts fewer than 2**53 values")
        return sketch


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53
