"""Slices where a model got worse between two runs, ranked so that a tiny slice cannot top the list.

Each joined row has a change ``d``: for a classifier, +1 when it went from right to wrong, −1 from wrong to
right, 0 otherwise; for a regressor, the change in absolute error. Over a slice of ``n`` rows the rise is
``mean(d)``. Its uncertainty is that of a paired mean: for a classifier, with Agresti and Min's adjustment
(half a row added to each cell of the 2×2 right/wrong table: ``b + 0.5`` rows right→wrong, ``c + 0.5``
wrong→right, ``n + 2`` rows), so a slice whose few rows all moved one way still has a wide interval; for a
regressor, the sample variance of ``d``. ``lower`` is the 95% one-sided lower bound of the rise and ranks
the slices; ``z`` is the rise over its standard error (for a classifier McNemar's statistic, continuity
corrected) and ``p`` its one-sided p-value. A pair of values (``city=lyon, age=[30, 40)``) is listed only
when it is surely worse than each of its two single-value slices: its rise, less its standard error times a
Bonferroni-corrected normal quantile over all pair cells, must be above both their rises. Pure numpy, no
I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["MAX_VALUES", "SliceColumn", "bin_numeric", "rank_slices"]

Z95 = 1.6448536269514722  # one-sided 95%
QUANTILE_SAMPLE = 200_000
MAX_VALUES = 100  # values (or bins) of one slice column
# Cells of a block of columns, and of a group (two blocks): a group's cell code fits 16 bits.
BLOCK_CELLS = 1 << 8
GROUP_CELLS = BLOCK_CELLS * BLOCK_CELLS


@dataclass(frozen=True, slots=True)
class SliceColumn:
    """A column cut into slices: ``codes[i]`` is row i's slice (−1: missing), ``labels[c]`` names slice c.
    Codes are of any signed integer type (a column cut here has them in 8 bits)."""

    name: str
    codes: npt.NDArray[np.signedinteger[Any]]
    labels: list[str]


def bin_numeric(name: str, values: npt.NDArray[np.float64], bins: int = 10) -> SliceColumn | None:
    """Bins by quantiles of ``values`` (ties merge bins); NaN is missing. None when all are missing."""
    if not 1 <= bins <= MAX_VALUES:
        raise ValueError(f"bins must be between 1 and {MAX_VALUES}")
    finite = np.isfinite(values)
    if not finite.any():
        return None
    present = values if finite.all() else values[finite]
    # Over a million rows, the edges come from every k-th value (at most QUANTILE_SAMPLE of them, min and
    # max kept): quantiles within a fraction of a percent, at a fraction of the cost.
    step = max(1, len(present) // QUANTILE_SAMPLE)
    sample = present[::step] if step > 1 else present
    edges = np.quantile(sample, np.linspace(0, 1, bins + 1))
    edges[0], edges[-1] = present.min(), present.max()
    edges = np.unique(edges)
    if len(edges) == 1:
        labels = [_num(edges[0])]
        return SliceColumn(name, np.where(finite, 0, -1).astype(np.int8), labels)
    # A value's bin is the number of inner edges at or below it (``searchsorted(..., side="right")``),
    # counted by one vectorized comparison per edge: several times faster than a binary search per value
    # for the ≤ 100 edges of a slice column. Bins fit in int8 (at most MAX_VALUES).
    codes = np.zeros(len(values), dtype=np.int8)
    for edge in edges[1:-1]:
        codes += values >= edge
    if len(present) < len(values):
        codes[~finite] = -1
    labels = [
        f"[{_num(edges[i])}, {_num(edges[i + 1])}{']' if i == len(edges) - 2 else ')'}"
        for i in range(len(edges) - 1)
    ]
    return SliceColumn(name, codes, labels)


def _num(value: float) -> str:
    return f"{value:.4g}"


def _bounds(
    n: npt.NDArray[np.float64], s1: npt.NDArray[np.float64], s2: npt.NDArray[np.float64], paired_binary: bool
) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]
]:
    """(adjusted rise, its standard error, lower bound of the rise, z) per slice from its count, Σd and
    Σd²."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if paired_binary:
            b = (s2 + s1) / 2 + 0.5  # rows right→wrong, adjusted
            c = (s2 - s1) / 2 + 0.5
            m = n + 2
            diff = (b - c) / m
            var = ((b + c) - (b - c) ** 2 / m) / m**2
            z = np.where(s2 > 0, (np.abs(s1) - 1).clip(min=0) * np.sign(s1) / np.sqrt(s2), 0.0)
        else:
            diff = s1 / n
            var = np.where(n > 1, (s2 - s1**2 / n) / (n - 1) / n, np.inf)
            z = np.where(var > 0, diff / np.sqrt(var), 0.0)
        se = np.sqrt(np.clip(var, 0, None))
        lower = diff - Z95 * se
    return diff, se, np.nan_to_num(lower, nan=-np.inf), np.nan_to_num(z)


