"""Performance accumulators: merged per window, and metrics as exact as the module docstring says."""

from __future__ import annotations

import numpy as np
import pytest

from mltrail.services.monitoring.performance import accumulate, merge_accumulators, metrics_from
from mltrail.store.monitoring import LabelMatch

metrics = pytest.importorskip("sklearn.metrics")


def _matches(n: int, seed: int) -> tuple[list[LabelMatch], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0.0, 1.0)
    rows = [
        LabelMatch(str(i), 0.0, float(p), str(int(p > 0.5)), str(int(t)), float(t))
        for i, (p, t) in enumerate(zip(score, y, strict=True))
    ]
    return rows, y, score


def test_histogram_auc_and_classification_metrics_match_sklearn() -> None:
    rows, y, score = _matches(20_000, 0)
    half = len(rows) // 2
    acc = merge_accumulators(
        accumulate(rows[:half], "classification"), accumulate(rows[half:], "classification")
    )
    got = metrics_from(acc, "classification")
    predicted = (score > 0.5).astype(int)
    assert got["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, score), abs=0.005)
    assert got["accuracy"] == pytest.approx(metrics.accuracy_score(y, predicted))
    assert got["f1"] == pytest.approx(metrics.f1_score(y, predicted))
    assert got["log_loss"] == pytest.approx(metrics.log_loss(y, np.clip(score, 1e-15, 1 - 1e-15)), rel=1e-9)


def test_regression_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(10, 3, 5000)
    pred = y + rng.normal(0, 1, 5000)
    rows = [
        LabelMatch(str(i), 0.0, float(p), None, None, float(t))
        for i, (p, t) in enumerate(zip(pred, y, strict=True))
    ]
    got = metrics_from(accumulate(rows, "regression"), "regression")
    assert got["mae"] == pytest.approx(metrics.mean_absolute_error(y, pred))
    assert got["rmse"] == pytest.approx(np.sqrt(metrics.mean_squared_error(y, pred)))
    assert got["r2"] == pytest.approx(metrics.r2_score(y, pred))
