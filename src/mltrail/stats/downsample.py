"""Downsampling of metric histories that keeps every bucket's extremes, so spikes survive (pure numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["minmax_downsample"]


def minmax_downsample(steps: np.ndarray, values: np.ndarray, max_points: int) -> np.ndarray:
    """Sorted indices of at most ``max_points`` points to draw instead of all of them.

    The step range is cut into ``(max_points - 2) // 2`` buckets of equal width; each bucket keeps the
    index of its smallest and of its largest value (NaN ignored; ±inf count as extremes), and a bucket holding
    only NaN keeps its first point so the gap stays visible. The first and last points are always kept; the
    2 places they take are why there are ``(max_points - 2) // 2`` buckets rather than ``max_points // 2``.
    When there are no more than ``max_points`` points, all are kept. ``steps`` need not be sorted.
    """
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=np.float64)
    n = len(steps)
    if steps.ndim != 1 or values.shape != steps.shape:
        raise ValueError(f"steps and values must be 1-D of one length, got {steps.shape} and {values.shape}")
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2 (the first and last points), got {max_points}")
    if n <= max_points:
        return np.arange(n, dtype=np.int64)

    order: np.ndarray | None = None
    if np.any(steps[1:] < steps[:-1]):
        order = np.argsort(steps, kind="stable")
        steps, values = steps[order], values[order]

    keep = [np.array([0, n - 1], dtype=np.int64)]
    n_buckets = (max_points - 2) // 2
    if n_buckets > 0:
        lo, hi = float(steps[0]), float(steps[-1])
        span = hi - lo
        if span > 0:
            scaled = (steps.astype(np.float64) - lo) * (n_buckets / span)
            bucket = np.minimum(scaled.astype(np.int64), n_buckets - 1)
        else:
            bucket = np.zeros(n, dtype=np.int64)
        # Steps are sorted, so each bucket is one contiguous run of points starting at `starts`.
        starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
        lengths = np.diff(np.append(starts, n))
        run = np.repeat(np.arange(len(starts)), lengths)
        keep.append(_first_per_run(values == np.fmin.reduceat(values, starts)[run], run))
        keep.append(_first_per_run(values == np.fmax.reduceat(values, starts)[run], run))
        keep.append(starts[np.isnan(np.fmin.reduceat(values, starts))])

    result = np.unique(np.concatenate(keep))
    if order is not None:
        result = np.sort(order[result])
    return result


def _first_per_run(mask: np.ndarray, run: np.ndarray) -> np.ndarray:
    """Index of the first True of ``mask`` in each run of equal ``run`` ids (runs without one are skipped)."""
    hits = np.flatnonzero(mask)
    if len(hits) == 0:
        return hits.astype(np.int64)
    runs = run[hits]
    first = np.concatenate(([True], runs[1:] != runs[:-1]))
    return hits[first].astype(np.int64)
