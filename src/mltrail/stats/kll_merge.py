"""A deterministic merge of KLL sketches: the same inputs in the same order give the same sketch, always.

``kll_doubles_sketch.merge`` compacts with random bits from a generator that datasketches seeds from the
clock when the process starts, so merging the same window sketches twice gives different sketches, and a
report read twice gave different drift figures (a feature near its threshold flipped). ``merge_kll`` reads
every input's retained items from its serialized form (the DataSketches KLL layout, see
:mod:`mltrail.stats.kll_sorted`), pools them level by level (an item at level ``h`` stands for ``2**h``
values) and compacts the pool the way KLL does — the lowest over-full level is sorted and halved, every
other item from a random offset going one level up, an odd item staying — with offsets drawn from a
generator seeded by a fixed seed and the inputs' size and ends. The result is an ordinary KLL sketch of
parameter ``k`` with exactly the inputs' total weight, exact min and max, and KLL's error guarantee (the
compactions are KLL's own; only the source of the random bits differs). Pooling all inputs at once also
costs less than merging them one by one.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
from datasketches import kll_doubles_sketch

from mltrail.stats.kll_sorted import M, level_capacity, total_capacity

__all__ = ["MERGE_SEED", "kll_levels", "merge_kll"]

MERGE_SEED = 0x6D6C7472  # "mltr": the compaction offsets of every merge come from this seed
_SHORT = struct.Struct("<BBBBHBB")
_FULL = struct.Struct("<QHBB")
_FLAG_EMPTY = 1
_FLAG_SINGLE_ITEM = 4


def kll_levels(sketch: Any) -> tuple[int, list[np.ndarray], float, float]:
    """(n, the retained items per level — each sorted —, min, max) of a ``kll_doubles_sketch``."""
    data = sketch.serialize()
    _pre, _version, _family, flags, k, m, _ = _SHORT.unpack_from(data, 0)
    if flags & _FLAG_EMPTY:
        return 0, [], float("nan"), float("nan")
    if flags & _FLAG_SINGLE_ITEM:
        (item,) = struct.unpack_from("<d", data, _SHORT.size)
        return 1, [np.array([item], dtype=np.float64)], float(item), float(item)
    if m != M:
        raise ValueError(f"a KLL sketch with m={m} is not supported (only {M})")
    n, _min_k, num_levels, _ = _FULL.unpack_from(data, _SHORT.size)
    at = _SHORT.size + _FULL.size
    offsets = list(struct.unpack_from(f"<{num_levels}I", data, at))
    at += 4 * num_levels
    low, high = struct.unpack_from("<dd", data, at)
    at += 16
    capacity = total_capacity(k, num_levels)
    items = np.frombuffer(data, dtype="<f8", count=capacity - offsets[0], offset=at)
    bounds = [*offsets, capacity]
    levels = [np.sort(items[bounds[h] - offsets[0] : bounds[h + 1] - offsets[0]]) for h in range(num_levels)]
    return int(n), levels, float(low), float(high)


def merge_kll(sketches: Sequence[Any], k: int | None = None, *, seed: int = MERGE_SEED) -> Any:
    """One ``kll_doubles_sketch`` (parameter ``k``, default the smallest input's) of all ``sketches``,
    the same for the same inputs in the same order."""
    if k is None:
        k = min((s.k for s in sketches), default=200)
    pool: list[list[np.ndarray]] = []
    total = 0
    low, high = float("inf"), float("-inf")
    for sketch in sketches:
        if sketch.is_empty():
            continue
        n, levels, lo, hi = kll_levels(sketch)
        total += n
        low, high = min(low, lo), max(high, hi)
        for h, items in enumerate(levels):
            if h == len(pool):
                pool.append([])
            pool[h].append(items)
    if total == 0:
        return kll_doubles_sketch(k)
    levels = [np.sort(np.concatenate(parts)) for parts in pool]
    # The offsets come from the seed and the inputs' size and ends: the same inputs give the same sketch,
    # while a chain of merges (a window taking batch after batch) draws fresh offsets at every step.
    # One seed for every step would keep the same side of each pair every time, and the rank errors of
    # the steps would add up instead of cancelling (twice KLL's error after 20 steps).
    rng = np.random.default_rng([seed, total, *_bits(low, high)])
    while sum(int(a.size) for a in levels) > total_capacity(k, len(levels)):
        num_levels = len(levels)
        h = next(
            (i for i in range(num_levels) if levels[i].size >= level_capacity(k, num_levels, i)),
            num_levels - 1,
        )
        if h == num_levels - 1:
            levels.append(np.empty(0, dtype=np.float64))
        items = levels[h]
        odd = int(items.size % 2)
        offset = int(rng.integers(0, 2))
        promoted = items[odd + offset :: 2]
        levels[h] = items[:odd]
        levels[h + 1] = np.sort(np.concatenate((levels[h + 1], promoted)), kind="stable")
    if levels and levels[-1].size == 0 and len(levels) > 1:
        levels.pop()
    return kll_doubles_sketch.deserialize(_serialize(levels, k, total, low, high))


def _bits(*values: float) -> list[int]:
    return [int(x) for x in np.asarray(values, dtype="<f8").view("<u8")]


def _serialize(levels: list[np.ndarray], k: int, n: int, low: float, high: float) -> bytes:
    num_levels = len(levels)
    count = sum(int(a.size) for a in levels)
    offsets = [total_capacity(k, num_levels) - count]
    for items in levels[:-1]:
        offsets.append(offsets[-1] + int(items.size))
    header = struct.pack("<BBBBHBBQHBB", 5, 1, 15, 2, k, M, 0, n, k, num_levels, 0)
    body = np.concatenate(levels).astype("<f8", copy=False).tobytes()
    return b"".join((header, struct.pack(f"<{num_levels}I", *offsets), struct.pack("<dd", low, high), body))
