"""A column profile seen as the other kind: class codes profiled as numbers (0/1) as labels ("0"/"1"), and
labels that are all numbers as a numeric profile. A monitor's windows keep one kind per column; these let
a reference given in the other kind be compared with them instead of refused.

Numbers → labels only for whole numbers with at most ``MAX_LABELS`` distinct values; each label's count is
the sketch's mass between the neighbouring half-integers times the count, within KLL's PMF error (exact
while the sketch holds every value, i.e. up to a few hundred values). Labels → numbers only from exact
label counts, every label a finite number; the numbers are then exact.
"""

from __future__ import annotations

import math

import numpy as np

from mltrail.stats.profile_categorical import DEFAULT_CATEGORY_CAP, DEFAULT_FREQUENT_LG_K, CategoryCounts
from mltrail.stats.profile_model import ColumnProfile
from mltrail.stats.profile_numeric import NumericSummary

__all__ = ["MAX_LABELS", "as_kind"]

MAX_LABELS = 50
_PROBES = np.linspace(0.0, 1.0, 2001)


def as_kind(column: ColumnProfile, kind: str) -> ColumnProfile | None:
    """``column`` as ``kind`` (``numeric`` or ``categorical``), itself when it is already; None when it
    cannot be seen so (fractional numbers, too many codes, or a label that is not a number)."""
    if column.kind == kind:
        return column
    if kind == "categorical" and column.kind == "numeric":
        return _as_labels(column)
    if kind == "numeric" and column.kind == "categorical":
        return _as_numbers(column)
    return None


def _copy(column: ColumnProfile, kind: str) -> ColumnProfile:
    return ColumnProfile(
        column.name,
        kind,  # type: ignore[arg-type]
        types=column.types,
        count=column.count,
        nulls=column.nulls,
        nan=column.nan,
        infinite=column.infinite,
        absent=column.absent,
    )


def _as_labels(column: ColumnProfile) -> ColumnProfile | None:
    numeric = column.numeric
    out = _copy(column, "categorical")
    out.categories = CategoryCounts(DEFAULT_CATEGORY_CAP, DEFAULT_FREQUENT_LG_K)
    if numeric is None or not numeric.count:
        return out
    values = np.unique(np.asarray(numeric.kll.get_quantiles(_PROBES.tolist()), dtype=np.float64))
    if len(values) > MAX_LABELS or not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        return None
    if len(values) == 1:
        counts = [numeric.count]
    else:
        splits = ((values[:-1] + values[1:]) / 2).tolist()
        masses = np.asarray(numeric.kll.get_pmf(splits), dtype=np.float64)
        counts = _rounded(masses * numeric.count, numeric.count)
    out.categories.update({str(int(v)): int(n) for v, n in zip(values, counts, strict=True) if n > 0})
    return out


def _rounded(shares: np.ndarray, total: int) -> list[int]:
    """Whole counts summing to ``total`` (largest remainders)."""
    floors = np.floor(shares).astype(np.int64)
    left = total - int(floors.sum())
    order = np.argsort(-(shares - floors), kind="stable")
    floors[order[: max(left, 0)]] += 1
    return [int(n) for n in floors]


def _as_numbers(column: ColumnProfile) -> ColumnProfile | None:
    categories = column.categories
    out = _copy(column, "numeric")
    out.numeric = NumericSummary.empty()
    if categories is None or not categories.total:
        return out
    if not categories.exact or categories.counts is None:
        return None
    try:
        parsed = {float(label): n for label, n in categories.counts.items()}
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in parsed):
        return None
    values = np.repeat(np.fromiter(parsed, dtype=np.float64), list(parsed.values()))
    out.numeric.update(values, float(values.min()), float(values.max()))
    return out
