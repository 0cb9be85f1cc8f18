"""Metrics of a fitted scikit-learn-API estimator on a data set: the usual ones for its kind."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["estimator_metrics"]


def estimator_metrics(model: Any, x: Any, y: Any, prefix: str) -> dict[str, float]:
    """``{prefix}/accuracy``, ``…/f1`` (weighted), ``…/log_loss`` and ``…/roc_auc`` for a classifier;
    ``…/mse``, ``…/rmse``, ``…/mae`` and ``…/r2`` for a regressor; ``…/score`` for anything else that
    scores. Nothing without labels. A metric the data does not allow (one class only) is left out."""
    if y is None or x is None:
        return {}
    from sklearn import metrics
    from sklearn.base import is_classifier, is_regressor

    values: dict[str, float] = {}
    if is_classifier(model):
        predicted = model.predict(x)
        values["accuracy"] = metrics.accuracy_score(y, predicted)
        for name, score in (
            ("precision", metrics.precision_score),
            ("recall", metrics.recall_score),
            ("f1", metrics.f1_score),
        ):
            values[name] = score(y, predicted, average="weighted", zero_division=0)
        if hasattr(model, "predict_proba"):
            values.update(_probability_metrics(model, x, y))
    elif is_regressor(model):
        predicted = model.predict(x)
        mse = float(metrics.mean_squared_error(y, predicted))
        values.update(
            mse=mse,
            rmse=math.sqrt(mse),
            mae=metrics.mean_absolute_error(y, predicted),
            r2=metrics.r2_score(y, predicted),
        )
    elif hasattr(model, "score"):
        try:
            values["score"] = model.score(x, y)
        except (TypeError, ValueError):
            return {}
    return {f"{prefix}/{key}": float(value) for key, value in values.items()}


def _probability_metrics(model: Any, x: Any, y: Any) -> dict[str, float]:
    from sklearn import metrics

    out: dict[str, float] = {}
    try:
        proba = model.predict_proba(x)
        classes = getattr(model, "classes_", None)
        out["log_loss"] = metrics.log_loss(y, proba, labels=classes)
        if proba.shape[1] == 2:
            out["roc_auc"] = metrics.roc_auc_score(y, proba[:, 1])
        else:
            out["roc_auc"] = metrics.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
    except (AttributeError, IndexError, NotImplementedError, ValueError):
        pass  # one class in y, probabilities not calibrated to the labels, or predict_proba unavailable
    return out
