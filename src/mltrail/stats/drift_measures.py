"""Distance measures between two distributions, given as CDFs: from KLL sketches or from exact samples.

One implementation serves both the profile (sketch) path and the exact path, so the two differ only by
the sketch's error. Quantile bins follow ``inverted_cdf`` (the smallest x with F(x) ≥ rank) on both sides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from mltrail.stats.kll_merge import kll_levels

__all__ = [
    "CdfSource",
    "KllSource",
    "SortedSample",
    "aligned_counts",
    "bin_masses",
    "binned_psi_js",
    "chi2_homogeneity",
    "js_distance",
    "ks_wasserstein",
    "psi",
    "quantile_bins",
    "wasserstein_scale",
]

_GRID = 1001  # ranks per side for the KS grid: a grid step holds ≤ 0.1 % of the mass
_W_RANKS = 4000


class CdfSource(Protocol):
    def quantiles(self, ranks: np.ndarray) -> np.ndarray: ...

    def cdf(self, points: np.ndarray, *, inclusive: bool) -> np.ndarray:
        """F(x) (inclusive) or F(x−) at strictly increasing ``points``."""
        ...


class KllSource:
    """CDF and quantiles of a KLL sketch (``kll_doubles_sketch``, not empty).

    The sketch's distinct retained items and their cumulative weights are read once into sorted arrays;
    quantiles and CDFs are then ``searchsorted`` over them — the same values as the sketch's own
    ``get_quantiles`` and ``get_cdf`` (inclusive and exclusive), without a list round trip per call,
    which made a 30-window report spend most of its time crossing into the sketch.

    The items and their weights (``2**level``) are read from the serialized sketch (``kll_levels``), not
    from the sketch's Python iterator, which is slow and in datasketches 5.2 gives every item weight 1
    when level 0 is empty, as a merge leaves about a quarter of merged sketches
    (``tests/stats/test_drift_measures.py``).
    """

    def __init__(self, kll: Any) -> None:
        self.kll = kll
        self._n = float(kll.n)
        # The retained items and their weights (2**level) read from the serialized sketch with numpy:
        # iterating the sketch in Python cost most of a window's drift figures (~470 items a column).
        _, levels, _, _ = kll_levels(kll)
        if levels:
            items = np.concatenate(levels)
            weights = np.concatenate([np.full(len(level), float(1 << h)) for h, level in enumerate(levels)])
            order = np.argsort(items, kind="stable")
            items, cumulative = items[order], np.cumsum(weights[order])
            last = np.append(items[1:] != items[:-1], True)  # the last of each run of equal items
            self._items, self._cum = items[last], cumulative[last]
        else:
            self._items, self._cum = np.empty(0), np.empty(0)
        if self._cum.size:
            self._cum[-1] = self._n

    def quantiles(self, ranks: np.ndarray) -> np.ndarray:
        index = np.clip(np.searchsorted(self._cum, ranks * self._n, side="left"), 0, self._items.size - 1)
        found: np.ndarray = self._items[index]
        return found

    def cdf(self, points: np.ndarray, *, inclusive: bool) -> np.ndarray:
        if points.size == 0:
            return np.empty(0)
        position = np.searchsorted(self._items, points, side="right" if inclusive else "left")
        below = np.where(position > 0, self._cum[np.maximum(position - 1, 0)], 0.0)
        result: np.ndarray = below / self._n
        return result


class SortedSample:
    """CDF and quantiles of an exact sample (finite values sorted ascending, not empty)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def quantiles(self, ranks: np.ndarray) -> np.ndarray:
        n = self.values.size
        index = np.clip(np.ceil(ranks * n).astype(np.int64) - 1, 0, n - 1)
        found: np.ndarray = self.values[index]
        return found

    def cdf(self, points: np.ndarray, *, inclusive: bool) -> np.ndarray:
        found: np.ndarray = np.searchsorted(self.values, points, side="right" if inclusive else "left")
        return found / self.values.size


