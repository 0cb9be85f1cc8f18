"""Drift options and results: ``DriftOptions``, ``ColumnTest``, ``ColumnDrift``, ``DriftResult``.

Defaults (those of Evidently's data-drift preset, which users of drift monitoring know): a column whose
reference has at most ``small_sample`` (1,000) values gets a significance test — KS for numeric columns,
chi-square for categorical ones — drifted when p < 0.05. Above that size every p-value test flags
differences too small to matter (at 10⁵ rows KS rejects a shift of 0.02 σ), so a distance with an
absolute threshold is used instead: the Wasserstein-1 distance divided by the reference std ≥ 0.1
(numeric; the mean moved by a tenth of a std, or the equivalent), and the Jensen–Shannon distance
(base 2) ≥ 0.1 (categorical). PSI ≥ 0.2 (the credit-scoring convention for "significant change")
and the other measures are computed too, in ``ColumnDrift.scores``, and can be chosen per kind or column.
The data set drifts when at least ``drift_share`` (0.5) of the tested columns do. A missing-rate change
is flagged apart (``missing_drifted``) when |Δ| ≥ ``missing_delta`` (0.05) and the two-proportion
z-test gives p < 0.05, so that it is seen even when the values present have not moved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mltrail.stats.drift_special import two_proportion_pvalue

__all__ = [
    "DEFAULT_THRESHOLDS",
    "P_VALUE_TESTS",
    "TESTS_FOR_KIND",
    "ColumnDrift",
    "ColumnTest",
    "DriftOptions",
    "DriftResult",
    "TestName",
    "choose_test",
    "decide",
    "missing_change",
]

TestName = Literal["ks", "wasserstein", "psi", "jensenshannon", "chisquare"]
DEFAULT_THRESHOLDS: Mapping[TestName, float] = {
    "ks": 0.05,
    "chisquare": 0.05,
    "wasserstein": 0.1,
    "psi": 0.2,
    "jensenshannon": 0.1,
}
P_VALUE_TESTS: frozenset[TestName] = frozenset({"ks", "chisquare"})
TESTS_FOR_KIND: Mapping[str, frozenset[TestName]] = {
    "numeric": frozenset({"ks", "wasserstein", "psi", "jensenshannon"}),
    "categorical": frozenset({"chisquare", "psi", "jensenshannon"}),
}
# The score each test reads: (statistic, p-value or None).
_SCORE_KEYS: Mapping[TestName, tuple[str, str | None]] = {
    "ks": ("ks", "ks_p_value"),
    "chisquare": ("chisquare", "chisquare_p_value"),
    "wasserstein": ("wasserstein_norm", None),
    "psi": ("psi", None),
    "jensenshannon": ("jensenshannon", None),
}


@dataclass(frozen=True)
class ColumnTest:
    """Per-column override: the test to use, its threshold, or ``skip`` to leave the column out."""

    test: TestName | None = None
    threshold: float | None = None
    skip: bool = False


@dataclass(frozen=True)
class DriftOptions:
    """What ``compare_profiles`` tests and where it draws the line (see the module docstring)."""

    numeric_test: TestName | None = None  # None: KS up to small_sample reference values, else Wasserstein
    categorical_test: TestName | None = None  # None: chi-square up to small_sample, else Jensen–Shannon
    small_sample: int = 1000
    thresholds: Mapping[TestName, float] = field(default_factory=dict)  # overrides DEFAULT_THRESHOLDS
    columns: Mapping[str, ColumnTest] = field(default_factory=dict)
    bins: int = 10  # equal-mass reference bins for numeric PSI and Jensen–Shannon
    epsilon: float = 1e-4  # additive smoothing of bin and category frequencies for PSI
    drift_share: float = 0.5
    missing_delta: float = 0.05
    missing_alpha: float = 0.05

    def __post_init__(self) -> None:
        for name, test in [("numeric_test", self.numeric_test), ("categorical_test", self.categorical_test)]:
            kind = name.split("_")[0]
            if test is not None and test not in TESTS_FOR_KIND[kind]:
                raise ValueError(f"{name}={test!r}: choose one of {sorted(TESTS_FOR_KIND[kind])}")
        for test, value in self.thresholds.items():
            if test not in DEFAULT_THRESHOLDS:
                raise ValueError(f"unknown test {test!r} in thresholds")
            _check_threshold(test, value)
        for column, override in self.columns.items():
            if override.test is not None and override.test not in DEFAULT_THRESHOLDS:
                raise ValueError(f"unknown test {override.test!r} for column {column!r}")
            if override.threshold is not None:
                _check_threshold(override.test or "psi", override.threshold)
        if self.bins < 2:
            raise ValueError(f"bins must be at least 2, got {self.bins}")
        if not 0.0 < self.epsilon < 0.1:
            raise ValueError(f"epsilon must be in (0, 0.1), got {self.epsilon}")
        if not 0.0 < self.drift_share <= 1.0:
            raise ValueError(f"drift_share must be in (0, 1], got {self.drift_share}")
        if (
            self.small_sample < 0
            or not 0.0 <= self.missing_delta <= 1.0
            or not 0.0 < self.missing_alpha < 1.0
        ):
            raise ValueError("small_sample ≥ 0, missing_delta in [0, 1] and missing_alpha in (0, 1) required")

    def threshold(self, test: TestName) -> float:
        return self.thresholds.get(test, DEFAULT_THRESHOLDS[test])


def _check_threshold(test: str, value: float) -> None:
    if not math.isfinite(value) or value < 0.0 or (test in P_VALUE_TESTS and value > 1.0):
        raise ValueError(f"threshold {value!r} for {test!r} out of range")


def choose_test(kind: str, column: str, n_ref: int, options: DriftOptions) -> TestName:
    """The test a column gets: its override, else the kind's option, else the size-based default."""
    override = options.columns.get(column)
    chosen = override.test if override is not None else None
    if chosen is None:
        chosen = options.numeric_test if kind == "numeric" else options.categorical_test
    if chosen is None:
        small = n_ref <= options.small_sample
        if kind == "numeric":
            chosen = "ks" if small else "wasserstein"
        else:
            chosen = "chisquare" if small else "jensenshannon"
    if chosen not in TESTS_FOR_KIND[kind]:
        raise ValueError(f"test {chosen!r} does not apply to {kind} column {column!r}")
    return chosen


