"""Sketch-based drift measures stay within the stated tolerance of the exact (scipy) ones.

Tolerances (those in the ``mltrail.stats.drift`` docstring, default kll_k=200): |KS − KS_exact| ≤ 0.02;
|W − W_exact| ≤ 25 % of W_exact + 0.04 (both normalized by the reference std; normal-like columns stay
within 5 % + 0.015, long right tails such as lognormal σ=0.9 spread ±15 %); |PSI − PSI_exact| ≤
0.02 + 10 % of PSI_exact from 10,000 values a side (0.1 + 20 % below 1,000, where a KLL sketch of
k=200 has already compacted but PSI on 10 bins is noisy anyway); |JS − JS_exact| ≤ 0.03 (0.05 below
1,000). Categorical
measures are exact under the category cap.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from mltrail.stats.drift import column_drift, exact_column_drift
from mltrail.stats.profile import profile_batches


def _sketch_scores(ref: np.ndarray, cur: np.ndarray, batch_rows: int) -> dict[str, float]:
    """Median over three independent pairs of profiles: KLL is random (its compactions, and here the
    picks and samples of stats.kll_sorted), and the tolerances are what a sketch stays within nearly
    always; the median keeps a 1-in-100 draw from failing the suite while a typical error over the
    tolerance still fails it."""
    runs = []
    for _ in range(3):
        # Fed in batches, as a stream would be: a single sorted batch makes KLL unrealistically accurate.
        sketch_ref = profile_batches(pa.table({"x": ref}).to_batches(max_chunksize=batch_rows))["x"]
        sketch_cur = profile_batches(pa.table({"x": cur}).to_batches(max_chunksize=batch_rows))["x"]
        runs.append(column_drift(sketch_ref, sketch_cur).scores)
    return {name: float(np.median([run[name] for run in runs])) for name in runs[0]}


def _check(ref: np.ndarray, cur: np.ndarray, label: str, batch_rows: int = 4096) -> None:
    sketch = _sketch_scores(ref, cur, batch_rows)
    exact = exact_column_drift(ref, cur).scores
    assert abs(sketch["ks"] - exact["ks"]) <= 0.02, (label, sketch["ks"], exact["ks"])
    w, w_exact = sketch["wasserstein_norm"], exact["wasserstein_norm"]
    assert abs(w - w_exact) <= 0.25 * w_exact + 0.04, (label, w, w_exact)
    small = min(len(ref), len(cur)) < 1_000
    psi_tolerance = 0.1 + 0.2 * exact["psi"] if small else 0.02 + 0.1 * exact["psi"]
    assert abs(sketch["psi"] - exact["psi"]) <= psi_tolerance, (label, sketch["psi"], exact["psi"])
    js_tolerance = 0.05 if small else 0.03
    assert abs(sketch["jensenshannon"] - exact["jensenshannon"]) <= js_tolerance, (label, sketch, exact)


@pytest.mark.parametrize(
    ("name", "make_ref", "make_cur"),
    [
        ("normal same", lambda g, n: g.normal(0, 1, n), lambda g, n: g.normal(0, 1, n)),
        ("normal shifted", lambda g, n: g.normal(0, 1, n), lambda g, n: g.normal(0.3, 1, n)),
        ("normal wider", lambda g, n: g.normal(0, 1, n), lambda g, n: g.normal(0, 1.5, n)),
        ("lognormal same", lambda g, n: g.lognormal(0, 0.75, n), lambda g, n: g.lognormal(0, 0.75, n)),
        ("lognormal shifted", lambda g, n: g.lognormal(0, 0.75, n), lambda g, n: g.lognormal(0.2, 0.9, n)),
        (
            "poisson shifted",
            lambda g, n: g.poisson(4, n).astype(float),
            lambda g, n: g.poisson(5, n).astype(float),
        ),
        ("uniform vs normal", lambda g, n: g.uniform(-1, 1, n), lambda g, n: g.normal(0, 0.6, n)),
    ],
)
@pytest.mark.parametrize("batch_rows", [4096, 131_072])
def test_generated(name: str, make_ref: object, make_cur: object, batch_rows: int) -> None:
    # 131,072-row batches: the reference is one batch sketched whole, the current one batch sketched
    # from a sample of half its values (stats.kll_sorted).
    for seed in range(3):
        rng = np.random.default_rng(seed)
        ref = make_ref(rng, 30_000)  # type: ignore[operator]
        cur = make_cur(rng, 60_000)  # type: ignore[operator]
        _check(ref, cur, f"{name} seed {seed}", batch_rows)


@pytest.mark.parametrize(
    ("name", "make_ref", "make_cur"),
    [
        ("normal same", lambda g, n: g.normal(0, 1, n), lambda g, n: g.normal(0, 1, n)),
        ("normal shifted", lambda g, n: g.normal(0, 1, n), lambda g, n: g.normal(0.1, 1, n)),
        ("lognormal same", lambda g, n: g.lognormal(0, 0.75, n), lambda g, n: g.lognormal(0, 0.75, n)),
        ("lognormal wider", lambda g, n: g.lognormal(0, 0.75, n), lambda g, n: g.lognormal(0, 0.9, n)),
    ],
)
def test_large_batches_sketched_from_samples(name: str, make_ref: object, make_cur: object) -> None:
    # 1,000,000 current values in batches of 131,072 (each sketched from 16,384 of its values) against
    # 100,000 in one batch (from 25,000): the sizes of the drift-report benchmark.
    rng = np.random.default_rng(11)
    ref = make_ref(rng, 100_000)  # type: ignore[operator]
    cur = make_cur(rng, 1_000_000)  # type: ignore[operator]
    _check(ref, cur, name, 131_072)


@pytest.mark.parametrize("loader", [load_diabetes, load_wine, load_breast_cancer])
def test_bundled_datasets(loader: object) -> None:
    data = loader()  # type: ignore[operator]
    x, y = np.asarray(data.data, dtype=np.float64), np.asarray(data.target, dtype=np.float64)
    order = np.argsort(y, kind="stable")
    low, high = order[: len(y) // 2], order[len(y) // 2 :]  # split by target: features drift with it
    halves = np.arange(len(y)) % 2 == 0  # alternate rows: no drift
    for j in range(x.shape[1]):
        _check(x[low, j], x[high, j], f"{loader.__name__} feature {j} by target")  # type: ignore[attr-defined]
        _check(x[halves, j], x[~halves, j], f"{loader.__name__} feature {j} alternate")  # type: ignore[attr-defined]


def test_categorical_measures_are_exact_under_the_cap() -> None:
    rng = np.random.default_rng(0)
    labels = np.array([f"v{k}" for k in range(40)])
    ref = labels[rng.integers(0, 40, 5_000)]
    cur = labels[rng.choice(40, 8_000, p=np.linspace(1, 2, 40) / np.linspace(1, 2, 40).sum())]
    cur[:50] = "unseen"
    sketch = column_drift(
        profile_batches(pa.table({"c": ref}))["c"], profile_batches(pa.table({"c": cur}))["c"]
    ).scores
    exact = exact_column_drift(ref, cur).scores
    assert sketch == pytest.approx(exact, rel=1e-9, abs=1e-12)
