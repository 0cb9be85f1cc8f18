"""Evaluation figures of a predictions table: confusion matrix, per-class metrics, ROC and PR curves
(binary and one-vs-rest), log loss, and residual summaries for regression. Pure numpy, no I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "CURVE_POINTS",
    "EPS",
    "classification_summary",
    "full_proba",
    "log_loss_per_row",
    "pr_curve",
    "regression_summary",
    "roc_curve",
]

# Curves are kept with at most this many points (evenly spaced over the thresholds, ends kept).
CURVE_POINTS = 201
EPS = 1e-15


def _thin(*arrays: npt.NDArray[np.float64]) -> list[list[float]]:
    n = len(arrays[0])
    if n <= CURVE_POINTS:
        keep = np.arange(n)
    else:
        keep = np.unique(np.linspace(0, n - 1, CURVE_POINTS).round().astype(np.int64))
    return [[round(float(v), 6) for v in a[keep]] for a in arrays]


def _ranked(
    positive: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Cumulative true and false positives at each distinct threshold, highest score first."""
    order = np.argsort(-score, kind="stable")
    s = score[order]
    p = positive[order]
    distinct = np.flatnonzero(np.diff(s)) if len(s) > 1 else np.array([], dtype=np.int64)
    ends = np.r_[distinct, len(s) - 1]
    tps = np.cumsum(p)[ends].astype(np.float64)
    fps = (ends + 1 - tps).astype(np.float64)
    return tps, fps, s[ends].astype(np.float64)


def roc_curve(positive: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> dict[str, Any]:
    """ROC curve of ``score`` for the rows where ``positive``; AUC by the trapezoid rule (None when
    only one class is present)."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return {"fpr": [], "tpr": [], "thresholds": [], "auc": None}
    tps, fps, thresholds = _ranked(positive, score)
    tpr = np.r_[0.0, tps / n_pos]
    fpr = np.r_[0.0, fps / n_neg]
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # the trapezoid rule
    fpr_k, tpr_k, thr_k = _thin(fpr, tpr, np.r_[math.inf, thresholds])
    return {"fpr": fpr_k, "tpr": tpr_k, "thresholds": _finite(thr_k), "auc": round(auc, 6)}


def pr_curve(positive: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> dict[str, Any]:
    """Precision–recall curve; ``average_precision`` is the step-wise area (as scikit-learn's)."""
    n_pos = int(positive.sum())
    if n_pos == 0 or len(positive) == 0:
        return {"precision": [], "recall": [], "thresholds": [], "average_precision": None}
    tps, fps, thresholds = _ranked(positive, score)
    precision = tps / (tps + fps)
    recall = tps / n_pos
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    p_k, r_k, t_k = _thin(np.r_[1.0, precision], np.r_[0.0, recall], np.r_[math.inf, thresholds])
    return {"precision": p_k, "recall": r_k, "thresholds": _finite(t_k), "average_precision": round(ap, 6)}


def _finite(values: list[float]) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in values]


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else round(float(num / den), 6)


def classification_summary(
    y_true: npt.NDArray[np.int64],
    y_pred: npt.NDArray[np.int64],
    classes: Sequence[str],
    proba: Mapping[int, npt.NDArray[np.float64]] | None = None,
) -> dict[str, Any]:
    """Figures of a classifier from labels coded as indices into ``classes``.

    ``proba`` maps a class index to the predicted probability of that class per row; with one entry in a
    two-class problem it is the positive class's (the other is its complement). Curves are one-vs-rest.
    """
    k = len(classes)
    n = len(y_true)
    confusion = np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k) if k else np.zeros((0, 0))
    tp = np.diag(confusion).astype(np.float64)
    predicted = confusion.sum(axis=0).astype(np.float64)
    actual = confusion.sum(axis=1).astype(np.float64)
    per_class: dict[str, dict[str, float | int | None]] = {}
    f1s: list[float] = []
    for i, name in enumerate(classes):
        precision = _ratio(tp[i], predicted[i])
        recall = _ratio(tp[i], actual[i])
        f1 = _ratio(2 * tp[i], predicted[i] + actual[i])
        if f1 is not None:
            f1s.append(f1)
        per_class[name] = {"precision": precision, "recall": recall, "f1": f1, "support": int(actual[i])}
    out: dict[str, Any] = {
        "task": "classification",
        "rows": n,
        "classes": list(classes),
        "confusion": confusion.astype(np.int64).tolist(),
        "accuracy": _ratio(float(tp.sum()), n),
        "macro_f1": round(float(sum(f1s) / len(f1s)), 6) if f1s else None,
        "per_class": per_class,
    }
    if proba:
        full = full_proba(proba, k, n)
        out["log_loss"] = round(float(log_loss_per_row(y_true, full).mean()), 6) if n else None
        curve_classes = [1] if k == 2 and 1 in proba and 0 not in proba else sorted(proba)
        out["roc"] = {classes[c]: roc_curve(y_true == c, full[:, c]) for c in curve_classes}
        out["pr"] = {classes[c]: pr_curve(y_true == c, full[:, c]) for c in curve_classes}
    return out


def full_proba(proba: Mapping[int, npt.NDArray[np.float64]], k: int, n: int) -> npt.NDArray[np.float64]:
    """An (n, k) matrix; in a two-class problem with one column given, the other is its complement."""
    full = np.full((n, k), np.nan)
    for c, p in proba.items():
        full[:, c] = p
    if k == 2 and len(proba) == 1:
        given = next(iter(proba))
        full[:, 1 - given] = 1.0 - full[:, given]
    return full


def log_loss_per_row(
    y_true: npt.NDArray[np.int64], proba: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """−log of the probability given to each row's true class (clipped to [1e-15, 1]; a class without a
    probability column counts as probability 0)."""
    if len(y_true) == 0:
        return np.zeros(0)
    p = proba[np.arange(len(y_true)), y_true]
    p = np.where(np.isnan(p), 0.0, p)
    result: npt.NDArray[np.float64] = -np.log(np.clip(p, EPS, 1.0))
    return result


def regression_summary(y_true: npt.NDArray[np.float64], y_pred: npt.NDArray[np.float64]) -> dict[str, Any]:
    """MAE, RMSE, bias (mean of prediction − truth), R², residual quantiles and a 20-bin histogram."""
    n = len(y_true)
    out: dict[str, Any] = {"task": "regression", "rows": n}
    if n == 0:
        return {**out, "mae": None, "rmse": None, "bias": None, "r2": None, "quantiles": {}, "histogram": {}}
    residual = y_pred - y_true
    finite = residual[np.isfinite(residual)]
    if len(finite) == 0:
        return {**out, "mae": None, "rmse": None, "bias": None, "r2": None, "quantiles": {}, "histogram": {}}
    truth = y_true[np.isfinite(residual)]
    ss_tot = float(((truth - truth.mean()) ** 2).sum())
    ss_res = float((finite**2).sum())
    qs = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
    values = np.quantile(finite, qs)
    counts, edges = np.histogram(finite, bins=20)
    return {
        **out,
        "non_finite": int(n - len(finite)),
        "mae": round(float(np.abs(finite).mean()), 6),
        "rmse": round(math.sqrt(ss_res / len(finite)), 6),
        "bias": round(float(finite.mean()), 6),
        "r2": None if ss_tot == 0 else round(1.0 - ss_res / ss_tot, 6),
        "quantiles": {str(q): round(float(v), 6) for q, v in zip(qs, values, strict=True)},
        "histogram": {"edges": [round(float(e), 6) for e in edges], "counts": counts.astype(int).tolist()},
    }