def rank_slices(
    columns: Sequence[SliceColumn],
    change: npt.NDArray[np.float64],
    error_a: npt.NDArray[np.float64],
    error_b: npt.NDArray[np.float64],
    *,
    paired_binary: bool,
    pairs: bool = True,
    min_rows: int = 10,
    top: int = 20,
) -> list[dict[str, Any]]:
    """The ``top`` slices (single columns, and pairs of them with ``pairs``) of at least ``min_rows`` rows
    ranked by the lower bound of their rise, highest first; each with its rows, error figures of both runs
    (error rate, or mean absolute error), rise, lower bound, z and p. ``paired_binary``: a classifier's
    figures, ``change`` in {−1, 0, +1} and the errors in {0, 1}; else a regressor's, any real values."""
    if any(len(c.labels) > MAX_VALUES for c in columns):
        raise ValueError(f"a slice column has at most {MAX_VALUES} values")
    found: list[dict[str, Any]] = []
    # Each column's cell codes are kept for all rows and for the row subsets summed over, so a pair's codes
    # come from its columns' without indexing again. For a classifier every sum is a count (``change`` is
    # −1, 0 or +1 and the errors 0 or 1): Σd = worse − better and Σd² = worse + better.
    if paired_binary:
        subsets = tuple(np.flatnonzero(m) for m in (change > 0, change < 0, error_a != 0, error_b != 0))
    else:
        moved = np.flatnonzero(change != 0)
        d = change[moved]
        d2 = d**2
        ea_rows, eb_rows = np.flatnonzero(error_a != 0), np.flatnonzero(error_b != 0)
        ea, eb = error_a[ea_rows], error_b[eb_rows]
        subsets = (moved, ea_rows, eb_rows)
    # Missing values take the last code of each column, so no row needs masking: their cells are dropped.
    codes = [_Codes.of(c.codes, len(c.labels), subsets) for c in columns]
    widths = [len(c.labels) + 1 for c in columns]
    tables = _CellTables(codes, widths, _groups(widths, pairs))
    cells = (
        sum(len(columns[x].labels) * len(columns[y].labels) for x, y in _pairs(len(columns))) if pairs else 0
    )
    # A pair must beat its parts at a Bonferroni level over every pair cell: with many cells, some beat
    # them at 95% by chance alone.
    z_pairs = NormalDist().inv_cdf(1 - 0.05 / max(1, cells))

    def add(
        cols: tuple[int, ...],
        describe: Any,
        above: npt.NDArray[np.float64] | None = None,
    ) -> npt.NDArray[np.float64]:
        """Figures of every cell of the column ``cols`` (one) or the pair (two); the slots of missing values
        are dropped."""
        shape = (widths[cols[0]], widths[cols[1]] if len(cols) > 1 else 1)

        def count(part: int | None, weights: npt.NDArray[np.float64] | None) -> npt.NDArray[np.float64]:
            if weights is None:  # a count: summed from the group's cell table
                full = tables.counts(cols, part)
            else:  # a sum of real values, in row order as ever
                code = codes[cols[0]] if len(cols) == 1 else codes[cols[0]].pair(codes[cols[1]], shape[1])
                picked = code.all if part is None else code.part(part)
                full = np.bincount(picked, weights=weights, minlength=shape[0] * shape[1])
            cut: npt.NDArray[np.float64] = (
                full.reshape(shape)[: shape[0] - 1, : shape[1] - (shape[1] > 1)].ravel().astype(np.float64)
            )
            return cut

        n = count(None, None)
        if paired_binary:
            worse, better = count(0, None), count(1, None)
            s1, s2 = worse - better, worse + better
        else:
            s1, s2 = count(0, d), count(0, d2)
        diff, se, lower, z = _bounds(n, s1, s2, paired_binary)
        listed = (n >= min_rows) & (s1 > 0)
        if above is not None:
            listed &= np.nan_to_num(diff - z_pairs * se, nan=-np.inf) > above
        if listed.any():  # each run's errors, counted only where a cell is listed (few pairs have one)
            last = len(subsets) - 2
            sa = count(last, None if paired_binary else ea)
            sb = count(last + 1, None if paired_binary else eb)
        for i in np.flatnonzero(listed):
            found.append(
                {
                    "slice": describe(int(i)),
                    "rows": int(n[i]),
                    "error_a": round(float(sa[i] / n[i]), 6),
                    "error_b": round(float(sb[i] / n[i]), 6),
                    "rise": round(float(s1[i] / n[i]), 6),
                    "lower": round(float(lower[i]), 6),
                    "z": round(float(z[i]), 4),
                    "p": _p_value(float(z[i])),
                    "worse": round((s2[i] + s1[i]) / 2) if paired_binary else None,
                    "better": round((s2[i] - s1[i]) / 2) if paired_binary else None,
                }
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            rise: npt.NDArray[np.float64] = np.where(n > 0, s1 / n, 0.0)
        return rise

    rises = [add((x,), lambda i, col=col: {col.name: col.labels[i]}) for x, col in enumerate(columns)]
    if pairs:
        for x, y in _pairs(len(columns)):
            cx, cy = columns[x], columns[y]
            kx, ky = len(cx.labels), len(cy.labels)

            def describe(i: int, cx: SliceColumn = cx, cy: SliceColumn = cy, ky: int = ky) -> dict[str, str]:
                return {cx.name: cx.labels[i // ky], cy.name: cy.labels[i % ky]}

            # A pair is listed only when it is surely worse than both its parts: else it says no more.
            parents = np.maximum(np.repeat(rises[x], ky), np.tile(rises[y], kx))
            add((x, y), describe, parents)
    found.sort(key=lambda s: (-s["lower"], -s["rows"]))
    return found[:top]


class _Codes:
    """A column's (or a pair's) cell codes, of every row and of the rows of each summed subset (a pair's
    subset codes are made when first asked for). Codes are 16-bit (a column has at most ``MAX_VALUES``
    values and a missing slot, a pair at most their square): a pair's code is computed in a quarter of the
    memory traffic of 64-bit integers."""

    __slots__ = ("_made", "_make", "all")

    def __init__(self, all_rows: npt.NDArray[np.uint16], make: Any) -> None:
        self.all = all_rows
        self._make = make  # subset index -> its codes
        self._made: dict[int, npt.NDArray[np.uint16]] = {}

    @classmethod
    def of(
        cls,
        codes: npt.NDArray[np.signedinteger[Any]],
        missing: int,
        subsets: tuple[npt.NDArray[np.int64], ...],
    ) -> _Codes:
        """A column's codes with ``missing`` for −1 (a 16-bit −1 is the largest value, so the smaller of the
        two is the cell), and their subsets."""
        small = codes.astype(np.uint16)
        np.minimum(small, missing, out=small)
        parts = [small[rows] for rows in subsets]
        return cls(small, parts.__getitem__)

    def part(self, index: int) -> npt.NDArray[np.uint16]:
        found = self._made.get(index)
        if found is None:
            found = self._made[index] = self._make(index)
        return found

    def pair(self, other: _Codes, width: int) -> _Codes:
        """The pair's codes: this column's code × ``width`` (the other's values and its missing slot) plus
        the other's."""

        def combine(x: npt.NDArray[np.uint16], y: npt.NDArray[np.uint16]) -> npt.NDArray[np.uint16]:
            out = np.multiply(x, width, dtype=np.uint16)
            out += y
            return out

        return _Codes(combine(self.all, other.all), lambda i: combine(self.part(i), other.part(i)))


def _groups(widths: Sequence[int], pairs: bool) -> list[tuple[int, ...]]:
    """Columns grouped so that each column (and with ``pairs`` each pair of columns) lies in a group whose
    cells number at most ``GROUP_CELLS``: the columns are packed in order into blocks of at most
    ``BLOCK_CELLS`` cells, and the groups are the blocks, or with ``pairs`` each two blocks joined."""
    blocks: list[list[int]] = []
    cells = BLOCK_CELLS + 1
    for x, width in enumerate(widths):
        if width > BLOCK_CELLS:
            raise ValueError(f"a slice column has at most {BLOCK_CELLS - 1} values")
        if cells * width > BLOCK_CELLS:
            blocks.append([])
            cells = 1
        blocks[-1].append(x)
        cells *= width
    if not pairs or len(blocks) == 1:
        return [tuple(block) for block in blocks]
    return [tuple(blocks[a] + blocks[b]) for a, b in _pairs(len(blocks))]


class _CellTables:
    """Row counts per cell of every column and pair, of all rows and of each summed subset, from one
    ``bincount`` per group of columns (``_groups``) instead of one per column and pair: a column's or a
    pair's counts are the sums of its group's table over the group's other columns. Ten columns of ten bins
    take 10 passes over the rows instead of 55. Counts are integers, so the sums are exact."""

    def __init__(self, codes: Sequence[_Codes], widths: Sequence[int], groups: Sequence[tuple[int, ...]]):
        self.codes = codes
        self.widths = widths
        self.groups = groups
        self.home: dict[tuple[int, ...], int] = {}  # a column or pair -> the first group that holds it
        for g, group in enumerate(groups):
            for i, x in enumerate(group):
                self.home.setdefault((x,), g)
                for y in group[i + 1 :]:
                    self.home.setdefault((x, y), g)
        self._tables: dict[tuple[int, int | None], npt.NDArray[np.int64]] = {}

    def counts(self, cols: tuple[int, ...], part: int | None) -> npt.NDArray[np.int64]:
        """Counts of the cells of ``cols`` (one column, or a pair in column order), shaped by their widths,
        over all rows (``part`` None) or the rows of subset ``part``."""
        g = self.home[cols]
        table = self._tables.get((g, part))
        if table is None:
            table = self._tables[g, part] = self._count(self.groups[g], part)
        group = self.groups[g]
        keep = [group.index(x) for x in cols]
        others = tuple(i for i in range(len(group)) if i not in keep)
        summed: npt.NDArray[np.int64] = table.sum(axis=others) if others else table
        return summed

    def _count(self, group: tuple[int, ...], part: int | None) -> npt.NDArray[np.int64]:
        def of(x: int) -> npt.NDArray[np.uint16]:
            return self.codes[x].all if part is None else self.codes[x].part(part)

        code = of(group[0])
        for x in group[1:]:  # a cell's code, mixed radix: it fits 16 bits (GROUP_CELLS)
            code = np.multiply(code, self.widths[x], dtype=np.uint16)
            code += of(x)
        shape = tuple(self.widths[x] for x in group)
        table: npt.NDArray[np.int64] = np.bincount(code, minlength=math.prod(shape)).reshape(shape)
        return table


def _pairs(count: int) -> list[tuple[int, int]]:
    return [(x, y) for x in range(count) for y in range(x + 1, count)]


def _p_value(z: float) -> float:
    """One-sided p-value of a standard normal statistic."""
    return round(0.5 * math.erfc(z / math.sqrt(2)), 6)
