"""Min/max rollups of metric points per step bucket: kept up to date when points are written, so a long
history is downsampled from a few hundred rollup rows instead of every point."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy.engine import Connection

from mltrail.store.sql.rollup_rows import MERGE as _MERGE
from mltrail.store.sql.rollup_rows import REPLACE as _REPLACE
from mltrail.store.sql.rollup_rows import insert_rollups as _insert

__all__ = [
    "LEVELS",
    "Buckets",
    "Sampled",
    "bucket_width",
    "fetch_tuples",
    "read_downsampled",
    "write_rollups",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

# Level ``n`` cuts steps into buckets of 64 * 8**(n-1) steps (bucket = step // width), so each bucket is
# exactly 8 buckets of the level below: 64, 512, 4096, 32768, 262144.
LEVELS = (1, 2, 3, 4, 5)
_BASE_WIDTH = 64
_FANOUT = 8

# A range this many steps long or shorter, whose finest rollups are coarser than asked, is downsampled from
# its points (it holds at most this many).
_FINER_THAN_ROLLUPS = 262_144

# Recomputing after an overwrite reads whole buckets; affected buckets at most this many buckets apart
# are read as one range (reading a few unaffected buckets costs less than another query).
_MERGE_GAP = 4


def bucket_width(level: int) -> int:
    return int(_BASE_WIDTH * _FANOUT ** (level - 1))


@dataclass(slots=True)
class Buckets:
    """The extremes of some (key, bucket)s of one level as columns, grouped by key and ordered by bucket.

    A bucket's minimum is its smallest non-NaN value and the first step holding it (likewise the maximum);
    a bucket of only NaN has NaN extremes at its first step, so a gap can still be drawn.
    """

    key_ids: I64
    buckets: I64
    min_steps: I64
    min_values: F64
    min_walls: F64
    max_steps: I64
    max_values: F64
    max_walls: F64
    counts: I64
    nan_counts: I64

    @classmethod
    def of_points(cls, key_ids: I64, steps: I64, values: F64, walls: F64) -> Buckets:
        """Level 1 from points grouped by key and ordered by step (NaN for missing values)."""
        ones = np.ones(len(steps), dtype=np.int64)
        nans = np.isnan(values).astype(np.int64)
        return _reduce(key_ids, steps // _BASE_WIDTH, steps, values, walls, steps, values, walls, ones, nans)

    def coarser(self) -> Buckets:
        """The next level: every 8 consecutive buckets become one."""
        return _reduce(
            self.key_ids,
            self.buckets // _FANOUT,
            self.min_steps,
            self.min_values,
            self.min_walls,
            self.max_steps,
            self.max_values,
            self.max_walls,
            self.counts,
            self.nan_counts,
        )

    def __len__(self) -> int:
        return len(self.key_ids)

    def subset(self, mask: npt.NDArray[np.bool_]) -> Buckets:
        return Buckets(
            self.key_ids[mask],
            self.buckets[mask],
            self.min_steps[mask],
            self.min_values[mask],
            self.min_walls[mask],
            self.max_steps[mask],
            self.max_values[mask],
            self.max_walls[mask],
            self.counts[mask],
            self.nan_counts[mask],
        )

    def columns(self, level: int) -> list[list[Any]]:
        """The rows to store, as one list per column of ``metric_rollups`` (NaN as None)."""
        low: list[float | None] = self.min_values.tolist()
        high: list[float | None] = self.max_values.tolist()
        if np.isnan(self.min_values).any():  # NaN is stored as NULL
            low = [None if v != v else v for v in low]
            high = [None if v != v else v for v in high]
        return [
            self.key_ids.tolist(),
            [level] * len(self),
            self.buckets.tolist(),
            self.min_steps.tolist(),
            low,
            self.min_walls.tolist(),
            self.max_steps.tolist(),
            high,
            self.max_walls.tolist(),
            self.counts.tolist(),
            self.nan_counts.tolist(),
        ]


def _reduce(
    key_ids: I64,
    buckets: I64,
    min_steps: I64,
    min_values: F64,
    min_walls: F64,
    max_steps: I64,
    max_values: F64,
    max_walls: F64,
    counts: I64,
    nan_counts: I64,
) -> Buckets:
    """Merge consecutive entries of one (key, bucket); entries are ordered by step within a key."""
    if len(key_ids) == 0:
        return Buckets(
            key_ids,
            buckets,
            min_steps,
            min_values,
            min_walls,
            max_steps,
            max_values,
            max_walls,
            counts,
            nan_counts,
        )
    new = np.empty(len(key_ids), dtype=bool)
    new[0] = True
    np.not_equal(key_ids[1:], key_ids[:-1], out=new[1:])
    new[1:] |= buckets[1:] != buckets[:-1]
    starts = np.flatnonzero(new)
    segment = np.cumsum(new) - 1
    low = np.fmin.reduceat(min_values, starts)
    high = np.fmax.reduceat(max_values, starts)
    at_low = _first_match(min_values == low[segment], segment, starts)
    at_high = _first_match(max_values == high[segment], segment, starts)
    return Buckets(
        key_ids=key_ids[starts],
        buckets=buckets[starts],
        min_steps=min_steps[at_low],
        min_values=min_values[at_low],  # not `low`: keeps the stored value exactly (e.g. its sign)
        min_walls=min_walls[at_low],
        max_steps=max_steps[at_high],
        max_values=max_values[at_high],
        max_walls=max_walls[at_high],
        counts=np.add.reduceat(counts, starts),
        nan_counts=np.add.reduceat(nan_counts, starts),
    )


def _first_match(mask: npt.NDArray[np.bool_], segment: I64, starts: I64) -> I64:
    """Per segment, the index of its first True in ``mask``; the segment's start where it has none."""
    hits = np.flatnonzero(mask)
    found = segment[hits]
    first = np.empty(len(hits), dtype=bool)
    first[:1] = True
    np.not_equal(found[1:], found[:-1], out=first[1:])
    chosen = starts.copy()
    chosen[found[first]] = hits[first]
    return chosen


