"""Exact drift measures from raw column values (scipy), for small data and to check the sketch path."""

from __future__ import annotations

from typing import Any

import numpy as np

from mltrail.stats.drift_measures import SortedSample, binned_psi_js, psi, wasserstein_scale
from mltrail.stats.drift_model import ColumnDrift, DriftOptions, choose_test, decide, missing_change

__all__ = ["exact_column_drift"]


def exact_column_drift(
    ref_values: np.ndarray,
    cur_values: np.ndarray,
    *,
    kind: str | None = None,
    column: str = "",
    options: DriftOptions | None = None,
) -> ColumnDrift:
    """Drift of one column from all its values, with the same tests and thresholds as ``compare_profiles``.

    ``kind`` is inferred from the dtype (numbers numeric; bool, str and object categorical). Missing
    values are NaN in float arrays and None or NaN in object arrays; ±inf is left out of the numeric
    measures, as in a profile. KS (statistic and p-value) is ``scipy.stats.ks_2samp`` (its ``auto``
    method: exact for small samples), Wasserstein-1 ``scipy.stats.wasserstein_distance``, chi-square
    ``scipy.stats.chi2_contingency`` (no continuity correction), Jensen–Shannon for categories
    ``scipy.spatial.distance.jensenshannon``; PSI and numeric Jensen–Shannon use exact quantile bins.
    scipy is imported on the first call only: it takes seconds, and the profile path never needs it.
    """
    options = options or DriftOptions()
    ref = np.asarray(ref_values)
    cur = np.asarray(cur_values)
    if ref.ndim != 1 or cur.ndim != 1:
        raise ValueError("ref_values and cur_values must be one-dimensional")
    if kind is None:
        numeric = np.issubdtype(ref.dtype, np.number) and np.issubdtype(cur.dtype, np.number)
        kind = "numeric" if numeric else "categorical"
    if kind == "numeric":
        ref_ok, ref_missing = _finite(ref)
        cur_ok, cur_missing = _finite(cur)
    elif kind == "categorical":
        ref_ok, ref_missing = _labels(ref)
        cur_ok, cur_missing = _labels(cur)
    else:
        raise ValueError(f"kind must be 'numeric' or 'categorical', got {kind!r}")
    rate_ref, rate_cur, delta, missing_p, missing_flag = missing_change(
        ref_missing, ref.size, cur_missing, cur.size, options
    )
    base: dict[str, Any] = {
        "column": column,
        "kind": kind,
        "n_ref": int(ref_ok.size),
        "n_cur": int(cur_ok.size),
        "missing_rate_ref": rate_ref,
        "missing_rate_cur": rate_cur,
        "missing_delta": delta,
        "missing_p_value": missing_p,
        "missing_drifted": missing_flag,
        "exact": True,
    }
    if ref_ok.size == 0 or cur_ok.size == 0:
        side = "reference" if ref_ok.size == 0 else "current"
        return ColumnDrift(
            **base,
            test=None,
            statistic=None,
            p_value=None,
            threshold=None,
            drifted=False,
            scores={},
            note=f"no values in {side}",
        )
    new: tuple[str, ...] = ()
    if kind == "numeric":
        scores = _numeric_scores(ref_ok, cur_ok, options)
    else:
        scores, new = _categorical_scores(ref_ok, cur_ok, options)
    test = choose_test(kind, column, int(ref_ok.size), options)
    statistic, p_value, threshold, drifted = decide(test, scores, column, options)
    return ColumnDrift(
        **base,
        test=test,
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=drifted,
        scores=scores,
        new_categories=new,
    )


def _finite(values: np.ndarray) -> tuple[np.ndarray, int]:
    """(sorted finite float64 values, count of missing: NaN or None)."""
    as_float = values.astype(np.float64)  # None in an object array becomes NaN
    missing = int(np.count_nonzero(np.isnan(as_float)))
    return np.sort(as_float[np.isfinite(as_float)]), missing


def _labels(values: np.ndarray) -> tuple[np.ndarray, int]:
    """(labels as str, count of missing); booleans become "true"/"false" as in a profile."""
    labels: list[str] = []
    missing = 0
    for value in values.tolist():
        if value is None or (isinstance(value, float) and value != value):
            missing += 1
        elif isinstance(value, bool):
            labels.append("true" if value else "false")
        else:
            labels.append(str(value))
    return np.asarray(labels, dtype=object), missing


def _numeric_scores(ref: np.ndarray, cur: np.ndarray, options: DriftOptions) -> dict[str, float]:
    from scipy.stats import ks_2samp, wasserstein_distance

    ks = ks_2samp(ref, cur)
    wasserstein = float(wasserstein_distance(ref, cur))
    std_ref = float(np.std(ref, ddof=1)) if ref.size > 1 else None
    std_cur = float(np.std(cur, ddof=1)) if cur.size > 1 else None
    scale = wasserstein_scale(std_ref, std_cur, float(np.mean(ref)), float(np.mean(cur)))
    psi_value, js = binned_psi_js(SortedSample(ref), SortedSample(cur), options.bins, options.epsilon)
    return {
        "ks": float(ks.statistic),
        "ks_p_value": float(ks.pvalue),
        "wasserstein": wasserstein,
        "wasserstein_norm": wasserstein / scale if scale > 0.0 else 0.0,
        "psi": psi_value,
        "jensenshannon": js,
    }


def _categorical_scores(
    ref: np.ndarray, cur: np.ndarray, options: DriftOptions
) -> tuple[dict[str, float], tuple[str, ...]]:
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency

    ref_labels, ref_counts = np.unique(ref, return_counts=True)
    cur_labels, cur_counts = np.unique(cur, return_counts=True)
    ref_map = dict(zip(ref_labels.tolist(), ref_counts.tolist(), strict=True))
    cur_map = dict(zip(cur_labels.tolist(), cur_counts.tolist(), strict=True))
    labels = sorted(set(ref_map) | set(cur_map))
    r = np.asarray([ref_map.get(label, 0) for label in labels], dtype=np.float64)
    c = np.asarray([cur_map.get(label, 0) for label in labels], dtype=np.float64)
    if len(labels) >= 2:
        test = chi2_contingency(np.vstack([r, c]), correction=False)
        chi2, p_value = float(test.statistic), float(test.pvalue)
    else:
        chi2, p_value = 0.0, 1.0  # one label on both sides: nothing to test, no drift
    new = sorted((lb for lb in cur_map if lb not in ref_map), key=lambda lb: (-cur_map[lb], lb))
    scores = {
        "chisquare": chi2,
        "chisquare_p_value": p_value,
        "psi": psi(r, c, options.epsilon),
        "jensenshannon": float(jensenshannon(r, c, base=2.0)),
        "new_category_share": sum(cur_map[lb] for lb in new) / c.sum(),
    }
    return scores, tuple(str(lb) for lb in new[:100])
