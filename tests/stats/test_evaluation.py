"""Evaluation figures against hand-computed values and scikit-learn's (seeded data)."""

from __future__ import annotations

import numpy as np
import pytest

from mltrail.stats.evaluation import classification_summary, log_loss_per_row, regression_summary


def test_confusion_and_per_class_by_hand() -> None:
    truth = np.array([0, 0, 1, 1, 1, 2])
    pred = np.array([0, 1, 1, 1, 2, 2])
    found = classification_summary(truth, pred, ["a", "b", "c"])
    assert found["confusion"] == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    assert found["accuracy"] == pytest.approx(4 / 6, abs=1e-6)
    assert found["per_class"]["b"] == {
        "precision": 0.666667,
        "recall": 0.666667,
        "f1": 0.666667,
        "support": 3,
    }
    assert found["per_class"]["c"]["precision"] == 0.5 and found["per_class"]["c"]["recall"] == 1.0
    assert "roc" not in found


def test_curves_and_log_loss_agree_with_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 3, 500)
    proba = rng.dirichlet([1, 1, 1], 500)
    proba[np.arange(500), truth] += 0.3
    proba /= proba.sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    found = classification_summary(
        truth, pred, ["x", "y", "z"], {0: proba[:, 0], 1: proba[:, 1], 2: proba[:, 2]}
    )
    for c, name in enumerate(("x", "y", "z")):
        assert found["roc"][name]["auc"] == pytest.approx(
            metrics.roc_auc_score(truth == c, proba[:, c]), abs=1e-5
        )
        expected_ap = metrics.average_precision_score(truth == c, proba[:, c])
        assert found["pr"][name]["average_precision"] == pytest.approx(expected_ap, abs=1e-5)
        assert len(found["roc"][name]["fpr"]) <= 201
    assert found["log_loss"] == pytest.approx(metrics.log_loss(truth, proba), abs=1e-5)
    assert found["macro_f1"] == pytest.approx(metrics.f1_score(truth, pred, average="macro"), abs=1e-5)


def test_binary_with_one_probability_column() -> None:
    truth = np.array([0, 1, 1, 0])
    found = classification_summary(truth, truth, ["no", "yes"], {1: np.array([0.1, 0.9, 0.8, 0.3])})
    assert list(found["roc"]) == ["yes"] and found["roc"]["yes"]["auc"] == 1.0
    assert found["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.9, 0.8, 0.7])), abs=1e-6)


def test_log_loss_clips_zero_probabilities() -> None:
    assert log_loss_per_row(np.array([0]), np.array([[0.0, 1.0]]))[0] == pytest.approx(-np.log(1e-15))


def test_regression_figures() -> None:
    truth = np.array([1.0, 2.0, 3.0, 4.0])
    pred = np.array([1.5, 2.0, 2.0, 4.0])
    found = regression_summary(truth, pred)
    assert found["mae"] == 0.375 and found["bias"] == -0.125
    assert found["rmse"] == pytest.approx(np.sqrt((0.25 + 1.0) / 4), abs=1e-6)
    assert found["r2"] == pytest.approx(1 - 1.25 / 5.0, abs=1e-6)
    assert sum(found["histogram"]["counts"]) == 4
    assert regression_summary(np.array([]), np.array([]))["mae"] is None