def decide(
    test: TestName, scores: Mapping[str, float], column: str, options: DriftOptions
) -> tuple[float, float | None, float, bool]:
    """(statistic, p-value, threshold, drifted): p-value tests drift below, distances at or above."""
    override = options.columns.get(column)
    threshold = override.threshold if override is not None and override.threshold is not None else None
    if threshold is None:
        threshold = options.threshold(test)
    stat_key, p_key = _SCORE_KEYS[test]
    statistic = scores[stat_key]
    if p_key is not None:
        p_value = scores[p_key]
        return statistic, p_value, threshold, p_value < threshold
    return statistic, None, threshold, statistic >= threshold


def missing_change(
    missing_ref: int, rows_ref: int, missing_cur: int, rows_cur: int, options: DriftOptions
) -> tuple[float | None, float | None, float | None, float | None, bool]:
    """(rate_ref, rate_cur, delta, p-value, flagged); rates are None for zero rows."""
    rate_ref = missing_ref / rows_ref if rows_ref else None
    rate_cur = missing_cur / rows_cur if rows_cur else None
    if rate_ref is None or rate_cur is None:
        return rate_ref, rate_cur, None, None, False
    delta = rate_cur - rate_ref
    p_value = two_proportion_pvalue(missing_ref, rows_ref, missing_cur, rows_cur)
    flagged = abs(delta) >= options.missing_delta and p_value < options.missing_alpha
    return rate_ref, rate_cur, delta, p_value, flagged


@dataclass(frozen=True)
class ColumnDrift:
    """Drift of one column. ``statistic``/``p_value`` are those of ``test``; ``scores`` holds every measure
    computed (``ks``, ``ks_p_value``, ``wasserstein``, ``wasserstein_norm``, ``psi``, ``jensenshannon``
    for numeric columns; ``chisquare``, ``chisquare_p_value``, ``psi``, ``jensenshannon``,
    ``new_category_share`` for categorical). ``test`` is None when no test could run (``note`` says why).
    ``exact`` is false when a sketch stood in for the data (KLL always; categories past their cap)."""

    column: str
    kind: str
    test: TestName | None
    statistic: float | None
    p_value: float | None
    threshold: float | None
    drifted: bool
    scores: Mapping[str, float]
    n_ref: int
    n_cur: int
    missing_rate_ref: float | None
    missing_rate_cur: float | None
    missing_delta: float | None
    missing_p_value: float | None
    missing_drifted: bool
    new_categories: tuple[str, ...] = ()
    exact: bool = False
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "test": self.test,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "scores": dict(self.scores),
            "n_ref": self.n_ref,
            "n_cur": self.n_cur,
            "missing_rate_ref": self.missing_rate_ref,
            "missing_rate_cur": self.missing_rate_cur,
            "missing_delta": self.missing_delta,
            "missing_p_value": self.missing_p_value,
            "missing_drifted": self.missing_drifted,
            "new_categories": list(self.new_categories),
            "exact": self.exact,
            "note": self.note,
        }


@dataclass(frozen=True)
class DriftResult:
    """Drift of a data set: one ColumnDrift per reference column (in reference order) and the summary.

    ``share_drifted`` is over the columns a test ran on (plus those whose kind changed, which count as
    drifted); ``unreferenced_columns`` are in current only and not tested.
    """

    columns: tuple[ColumnDrift, ...]
    drifted_columns: tuple[str, ...]
    share_drifted: float
    dataset_drifted: bool
    drift_share: float
    missing_drifted_columns: tuple[str, ...]
    unreferenced_columns: tuple[str, ...]
    rows_ref: int
    rows_cur: int

    def column(self, name: str) -> ColumnDrift:
        for drift in self.columns:
            if drift.column == name:
                return drift
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [c.to_dict() for c in self.columns],
            "drifted_columns": list(self.drifted_columns),
            "share_drifted": self.share_drifted,
            "dataset_drifted": self.dataset_drifted,
            "drift_share": self.drift_share,
            "missing_drifted_columns": list(self.missing_drifted_columns),
            "unreferenced_columns": list(self.unreferenced_columns),
            "rows_ref": self.rows_ref,
            "rows_cur": self.rows_cur,
        }