def quantile_bins(reference: CdfSource, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges at the reference's interior i/bins quantiles (i = 1 … bins−1) and which of them are atoms.

    The outer bins reach to ±∞, so values beyond the reference range land in a bin holding 1/bins of
    the reference, not in an empty one where smoothing would blow them up (a sketch does not even know
    where its range ends: its extreme retained items are not the min and max). An edge that comes out
    for two or more ranks holds a point mass and gets a bin of its own ({x}), so a constant or
    few-valued column is compared value by value instead of falling into one half-open bin with
    everything above it. Other edges start half-open bins [e, next).
    """
    ranks = np.arange(1, bins) / bins
    qs = reference.quantiles(ranks)
    edges, counts = np.unique(qs, return_counts=True)
    return edges, counts >= 2


def bin_masses(source: CdfSource, edges: np.ndarray, atoms: np.ndarray) -> np.ndarray:
    """Probability of each bin: (−∞, e₁), [e₁, e₂) or {e₁} and (e₁, e₂) for an atom, …, up to +∞."""
    below = source.cdf(edges, inclusive=False)
    upto = source.cdf(edges[atoms], inclusive=True)
    # Cut points in order: F(e−) for every edge, and right after it F(e) for an atom.
    cuts = np.empty(edges.size + upto.size)
    positions = np.arange(edges.size) + np.concatenate(([0], np.cumsum(atoms)[:-1]))
    cuts[positions] = below
    cuts[positions[atoms] + 1] = upto
    masses = np.diff(np.concatenate(([0.0], np.maximum.accumulate(cuts), [1.0])))
    return np.clip(masses, 0.0, None)


def psi(expected: np.ndarray, actual: np.ndarray, epsilon: float) -> float:
    """Population stability index Σ (a − e)·ln(a/e) of two mass or count vectors, each normalized to sum
    to 1 and then smoothed additively by ``epsilon``.

    Smoothing is (p + ε)/(1 + kε), so a bin empty on both sides adds exactly 0 and the masses still sum
    to 1; a bin empty on one side adds about its other side's mass × ln(mass/ε).
    """
    k = expected.size
    e = (expected / expected.sum() + epsilon) / (1.0 + k * epsilon)
    a = (actual / actual.sum() + epsilon) / (1.0 + k * epsilon)
    return max(float(np.sum((a - e) * np.log(a / e))), 0.0)


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon distance in base 2 (0 = same, 1 = disjoint), as scipy's ``jensenshannon(p, q, 2)``."""
    p = p / p.sum()
    q = q / q.sum()
    m = (p + q) / 2.0
    # 0·log 0 = 0: only bins with mass enter each sum, so no log(0) is ever taken.
    pm, qm = p > 0, q > 0
    div = 0.5 * float(np.sum(p[pm] * np.log2(p[pm] / m[pm]))) + 0.5 * float(
        np.sum(q[qm] * np.log2(q[qm] / m[qm]))
    )
    return float(np.sqrt(min(max(div, 0.0), 1.0)))


def ks_wasserstein(reference: CdfSource, current: CdfSource, grid_size: int = _GRID) -> tuple[float, float]:
    """(KS statistic sup|F_ref − F_cur|, Wasserstein-1 distance).

    KS: both CDFs are right-continuous steps, so the supremum is reached at a data point; the grid takes
    ``grid_size`` quantiles of each side (min and max included) as those points. Wasserstein-1 is
    ∫₀¹ |Q_ref(u) − Q_cur(u)| du by the midpoint rule on ``_W_RANKS`` ranks, which on KLL sketches came
    out a little closer to the exact value than ∫|F_ref − F_cur| dx on the same grid.
    """
    ranks = np.linspace(0.0, 1.0, grid_size)
    grid = np.unique(np.concatenate((reference.quantiles(ranks), current.quantiles(ranks))))
    gap = np.abs(reference.cdf(grid, inclusive=True) - current.cdf(grid, inclusive=True))
    ks = float(gap.max()) if gap.size else 0.0
    mid = (np.arange(_W_RANKS) + 0.5) / _W_RANKS
    wasserstein = float(np.mean(np.abs(reference.quantiles(mid) - current.quantiles(mid))))
    return min(ks, 1.0), wasserstein


def aligned_counts(
    reference: Mapping[str, int], ref_other: int, current: Mapping[str, int], cur_other: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Counts of both sides over the union of labels (reference order first), plus one bucket for the
    weight a frequent-items sketch does not list, when either side has some."""
    labels = list(reference) + [label for label in current if label not in reference]
    ref = [reference.get(label, 0) for label in labels]
    cur = [current.get(label, 0) for label in labels]
    if ref_other or cur_other:
        ref.append(ref_other)
        cur.append(cur_other)
    return labels, np.asarray(ref, dtype=np.float64), np.asarray(cur, dtype=np.float64)


def chi2_homogeneity(ref: np.ndarray, cur: np.ndarray) -> tuple[float, int]:
    """Pearson chi-square of the 2×K table [ref; cur] (no continuity correction) and its degrees of
    freedom; labels absent from both are dropped, so a label new in current is handled like any other."""
    keep = (ref + cur) > 0
    ref, cur = ref[keep], cur[keep]
    if ref.size < 2:
        return 0.0, 1
    total = ref.sum() + cur.sum()
    column = ref + cur
    expected_ref = column * (ref.sum() / total)
    expected_cur = column * (cur.sum() / total)
    stat = float(
        np.sum((ref - expected_ref) ** 2 / expected_ref) + np.sum((cur - expected_cur) ** 2 / expected_cur)
    )
    return stat, int(ref.size - 1)


def binned_psi_js(reference: CdfSource, current: CdfSource, bins: int, epsilon: float) -> tuple[float, float]:
    """(PSI, Jensen–Shannon distance) over the reference's equal-mass bins."""
    edges, atoms = quantile_bins(reference, bins)
    p = bin_masses(reference, edges, atoms)
    q = bin_masses(current, edges, atoms)
    return psi(p, q, epsilon), js_distance(p, q)


def wasserstein_scale(
    std_ref: float | None, std_cur: float | None, mean_ref: float, mean_cur: float
) -> float:
    """What Wasserstein-1 is divided by: the reference std; for a constant reference the current std; for
    two constants the larger |mean|, making it their relative difference; 0 only when both are 0 (then
    the distance is 0 too and the normalized value is defined as 0)."""
    for scale in (std_ref, std_cur, max(abs(mean_ref), abs(mean_cur))):
        if scale is not None and scale > 0.0 and math.isfinite(scale):
            return scale
    return 0.0
