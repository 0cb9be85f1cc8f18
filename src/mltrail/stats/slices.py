"""Slices where a model got worse between two runs, ranked so that a tiny slice cannot top the list.

Each joined row has a change ``d``: for a classifier, +1 when it went from right to wrong, −1 from wrong to
right, 0 otherwise; for a regressor, the change in absolute error. Over a slice of ``n`` rows the rise is
``mean(d)``. Its uncertainty is that of a paired mean: for a classifier, with Agresti and Min's adjustment
(half a row added to each cell of the 2×2 right/wrong table: ``b + 0.5`` rows right→wrong, ``c + 0.5``
wrong→right, ``n + 2`` rows), so a slice whose few rows all moved one way still has a wide interval; for a
regressor, the sample variance of ``d``. ``lower`` is the 95% one-sided lower bound of the rise and ranks the
slices; ``z`` is the rise over its standard error (for a classifier McNemar's statistic, continuity
corrected) and ``p`` its one-sided p-value. Pure numpy, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["SliceColumn", "bin_numeric", "rank_slices"]

Z95 = 1.6448536269514722  # one-sided 95%


@dataclass(frozen=True, slots=True)
class SliceColumn:
    """A column cut into slices: ``codes[i]`` is row i's slice (−1: missing), ``labels[c]`` names slice c."""

    name: str
    codes: npt.NDArray[np.int64]
    labels: list[str]


def bin_numeric(name: str, values: npt.NDArray[np.float64], bins: int = 10) -> SliceColumn | None:
    """Bins by quantiles of ``values`` (ties merge bins); NaN is missing. None when all are missing."""
    finite = np.isfinite(values)
    if not finite.any():
        return None
    present = values[finite]
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)))
    if len(edges) == 1:
        labels = [_num(edges[0])]
        codes = np.where(finite, 0, -1).astype(np.int64)
        return SliceColumn(name, codes, labels)
    inner = edges[1:-1]
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[finite] = np.searchsorted(inner, present, side="right")
    labels = [
        f"[{_num(edges[i])}, {_num(edges[i + 1])}{']' if i == len(edges) - 2 else ')'}"
        for i in range(len(edges) - 1)
    ]
    return SliceColumn(name, codes, labels)


def _num(value: float) -> str:
    return f"{value:.4g}"


def _bounds(
    n: npt.NDArray[np.float64], s1: npt.NDArray[np.float64], s2: npt.NDArray[np.float64], paired_binary: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(lower bound of the rise, z) per slice from its count, Σd and Σd²."""
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
        lower = diff - Z95 * np.sqrt(np.clip(var, 0, None))
    return np.nan_to_num(lower, nan=-np.inf), np.nan_to_num(z)


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
    (error rate, or mean absolute error), rise, lower bound, z and p."""
    found: list[dict[str, Any]] = []
    moved = np.flatnonzero(change != 0)
    d = change[moved]
    ea_rows = np.flatnonzero(error_a != 0)
    eb_rows = np.flatnonzero(error_b != 0)

    def add(codes: npt.NDArray[np.int64], size: int, describe: Any) -> None:
        valid = codes >= 0
        n = np.bincount(codes[valid], minlength=size).astype(np.float64)
        cm = codes[moved]
        ok = cm >= 0
        s1 = np.bincount(cm[ok], weights=d[ok], minlength=size).astype(np.float64)
        s2 = np.bincount(cm[ok], weights=d[ok] ** 2, minlength=size).astype(np.float64)
        ca, cb = codes[ea_rows], codes[eb_rows]
        sa = np.bincount(ca[ca >= 0], weights=error_a[ea_rows][ca >= 0], minlength=size).astype(np.float64)
        sb = np.bincount(cb[cb >= 0], weights=error_b[eb_rows][cb >= 0], minlength=size).astype(np.float64)
        lower, z = _bounds(n, s1, s2, paired_binary)
        for i in np.flatnonzero((n >= min_rows) & (s1 > 0)):
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

    for col in columns:
        add(col.codes, len(col.labels), lambda i, col=col: {col.name: col.labels[i]})
    if pairs:
        for x in range(len(columns)):
            for y in range(x + 1, len(columns)):
                cx, cy = columns[x], columns[y]
                ky = len(cy.labels)
                codes = np.where((cx.codes >= 0) & (cy.codes >= 0), cx.codes * ky + cy.codes, -1)

                def describe(
                    i: int, cx: SliceColumn = cx, cy: SliceColumn = cy, ky: int = ky
                ) -> dict[str, str]:
                    return {cx.name: cx.labels[i // ky], cy.name: cy.labels[i % ky]}

                add(codes, len(cx.labels) * ky, describe)
    found.sort(key=lambda s: (-s["lower"], -s["rows"]))
    return found[:top]


def _p_value(z: float) -> float:
    """One-sided p-value of a standard normal statistic."""
    return round(0.5 * math.erfc(z / math.sqrt(2)), 6)
