"""Direct loss estimation (DLE) for regression models: MAE and RMSE estimated before labels arrive. Pure
numpy, JSON in and out.

On a labelled reference, two models learn the regression's absolute error |y − ŷ| and squared error
(y − ŷ)² from the model's inputs and its output (fitted by ``services/monitoring/loss_model.py`` with
scikit-learn's gradient boosting, exported here as plain trees: never pickle). Each production row gets
both predicted losses; a window keeps their sums and its row count, so its estimated MAE is the mean
predicted absolute error and its RMSE the root of the mean predicted squared error. The band is ± 3
standard errors: the reference's standard deviation of each loss over √n (RMSE's through the delta method).
Like CBPE it holds while the relation between inputs and the model's errors stays as on the reference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "LOSS_METRICS",
    "estimate_losses",
    "loss_sums",
    "merge_loss_sums",
    "predict_trees",
    "validate_loss_model",
]

LOSS_METRICS = ("mae", "rmse")
LOSS_VERSION = 1
_BAND_SIGMAS = 3.0
_TREE_KEYS = ("feature", "threshold", "missing_left", "left", "right", "leaf", "value")


def _flatten(ensemble: Mapping[str, Any]) -> tuple[npt.NDArray[Any], ...]:
    """Every tree's nodes in one set of arrays (children shifted by their tree's offset), so all trees are
    walked at once: a step per depth level, not per tree and level."""
    trees = ensemble["trees"]
    sizes = [len(t["value"]) for t in trees]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    def cat(key: str, dtype: Any) -> npt.NDArray[Any]:
        if not trees:
            return np.zeros(0, dtype=dtype)
        return np.concatenate([np.asarray(t[key], dtype=dtype) for t in trees])

    shift = np.repeat(offsets, sizes)
    return (
        offsets,
        cat("feature", np.int64),
        cat("threshold", np.float64),
        cat("missing_left", bool),
        cat("left", np.int64) + shift,
        cat("right", np.int64) + shift,
        cat("leaf", bool),
        cat("value", np.float64),
    )


def predict_trees(ensemble: Mapping[str, Any], x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The ensemble's prediction for each row of ``x`` (rows × features, NaN for missing): its baseline
    plus one leaf value per tree, reached by ``x[feature] <= threshold`` → left (NaN: ``missing_left``)."""
    offsets, feature, threshold, missing_left, left, right, leaf, value = _flatten(ensemble)
    n = x.shape[0]
    out = np.full(n, float(ensemble["baseline"]), dtype=np.float64)
    if not offsets.size or not n:
        return out
    node = np.tile(offsets, n)  # (row, tree) pairs, row-major
    row = np.repeat(np.arange(n), offsets.size)
    active = np.flatnonzero(~leaf[node])
    while active.size:
        at = node[active]
        v = x[row[active], feature[at]]
        go_left = np.where(np.isnan(v), missing_left[at], v <= threshold[at])
        node[active] = np.where(go_left, left[at], right[at])
        active = active[~leaf[node[active]]]
    out += value[node].reshape(n, offsets.size).sum(axis=1)
    return out


def loss_sums(model: Mapping[str, Any], x: npt.NDArray[np.float64]) -> dict[str, float]:
    """What a batch adds to its window: rows, and the sums of predicted absolute and squared errors
    (negative predictions, which the trees can make near zero, count as zero)."""
    if x.shape[0] == 0:
        return {"n": 0, "abs": 0.0, "sq": 0.0}
    absolute = np.maximum(predict_trees(model["abs_model"], x), 0.0)
    squared = np.maximum(predict_trees(model["sq_model"], x), 0.0)
    return {"n": int(x.shape[0]), "abs": float(absolute.sum()), "sq": float(squared.sum())}


def merge_loss_sums(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, float]:
    return {key: a.get(key, 0) + b.get(key, 0) for key in ("n", "abs", "sq")}


