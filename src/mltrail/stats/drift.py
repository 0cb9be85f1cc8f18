"""Drift between a reference and a current profile, column by column: ``compare_profiles``.

Numeric columns are compared through their KLL sketches (KS statistic and Wasserstein-1 on a merged
quantile grid, PSI and Jensen–Shannon on 10 equal-mass reference bins), categorical columns through
their label counts (chi-square homogeneity test, PSI, Jensen–Shannon). Which test decides, and where,
is set by :class:`DriftOptions`; the defaults and why are in :mod:`mltrail.stats.drift_model`.

Accuracy against the exact values from the raw data (:func:`exact_column_drift`), with the default
``kll_k=200`` and checked in ``tests/stats/test_drift_accuracy.py``: |KS − KS_exact| ≤ 0.02;
|W − W_exact| ≤ 25 % of W_exact + 0.04 (normalized W, in reference stds). KLL's rank error is absolute,
so the sparse top of a long right tail dominates: normal-like columns stay within 5 % + 0.015, a
lognormal of σ=0.9 spreads ±15 % around the exact value (always far above the 0.1 threshold when it
is that large). |PSI − PSI_exact| ≤ 0.02 + 10 % of PSI_exact from 10,000 values a side (0.1 + 20 %
below 1,000); |JS − JS_exact| ≤ 0.03 (0.05 below 1,000). Categorical measures are exact while both
columns stay under their category cap.
A larger ``kll_k`` shrinks the sketch error in proportion (k=400 about halves the W error).
A KS p-value from sketches is only as good as the statistic: at large n a 0.01 error in D moves the
p-value by orders of magnitude, which is one more reason the large-sample default is a distance.
"""

from __future__ import annotations

from typing import Any

from mltrail.stats.drift_exact import exact_column_drift
from mltrail.stats.drift_measures import (
    KllSource,
    aligned_counts,
    binned_psi_js,
    chi2_homogeneity,
    js_distance,
    ks_wasserstein,
    psi,
    wasserstein_scale,
)
from mltrail.stats.drift_model import (
    DEFAULT_THRESHOLDS,
    ColumnDrift,
    ColumnTest,
    DriftOptions,
    DriftResult,
    TestName,
    choose_test,
    decide,
    missing_change,
)
from mltrail.stats.drift_special import chi2_sf, ks_2samp_pvalue
from mltrail.stats.profile_model import ColumnProfile, DatasetProfile

__all__ = [
    "DEFAULT_THRESHOLDS",
    "ColumnDrift",
    "ColumnTest",
    "DriftOptions",
    "DriftResult",
    "TestName",
    "column_drift",
    "compare_profiles",
    "exact_column_drift",
]

_MAX_NEW_CATEGORIES = 100  # listed in a ColumnDrift; new_category_share covers all of them


def compare_profiles(
    reference: DatasetProfile, current: DatasetProfile, options: DriftOptions | None = None
) -> DriftResult:
    """Test every reference column (except ``ColumnTest(skip=True)``) against the current profile.

    A reference column the current profile lacks is compared as entirely absent (missing rate 1).
    """
    options = options or DriftOptions()
    results: list[ColumnDrift] = []
    for name, ref in reference.columns.items():
        override = options.columns.get(name)
        if override is not None and override.skip:
            continue
        cur = current.columns.get(name) or ColumnProfile(name, "null", absent=current.rows)
        results.append(column_drift(ref, cur, options))
    tested = [r for r in results if r.test is not None or r.drifted]
    drifted = tuple(r.column for r in results if r.drifted)
    share = len(drifted) / len(tested) if tested else 0.0
    return DriftResult(
        columns=tuple(results),
        drifted_columns=drifted,
        share_drifted=share,
        dataset_drifted=bool(tested) and share >= options.drift_share,
        drift_share=options.drift_share,
        missing_drifted_columns=tuple(r.column for r in results if r.missing_drifted),
        unreferenced_columns=tuple(n for n in current.columns if n not in reference.columns),
        rows_ref=reference.rows,
        rows_cur=current.rows,
    )


