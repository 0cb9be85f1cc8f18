"""CBPE on generated data where the truth is known: estimates within stated tolerances, realized figures
inside the band, histograms that merge the same in any order, calibration documents checked."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from mltrail.stats.estimation import (
    BINS,
    bin_counts,
    estimate,
    fit_calibration,
    merge_histograms,
    validate_calibration,
)

# A model whose probabilities are off (too flat, shifted): calibration must correct them. The truth's
# log-odds are 2x; the model says 0.9x + 0.4.
TRUE_SLOPE, MODEL_SLOPE, MODEL_BIAS = 2.0, 0.9, 0.4


def _binary(n: int, seed: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    y = rng.random(n) < 1 / (1 + np.exp(-TRUE_SLOPE * x))
    return y, 1 / (1 + np.exp(-(MODEL_SLOPE * x + MODEL_BIAS)))


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    order = np.argsort(p, kind="stable")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    pos = int(y.sum())
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * (len(y) - pos)))


def _truth(y: np.ndarray, pred: np.ndarray, p: np.ndarray) -> dict[str, float]:
    tp = float((y & pred).sum())
    precision, recall = tp / pred.sum(), tp / y.sum()
    return {
        "accuracy": float((y == pred).mean()),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall),
        "roc_auc": _auc(y, p),
    }


def _binary_calibration() -> dict[str, object]:
    y, p = _binary(50_000, 0, 0.0)
    labels = np.where(y, "1", "0").tolist()
    predicted = np.where(p >= 0.5, "1", "0").tolist()
    return fit_calibration(labels, predicted, {"score": p}, {"score": "1"})


@pytest.mark.parametrize("shift", [-1.0, 0.0, 0.5, 1.0])
def test_binary_estimates_follow_the_truth_under_covariate_shift(shift: float) -> None:
    calibration = _binary_calibration()
    y, p = _binary(20_000, 17 + int(shift * 10), shift)
    pred = p >= 0.5
    got = estimate({"score": bin_counts(p, pred)}, calibration)
    truth = _truth(y, pred, p)
    # Tolerance: 3 sampling standard errors at 20,000 rows are ≤ 0.02 for every metric here; 200 bins
    # add < 0.005.
    for metric, value in truth.items():
        assert got[metric]["value"] == pytest.approx(value, abs=0.02), metric
        assert got[metric]["lower"] <= value <= got[metric]["upper"], metric
    assert got["rows"] == 20_000


def test_uncalibrated_probabilities_would_be_wrong_so_calibration_matters() -> None:
    # Taking the model's probabilities at face value misses accuracy by far more than the tolerance.
    y, p = _binary(20_000, 3, 1.0)
    pred = p >= 0.5
    naive = float(np.mean(np.where(pred, p, 1 - p)))
    accuracy = float((y == pred).mean())
    assert abs(naive - accuracy) > 0.05
    got = estimate({"score": bin_counts(p, pred)}, _binary_calibration())
    assert got["accuracy"]["value"] == pytest.approx(accuracy, abs=0.01)


def _multiclass(n: int, seed: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal([shift, 0.0], 1.0, (n, 2))
    logits = np.stack([2 * x[:, 0], 2 * x[:, 1], -x[:, 0] - x[:, 1]], axis=1)
    truth = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = (rng.random((n, 1)) > np.cumsum(truth, axis=1)).sum(axis=1)
    model = np.exp(0.7 * logits) / np.exp(0.7 * logits).sum(axis=1, keepdims=True)  # overconfident-less
    return y, model


def test_multiclass_estimates_follow_the_truth() -> None:
    names = ["a", "b", "c"]
    y, probs = _multiclass(30_000, 11, 0.0)
    columns = {f"score_{c}": probs[:, i] for i, c in enumerate(names)}
    labels = [names[i] for i in y]
    predicted = [names[i] for i in probs.argmax(axis=1)]
    calibration = fit_calibration(labels, predicted, columns, {f"score_{c}": c for c in names})
    assert calibration["kind"] == "multiclass"
    y2, probs2 = _multiclass(15_000, 12, 0.8)
    pred2 = probs2.argmax(axis=1)
    hist = {f"score_{c}": bin_counts(probs2[:, i], pred2 == i) for i, c in enumerate(names)}
    got = estimate(hist, calibration)
    per_class = [_truth(y2 == i, pred2 == i, probs2[:, i]) for i in range(3)]
    truth = {"accuracy": float((y2 == pred2).mean())} | {
        m: float(np.mean([c[m] for c in per_class])) for m in ("precision", "recall", "f1", "roc_auc")
    }
    for metric, value in truth.items():
        # one-vs-rest calibration without renormalising across classes: a little looser than binary
        assert got[metric]["value"] == pytest.approx(value, abs=0.025), metric


def test_histograms_merge_the_same_in_any_order() -> None:
    calibration = _binary_calibration()
    parts = []
    for seed in range(4):
        _, p = _binary(3000, 100 + seed, seed * 0.3)
        parts.append({"score": bin_counts(p, p >= 0.5)})
    results = set()
    for order in itertools.permutations(parts):
        merged: dict[str, object] = {}
        for part in order:
            merged = merge_histograms(merged, part)  # type: ignore[arg-type]
        results.add(json.dumps(estimate(merged, calibration), sort_keys=True))
    assert len(results) == 1


def test_out_of_range_probabilities_are_left_out() -> None:
    counts = bin_counts(np.array([0.2, np.nan, 1.5, -0.1, 1.0]), np.array([True, True, False, False, True]))
    assert counts == {"predicted": [[40, BINS - 1], [1, 1]], "other": [[], []]}


def test_calibration_maps_are_monotone_and_documents_are_checked() -> None:
    calibration = _binary_calibration()
    cal = calibration["classes"][0]["map"]  # type: ignore[index]
    assert len(cal) == BINS and all(a <= b for a, b in itertools.pairwise(cal))
    assert validate_calibration(json.loads(json.dumps(calibration))) == calibration
    broken = json.loads(json.dumps(calibration))
    broken["classes"][0]["map"][3] = 1.5
    with pytest.raises(ValueError, match="between 0 and 1"):
        validate_calibration(broken)
    with pytest.raises(ValueError, match="method"):
        validate_calibration({"method": "pickle"})


@pytest.mark.parametrize(
    "doc",
    [
        None,
        [],
        {"method": "cbpe", "version": 1, "bins": BINS, "classes": [None], "sd": {"accuracy": 0.1}},
        {"method": "cbpe", "version": 1, "bins": BINS, "classes": ["x"], "sd": {"accuracy": 0.1}},
        {"method": "cbpe", "version": 1, "bins": BINS, "classes": [{"map": [True] * BINS, "column": "s"}]},
        {"method": "cbpe", "version": 1, "bins": BINS, "classes": [], "sd": {"accuracy": "x"}},
    ],
)
def test_malformed_calibrations_are_value_errors(doc: object) -> None:
    with pytest.raises(ValueError):
        validate_calibration(doc)