def _band(value: float, se: float) -> dict[str, float | None]:
    return {"value": value, "lower": max(0.0, value - _BAND_SIGMAS * se), "upper": value + _BAND_SIGMAS * se}


def estimate_losses(sums: Mapping[str, Any], model: Mapping[str, Any]) -> dict[str, Any]:
    """Estimated MAE and RMSE of a window (or a merged period), each ``{value, lower, upper}``; ``rows``."""
    n = int(sums.get("n", 0))
    if n <= 0:
        return {}
    mae, mse = sums["abs"] / n, sums["sq"] / n
    rmse = math.sqrt(mse)
    sd = model["sd"]
    se_mse = sd["sq"] / math.sqrt(n)
    return {
        "rows": n,
        "mae": _band(mae, sd["abs"] / math.sqrt(n)),
        "rmse": _band(rmse, se_mse / (2 * rmse) if rmse > 0 else 0.0),
    }


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_tree(tree: Any) -> None:
    if not isinstance(tree, Mapping) or any(not isinstance(tree.get(k), list) for k in _TREE_KEYS):
        raise ValueError(f"each tree needs lists {', '.join(_TREE_KEYS)}")
    size = len(tree["value"])
    if size == 0 or any(len(tree[k]) != size for k in _TREE_KEYS):
        raise ValueError("a tree's lists must have one entry per node")
    kinds = {"feature": _is_int, "left": _is_int, "right": _is_int, "value": _is_number}
    kinds |= {"threshold": lambda v: isinstance(v, int | float) and not isinstance(v, bool)}
    kinds |= {"missing_left": lambda v: isinstance(v, bool), "leaf": lambda v: isinstance(v, bool)}
    for key, ok in kinds.items():
        if not all(ok(v) for v in tree[key]):
            raise ValueError(f"a tree's {key} holds values of the wrong type")
    for key in ("left", "right"):
        children = tree[key]
        if not all(isinstance(c, int) and 0 <= c < size for c in children):
            raise ValueError("tree children must be node indexes")
    # a node's children come after it (how the trees are exported), so traversal always ends
    if not all(
        leaf or (left > i and right > i)
        for i, (leaf, left, right) in enumerate(zip(tree["leaf"], tree["left"], tree["right"], strict=True))
    ):
        raise ValueError("tree children must follow their parent")


def validate_loss_model(doc: Any, features: Sequence[str]) -> dict[str, Any]:
    """A DLE document checked (shape, finite numbers, its inputs among ``features``); ValueError if not."""
    if not isinstance(doc, Mapping) or doc.get("method") != "dle" or doc.get("version") != LOSS_VERSION:
        raise ValueError(f"a loss model is a mapping with method 'dle' and version {LOSS_VERSION}")
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not inputs or not all(isinstance(c, str) for c in inputs):
        raise ValueError("a loss model needs its input columns")
    unknown = [c for c in inputs if c not in features]
    if unknown:
        raise ValueError(f"inputs not watched by the monitor: {', '.join(unknown)}")
    for key in ("abs_model", "sq_model"):
        ensemble = doc.get(key)
        if not isinstance(ensemble, Mapping) or not isinstance(ensemble.get("trees"), list):
            raise ValueError(f"{key} needs a baseline and trees")
        if not _is_number(ensemble.get("baseline")):
            raise ValueError(f"{key} needs a finite numeric baseline")
        for tree in ensemble["trees"]:
            _check_tree(tree)
            if any(
                f >= len(inputs) or f < 0
                for f, leaf in zip(tree["feature"], tree["leaf"], strict=True)
                if not leaf
            ):
                raise ValueError("a tree reads a column the model does not have")
    sd = doc.get("sd")
    if not isinstance(sd, Mapping) or not all(
        isinstance(sd.get(k), int | float) and math.isfinite(sd[k]) and sd[k] >= 0 for k in ("abs", "sq")
    ):
        raise ValueError("a loss model needs finite sd.abs and sd.sq")
    return dict(doc)