def column_drift(
    reference: ColumnProfile, current: ColumnProfile, options: DriftOptions | None = None
) -> ColumnDrift:
    """Drift of one column between two profiles of it."""
    options = options or DriftOptions()
    rate_ref, rate_cur, delta, missing_p, missing_flag = missing_change(
        reference.missing + reference.absent,
        reference.count + reference.absent,
        current.missing + current.absent,
        current.count + current.absent,
        options,
    )
    base: dict[str, Any] = {
        "column": reference.name,
        "kind": reference.kind,
        "n_ref": reference.valid,
        "n_cur": current.valid,
        "missing_rate_ref": rate_ref,
        "missing_rate_cur": rate_cur,
        "missing_delta": delta,
        "missing_p_value": missing_p,
        "missing_drifted": missing_flag,
    }
    untested: dict[str, Any] = {
        "test": None,
        "statistic": None,
        "p_value": None,
        "threshold": None,
        "scores": {},
    }
    kind = reference.kind
    if kind not in ("numeric", "categorical"):
        return ColumnDrift(**base, **untested, drifted=False, note=f"{kind} column: missing rate only")
    if current.kind not in (kind, "null"):
        note = f"kind changed from {kind} to {current.kind}"
        return ColumnDrift(**base, **untested, drifted=True, note=note)
    if reference.valid == 0 or current.valid == 0:
        side = "reference" if reference.valid == 0 else "current"
        return ColumnDrift(**base, **untested, drifted=False, note=f"no values in {side}")
    new: tuple[str, ...] = ()
    if kind == "numeric":
        scores, exact = _numeric_scores(reference, current, options), False
    else:
        scores, new, exact = _categorical_scores(reference, current, options)
    test = choose_test(kind, reference.name, reference.valid, options)
    statistic, p_value, threshold, drifted = decide(test, scores, reference.name, options)
    return ColumnDrift(
        **base,
        test=test,
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=drifted,
        scores=scores,
        new_categories=new,
        exact=exact,
    )


def _numeric_scores(
    reference: ColumnProfile, current: ColumnProfile, options: DriftOptions
) -> dict[str, float]:
    ref, cur = reference.numeric, current.numeric
    assert ref is not None and cur is not None
    ref_src, cur_src = KllSource(ref.kll), KllSource(cur.kll)
    ks, wasserstein = ks_wasserstein(ref_src, cur_src)
    scale = wasserstein_scale(ref.std, cur.std, ref.mean, cur.mean)
    psi_value, js = binned_psi_js(ref_src, cur_src, options.bins, options.epsilon)
    return {
        "ks": ks,
        "ks_p_value": ks_2samp_pvalue(ks, ref.count, cur.count),
        "wasserstein": wasserstein,
        "wasserstein_norm": wasserstein / scale if scale > 0.0 else 0.0,
        "psi": psi_value,
        "jensenshannon": js,
    }


def _categorical_scores(
    reference: ColumnProfile, current: ColumnProfile, options: DriftOptions
) -> tuple[dict[str, float], tuple[str, ...], bool]:
    ref, cur = reference.categories, current.categories
    assert ref is not None and cur is not None
    ref_counts, ref_other = ref.frequencies()
    cur_counts, cur_other = cur.frequencies()
    _labels, r, c = aligned_counts(ref_counts, ref_other, cur_counts, cur_other)
    chi2, dof = chi2_homogeneity(r, c)
    new = sorted(
        (label for label in cur_counts if label not in ref_counts), key=lambda lb: (-cur_counts[lb], lb)
    )
    scores = {
        "chisquare": chi2,
        "chisquare_p_value": chi2_sf(chi2, dof),
        "psi": psi(r, c, options.epsilon),
        "jensenshannon": js_distance(r, c),
        "new_category_share": sum(cur_counts[label] for label in new) / cur.total,
    }
    return scores, tuple(new[:_MAX_NEW_CATEGORIES]), ref.exact and cur.exact
