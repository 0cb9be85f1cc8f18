"""Tail probabilities for the drift tests (Kolmogorov, chi-square, normal) in plain Python.

Written out rather than taken from ``scipy.special``/``scipy.stats`` because importing those costs
0.5–2 s, more than profiling a million rows; ``tests/stats/test_drift_special.py`` checks them against
scipy (``kstwobign``, ``kstwo``, ``chi2``, ``norm``).
"""

from __future__ import annotations

import math

__all__ = ["chi2_sf", "kolmogorov_sf", "ks_2samp_pvalue", "two_proportion_pvalue"]

_EPS = 1e-15
_TINY = 1e-300


def kolmogorov_sf(x: float) -> float:
    """P(K > x) for the Kolmogorov distribution (scipy's ``kstwobign.sf``)."""
    if x <= 0.0:
        return 1.0
    if x < 1.18:
        # Jacobi theta form: converges in a few terms for small x, where the alternating series does not.
        t = -(math.pi**2) / (8.0 * x * x)
        total = sum(math.exp((2 * k - 1) ** 2 * t) for k in range(1, 8))
        return min(max(1.0 - math.sqrt(2.0 * math.pi) / x * total, 0.0), 1.0)
    total = 0.0
    for k in range(1, 101):
        term = math.exp(-2.0 * k * k * x * x)
        total += term if k % 2 else -term
        if term < _EPS * total:
            break
    return min(max(2.0 * total, 0.0), 1.0)


def ks_2samp_pvalue(d: float, n_ref: int, n_cur: int) -> float:
    """Asymptotic two-sided p-value of the two-sample KS statistic ``d``.

    Effective n = n·m/(n+m) with Stephens' small-sample correction (λ = (√n_e + 0.12 + 0.11/√n_e)·d),
    which stays within 0.03 of scipy's ``kstwo.sf(d, round(n_e))`` (what ``ks_2samp(method="asymp")``
    returns, itself an approximation) for n_e ≥ 5, and within 0.011 for n_e ≥ 100.
    """
    if n_ref <= 0 or n_cur <= 0:
        raise ValueError("both samples must be non-empty")
    en = n_ref * n_cur / (n_ref + n_cur)
    root = math.sqrt(en)
    return kolmogorov_sf((root + 0.12 + 0.11 / root) * d)


def chi2_sf(x: float, df: int) -> float:
    """P(X > x) for a chi-square distribution with ``df`` degrees of freedom (scipy's ``chi2.sf``)."""
    if df < 1:
        raise ValueError(f"df must be at least 1, got {df}")
    if x <= 0.0:
        return 1.0
    return _gamma_q(df / 2.0, x / 2.0)


def _gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) (series below a+1, Lentz's continued fraction above)."""
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    max_iter = 10_000 + int(10 * math.sqrt(a))
    if x < a + 1.0:
        term = total = 1.0 / a
        ap = a
        for _ in range(max_iter):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return min(max(1.0 - total * math.exp(log_prefix), 0.0), 1.0)
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, max_iter):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return min(max(math.exp(log_prefix) * h, 0.0), 1.0)


def two_proportion_pvalue(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test; 1.0 when there is no variance to test."""
    if n_a <= 0 or n_b <= 0:
        raise ValueError("both samples must be non-empty")
    pooled = (hits_a + hits_b) / (n_a + n_b)
    variance = pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b)
    if variance <= 0.0:
        return 1.0
    z = (hits_b / n_b - hits_a / n_a) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2.0))