# -- writing --------------------------------------------------------------------------------------------
def write_rollups(
    conn: Connection,
    key_ids: I64,
    steps: I64,
    values: F64,
    walls: F64,
    rewrites: npt.NDArray[np.bool_],
) -> None:
    """Update every level with the points just written (grouped by key, ordered by step).

    Points of keys whose batch only appends after their stored steps are merged into the rollups; keys
    whose batch may have overwritten stored steps (``rewrites``) get their touched buckets recomputed from
    the stored points, since an overwritten extreme cannot be taken back out of a rollup.
    """
    if rewrites.all():
        _recompute(conn, key_ids, steps, values, walls)
        return
    appended = ~rewrites
    buckets = Buckets.of_points(key_ids[appended], steps[appended], values[appended], walls[appended])
    columns = buckets.columns(1)
    for level in LEVELS[1:]:
        buckets = buckets.coarser()
        for column, more in zip(columns, buckets.columns(level), strict=True):
            column.extend(more)
    _insert(conn, columns, _MERGE)
    if rewrites.any():
        _recompute(conn, key_ids[rewrites], steps[rewrites], values[rewrites], walls[rewrites])


def _recompute(conn: Connection, key_ids: I64, steps: I64, values: F64, walls: F64) -> None:
    """Rebuild the buckets holding these points: level 1 from the points, each level from the one below."""
    written = Buckets.of_points(key_ids, steps, values, walls)
    # A bucket holding 64 points of the batch holds all its steps: no other point can be stored there.
    whole = written.counts == _BASE_WIDTH
    _insert(conn, written.subset(whole).columns(1), _REPLACE)
    cut = written.subset(~whole)
    stored = Buckets.of_points(*_read_points(conn, _ranges(cut.key_ids, cut.buckets, _BASE_WIDTH)))
    _insert(conn, stored.columns(1), _REPLACE)
    touched_keys, touched = written.key_ids, written.buckets
    for level in LEVELS[1:]:
        parents_keys, parents = _distinct(touched_keys, touched // _FANOUT)
        buckets = _read_rollups(conn, level - 1, _ranges(parents_keys, parents, _FANOUT)).coarser()
        _insert(conn, buckets.columns(level), _REPLACE)
        touched_keys, touched = buckets.key_ids, buckets.buckets


def _distinct(key_ids: I64, buckets: I64) -> tuple[I64, I64]:
    """The distinct (key, bucket) pairs of pairs grouped by key and ordered by bucket within a key."""
    if len(key_ids) == 0:
        return key_ids, buckets
    new = np.ones(len(key_ids), dtype=bool)
    new[1:] = (key_ids[1:] != key_ids[:-1]) | (buckets[1:] != buckets[:-1])
    return key_ids[new], buckets[new]


def _ranges(key_ids: I64, buckets: I64, width: int) -> list[tuple[int, int, int]]:
    """(key id, first, last) inclusive ranges of the units (steps or child buckets) of these buckets,
    ``width`` units per bucket; buckets close together share one range."""
    ranges: list[tuple[int, int, int]] = []
    for key_id, bucket in zip(key_ids.tolist(), buckets.tolist(), strict=True):
        if ranges and ranges[-1][0] == key_id and bucket * width - ranges[-1][2] <= _MERGE_GAP * width + 1:
            ranges[-1] = (key_id, ranges[-1][1], (bucket + 1) * width - 1)
        else:
            ranges.append((key_id, bucket * width, (bucket + 1) * width - 1))
    return ranges


def _read_points(conn: Connection, ranges: list[tuple[int, int, int]]) -> tuple[I64, I64, F64, F64]:
    """Key ids, steps, values (NaN for NULL) and wall times of the points in these ranges, grouped by key,
    by step."""
    columns = ("key_id", "step", "value", "wall_time")
    rows = _read_ranges(conn, columns, "metric_points", "step", None, ranges)
    n = len(rows)
    return (
        np.fromiter((r[0] for r in rows), dtype=np.int64, count=n),
        np.fromiter((r[1] for r in rows), dtype=np.int64, count=n),
        np.fromiter((math.nan if r[2] is None else r[2] for r in rows), dtype=np.float64, count=n),
        np.fromiter((r[3] for r in rows), dtype=np.float64, count=n),
    )


def _read_rollups(conn: Connection, level: int, ranges: list[tuple[int, int, int]]) -> Buckets:
    """The stored buckets of one level in these (key id, first bucket, last bucket) ranges."""
    columns = (
        "key_id",
        "bucket",
        "min_step",
        "min_value",
        "min_wall_time",
        "max_step",
        "max_value",
        "max_wall_time",
        "count",
        "nan_count",
    )
    rows = _read_ranges(conn, columns, "metric_rollups", "bucket", level, ranges)
    cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * len(columns)

    def ints(i: int) -> I64:
        return np.array(cols[i], dtype=np.int64)

    def floats(i: int) -> F64:
        return np.array([math.nan if v is None else v for v in cols[i]], dtype=np.float64)

    return Buckets(
        ints(0), ints(1), ints(2), floats(3), floats(4), ints(5), floats(6), floats(7), ints(8), ints(9)
    )


def _read_ranges(
    conn: Connection,
    columns: Sequence[str],
    table: str,
    unit: str,
    level: int | None,
    ranges: list[tuple[int, int, int]],
) -> list[tuple[Any, ...]]:
    """Rows of ``table`` (of ``level`` if given) whose ``unit`` column lies in one of the (key id, first,
    last) ranges, grouped by key and ordered by ``unit``. Names are fixed text of this module, never data."""
    if conn.dialect.name == "sqlite":  # in-process: a query per range costs microseconds
        of_level = "" if level is None else f" AND level = {int(level)}"
        sql = (
            f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608
            f" WHERE key_id = ?{of_level} AND {unit} >= ? AND {unit} <= ? ORDER BY {unit}"
        )
        out: list[tuple[Any, ...]] = []
        for key_id, first, last in ranges:
            out.extend(fetch_tuples(conn, sql, (key_id, first, last)))
        return out
    # PostgreSQL: one round trip for all ranges.
    of_level = "" if level is None else f" AND t.level = {int(level)}"
    sql = (
        f"SELECT {', '.join('t.' + c for c in columns)}"  # noqa: S608
        " FROM unnest(%s::int4[], %s::int8[], %s::int8[]) AS q(key_id, first, last)"
        f" JOIN {table} t ON t.key_id = q.key_id{of_level} AND t.{unit} >= q.first AND t.{unit} <= q.last"
        f" ORDER BY t.key_id, t.{unit}"
    )
    keys, firsts, lasts = ([r[i] for r in ranges] for i in range(3))
    return list(fetch_tuples(conn, sql, (keys, firsts, lasts)))


def fetch_tuples(conn: Connection, sql: str, args: Sequence[Any]) -> Sequence[Any]:
    """Plain DBAPI tuples: building a Row per point would triple the time. On PostgreSQL, binary
    results parse faster than text. ``sql`` holds only placeholders, never data."""
    if conn.dialect.name == "sqlite":
        result = conn.exec_driver_sql(sql, tuple(args))
        try:
            rows: Sequence[Any] = result.cursor.fetchall()
            return rows
        finally:
            result.close()
    driver: Any = conn.connection.driver_connection
    with driver.cursor(binary=True) as cursor:
        cursor.execute(sql, tuple(args))
        return cast(Sequence[Any], cursor.fetchall())


# -- reading --------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Sampled:
    """The points kept for a downsampled history, and how many points the range holds."""

    steps: list[int]
    values: list[float]
    wall_times: list[float]
    total: int


def read_downsampled(
    conn: Connection, key_id: int, min_step: int | None, max_step: int | None, max_points: int
) -> Sampled | None:
    """At most ``max_points`` points of the key within [min_step, max_step], from the rollups.

    The range is cut into at most ``(max_points - 2) // 2`` groups of consecutive buckets of the finest level
    that allows it (a group spans 1 to 8 buckets); each group gives its minimum and maximum point, and the
    range's first and last points are kept too. Buckets cut by the range's
    ends are computed from their points inside the range, so no point outside it leaks in. ``None`` when
    even the coarsest level has too many buckets, or the finest has fewer than the budget and the range is
    short (the caller downsamples the points themselves).
    ``Sampled.total`` can be ≤ ``max_points``: the caller then returns the points as they are.
    """
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    where, args = f"key_id = {mark}", [key_id]
    if min_step is not None:
        where, args = f"{where} AND step >= {mark}", [*args, min_step]
    if max_step is not None:
        where, args = f"{where} AND step <= {mark}", [*args, max_step]
    point = f"SELECT step, value, wall_time FROM metric_points WHERE {where} ORDER BY step"  # noqa: S608
    first = fetch_tuples(conn, f"{point} LIMIT 1", args)
    if not first:
        return Sampled([], [], [], 0)
    last = fetch_tuples(conn, f"{point} DESC LIMIT 1", args)
    lo, hi = int(first[0][0]), int(last[0][0])
    n_buckets = (max_points - 2) // 2

    def span(level: int) -> int:
        return hi // bucket_width(level) - lo // bucket_width(level) + 1

    # The finest level within a factor of 8 of the budget; `group` neighbouring buckets then merge into one,
    # so the result comes close to max_points instead of as low as an eighth of it.
    level = next((n for n in LEVELS if span(n) <= _FANOUT * n_buckets), None)
    if level is None:
        return None
    if level == LEVELS[0] and span(level) < n_buckets and span(level) * _BASE_WIDTH <= _FINER_THAN_ROLLUPS:
        # Even the finest buckets are fewer than the budget asks for (1,000 steps are 16 buckets of 64: 32
        # points where 200 were asked): the range holds few enough points to downsample them directly.
        return None
    group = -(-span(level) // n_buckets)
    width = bucket_width(level)
    first_bucket = lo // width
    rows = fetch_tuples(
        conn,
        "SELECT bucket, min_step, min_value, min_wall_time, max_step, max_value, max_wall_time, count"  # noqa: S608
        " FROM metric_rollups"
        f" WHERE key_id = {mark} AND level = {mark} AND bucket >= {mark} AND bucket <= {mark}"
        " ORDER BY bucket",
        (key_id, level, lo // width, hi // width),
    )
    # Buckets reaching past a requested end: only their points inside the range count.
    cut = set()
    if min_step is not None and (lo // width) * width < min_step:
        cut.add(lo // width)
    if max_step is not None and (hi // width + 1) * width - 1 > max_step:
        cut.add(hi // width)
    candidates: dict[int, list[tuple[Any, ...]]] = {}  # group → points, in step order
    total = 0
    for bucket, low_step, low, low_wall, high_step, high, high_wall, count in rows:
        if bucket not in cut:
            points = candidates.setdefault((bucket - first_bucket) // group, [])
            points.append((low_step, low, low_wall))
            if high_step != low_step:
                points.append((high_step, high, high_wall))
            total += count
    for bucket in sorted(cut):
        inside = fetch_tuples(
            conn,
            f"SELECT step, value, wall_time FROM metric_points WHERE key_id = {mark}"  # noqa: S608
            f" AND step >= {mark} AND step <= {mark} ORDER BY step",
            (key_id, max(lo, bucket * width), min(hi, (bucket + 1) * width - 1)),
        )
        total += len(inside)
        candidates.setdefault((bucket - first_bucket) // group, []).extend(_extremes(inside))
    kept: dict[int, float | None] = {}
    walls: dict[int, float] = {}
    for points in candidates.values():
        points.sort(key=lambda p: p[0])
        for step, value, wall_time in _extremes(points):
            kept[step] = value
            walls[step] = wall_time
    for step, value, wall_time in (first[0], last[0]):
        kept[step] = value
        walls[step] = wall_time
    steps = sorted(kept)
    nan = math.nan
    return Sampled(
        steps=steps,
        values=[nan if (v := kept[s]) is None else v for s in steps],
        wall_times=[walls[s] for s in steps],
        total=total,
    )


def _extremes(points: Sequence[tuple[Any, ...]]) -> Iterable[tuple[Any, ...]]:
    """The first point holding the smallest and the first holding the largest value (NULL is NaN and
    ignored); the first point when all are NaN."""
    numbers = [p for p in points if p[1] is not None]
    if not numbers:
        return points[:1]
    low = min(numbers, key=lambda p: p[1])  # min() and max() return the first of equal keys
    high = max(numbers, key=lambda p: p[1])
    return (low, high)
