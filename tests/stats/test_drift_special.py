"""The plain-Python tail probabilities agree with scipy's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mltrail.stats.drift_special import chi2_sf, kolmogorov_sf, ks_2samp_pvalue, two_proportion_pvalue


@pytest.mark.parametrize("x", [0.0, 0.05, 0.3, 0.6, 0.9, 1.17, 1.19, 1.5, 2.5, 4.0, 8.0])
def test_kolmogorov_sf_matches_kstwobign(x: float) -> None:
    assert kolmogorov_sf(x) == pytest.approx(stats.kstwobign.sf(x), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(("n", "m"), [(10, 10), (30, 50), (200, 1000), (1000, 1000), (100_000, 1_000_000)])
def test_ks_pvalue_tracks_kstwo(n: int, m: int) -> None:
    en = n * m / (n + m)
    tolerance = 0.011 if en >= 100 else 0.03
    for d in np.linspace(0.0, 1.0, 101):
        expected = stats.kstwo.sf(float(d), round(en))
        assert ks_2samp_pvalue(float(d), n, m) == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize("df", [1, 2, 3, 9, 49, 500, 5000])
def test_chi2_sf_matches_scipy(df: int) -> None:
    for x in [0.0, 0.01, df * 0.5, df - 1.0, float(df), df + 3.0 * np.sqrt(2 * df), df * 3.0 + 40]:
        expected = stats.chi2.sf(max(x, 0.0), df)
        assert chi2_sf(max(x, 0.0), df) == pytest.approx(expected, rel=1e-8, abs=1e-300)


def test_two_proportion_pvalue() -> None:
    z = (30 / 200 - 10 / 200) / np.sqrt(0.1 * 0.9 * (2 / 200))
    assert two_proportion_pvalue(10, 200, 30, 200) == pytest.approx(2 * stats.norm.sf(z), rel=1e-12)
    assert two_proportion_pvalue(0, 10, 0, 20) == 1.0
    assert two_proportion_pvalue(10, 10, 20, 20) == 1.0
    with pytest.raises(ValueError):
        two_proportion_pvalue(0, 0, 1, 1)
    with pytest.raises(ValueError):
        chi2_sf(1.0, 0)
