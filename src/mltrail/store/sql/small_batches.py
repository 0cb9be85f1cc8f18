"""Small metric batches without numpy: the same deduplication, groups and rollup rows as the numpy path.

A short run (and the first system-metrics sample of any run) sends a few hundred points; preparing them in
plain Python costs less than importing numpy (~0.1 s), which the numpy path in ``metrics`` and ``rollups``
then never needs. Only batches that append after every key's stored steps take this path: one that may
overwrite a stored step needs the rollups recomputed, which the numpy path does. ``tests/store`` checks that
both paths store identical rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mltrail.entities import MetricsBatch

__all__ = ["MAX_SMALL_POINTS", "SmallBatch", "rollup_columns"]

# Above this many points numpy is faster than plain Python (and worth its import).
MAX_SMALL_POINTS = 2_000
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
# As in rollups: level n cuts steps into buckets of 64 * 8**(n-1); five levels.
_BASE_WIDTH = 64
_FANOUT = 8
_LEVELS = 5


@dataclass(slots=True)
class SmallGroup:
    """The points of one key in the batch (deduplicated, by step): positions start…end in the columns."""

    key: str
    start: int
    end: int
    first_step: int
    last_step: int
    last: float | None
    min: float | None
    max: float | None


class SmallBatch:
    """A batch as plain columns grouped by key and ordered by step, the last write of a (key, step) kept."""

    def __init__(
        self, names: list[str], kidx: list[int], steps: list[int], values: list[float], walls: list[float]
    ):
        self.names = names
        self.kidx = kidx
        self.steps = steps
        self.values = values
        self.walls = walls
        self.groups: list[SmallGroup] = []
        start = 0
        n = len(kidx)
        while start < n:
            end = start + 1
            while end < n and kidx[end] == kidx[start]:
                end += 1
            numbers = [v for v in values[start:end] if v == v]
            self.groups.append(
                SmallGroup(
                    key=names[kidx[start]],
                    start=start,
                    end=end,
                    first_step=steps[start],
                    last_step=steps[end - 1],
                    last=_finite_or_none(values[end - 1]),
                    min=_finite_or_none(min(numbers)) if numbers else None,
                    max=_finite_or_none(max(numbers)) if numbers else None,
                )
            )
            start = end

    @classmethod
    def of(cls, batch: MetricsBatch) -> SmallBatch | None:
        """The batch prepared in plain Python, or None when it is large or holds anything but ``int``
        steps in int64 range, ``float`` values and finite ``float`` wall times (the numpy path
        then prepares it, and reports what is wrong with it)."""
        keys, steps, values, walls = batch.keys, batch.steps, batch.values, batch.wall_times
        n = len(keys)
        if n > MAX_SMALL_POINTS or not (len(steps) == len(values) == len(walls) == n):
            return None
        for step in steps:
            if type(step) is not int or not _I64_MIN <= step <= _I64_MAX:
                return None
        for value in values:
            if type(value) is not float:
                return None
        for wall in walls:
            if type(wall) is not float or not math.isfinite(wall):
                return None
        names = sorted(set(keys))
        index = {name: i for i, name in enumerate(names)}
        last: dict[tuple[int, int], int] = {}
        for i in range(n):
            last[(index[keys[i]], steps[i])] = i  # a later arrival of the same (key, step) wins
        order = sorted(last.items())
        return cls(
            names,
            [k for (k, _), _ in order],
            [s for (_, s), _ in order],
            [values[i] for _, i in order],
            [walls[i] for _, i in order],
        )


def _finite_or_none(value: float) -> float | None:
    """NaN becomes None (as ``metrics._finite_or_none``: infinities are kept)."""
    return None if math.isnan(value) else float(value)


# (key id, bucket, min step, min value, min wall, max step, max value, max wall, count, NaN count)
_Entry = tuple[int, int, int, float, float, int, float, float, int, int]


def rollup_columns(
    key_ids: Sequence[int], steps: Sequence[int], values: Sequence[float], walls: Sequence[float]
) -> list[list[Any]]:
    """The rows every level of ``metric_rollups`` gets from these appended points (grouped by key, by step),
    one list per column, NaN as None: what ``rollups.Buckets`` computes with numpy."""
    entries: list[_Entry] = [
        (k, s // _BASE_WIDTH, s, v, w, s, v, w, 1, 1 if v != v else 0)
        for k, s, v, w in zip(key_ids, steps, values, walls, strict=True)
    ]
    columns: list[list[Any]] = [[] for _ in range(11)]
    for level in range(1, _LEVELS + 1):
        if level > 1:
            entries = [(e[0], e[1] // _FANOUT, *e[2:]) for e in entries]
        entries = _reduce(entries)
        for e in entries:
            low: float | None = None if e[3] != e[3] else e[3]
            high: float | None = None if e[6] != e[6] else e[6]
            for column, item in zip(
                columns, (e[0], level, e[1], e[2], low, e[4], e[5], high, e[7], e[8], e[9]), strict=True
            ):
                column.append(item)
    return columns


def _reduce(entries: list[_Entry]) -> list[_Entry]:
    """Merge consecutive entries of one (key, bucket): the first entry holding the smallest non-NaN minimum
    (the largest maximum) wins, the segment's first when it holds only NaN; counts add up."""
    out: list[_Entry] = []
    n = len(entries)
    start = 0
    while start < n:
        key, bucket = entries[start][0], entries[start][1]
        end = start + 1
        while end < n and entries[end][0] == key and entries[end][1] == bucket:
            end += 1
        segment = entries[start:end]
        lows = [e[3] for e in segment if e[3] == e[3]]
        highs = [e[6] for e in segment if e[6] == e[6]]
        at_low = segment[0]
        if lows:
            low = min(lows)
            at_low = next(e for e in segment if e[3] == low)
        at_high = segment[0]
        if highs:
            high = max(highs)
            at_high = next(e for e in segment if e[6] == high)
        out.append(
            (
                key,
                bucket,
                at_low[2],
                at_low[3],
                at_low[4],
                at_high[5],
                at_high[6],
                at_high[7],
                sum(e[8] for e in segment),
                sum(e[9] for e in segment),
            )
        )
        start = end
    return out
