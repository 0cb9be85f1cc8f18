"""How request rows become a model's input: a pandas DataFrame in the signature's column order, or, for a
scikit-learn estimator fitted on exactly those numeric columns, a float array (no DataFrame at all).

Building a one-row DataFrame and letting scikit-learn validate it costs about ten times the prediction of
a small linear model, so the array path is worth having; it is taken only when it cannot change an
answer: the estimator (or a pipeline's first step) recorded ``feature_names_in_`` equal to the
signature's columns, every column is numeric, and at load the array path gives the same answers as the
DataFrame path on the model's stored input example, with no warning. The estimator used on arrays is a
shallow copy without ``feature_names_in_`` (the arrays carry the fitted order, so there is nothing to
check; the copy shares the fitted arrays); the loaded model itself is not changed.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from mltrail.sdk.flavors import LoadedModel

__all__ = ["array_estimator", "to_array", "to_frame"]

_NUMERIC = {"int", "float"}


def to_frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Any:
    """The rows as a DataFrame: the signature's columns in order, or every key when there is none."""
    import pandas as pd

    if columns:
        return pd.DataFrame([[row.get(c) for c in columns] for row in rows], columns=list(columns))
    return pd.DataFrame(list(rows))


def to_array(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> np.ndarray[Any, Any]:
    """The rows as a float array in ``columns`` order (a missing value is NaN, as in a float column)."""
    return np.array([[row.get(c) for c in columns] for row in rows], dtype=np.float64)


def array_estimator(model: LoadedModel, columns: Sequence[str], kinds: dict[str, str]) -> Any | None:
    """An estimator that predicts on ``to_array`` rows exactly as ``model`` does on ``to_frame`` rows,
    or None when that cannot be shown (another flavor, a non-numeric column, names that differ, no
    example, or any difference on the example)."""
    if model.flavor != "sklearn" or not columns or any(kinds.get(c) not in _NUMERIC for c in columns):
        return None
    raw = model.raw
    fitted = getattr(raw, "feature_names_in_", None)
    if fitted is None or list(fitted) != list(columns):
        return None
    estimator = _without_names(raw)
    example = model.input_example
    if estimator is None or example is None or not hasattr(example, "columns"):
        return None
    try:
        frame = example[list(columns)]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning means the two paths are not the same call
            by_frame = np.asarray(model.predict(frame))
            by_array = np.asarray(estimator.predict(frame.to_numpy(dtype=np.float64)))
    except Exception:  # noqa: BLE001 - any failure means: keep the DataFrame path
        return None
    if by_frame.shape != by_array.shape or not np.array_equal(by_frame, by_array):
        return None
    return estimator


def _without_names(raw: Any) -> Any | None:
    """A shallow copy of ``raw`` whose first step has no ``feature_names_in_``; None if that is not
    possible (a property, or a pipeline of another shape)."""
    steps = getattr(raw, "steps", None)
    if steps is not None:
        if not isinstance(steps, list) or not steps or not isinstance(steps[0], tuple):
            return None
        name, first = steps[0]
        bare = _without_names(first)
        if bare is None:
            return None
        pipeline = copy.copy(raw)
        pipeline.steps = [(name, bare), *steps[1:]]
        return pipeline
    bare = copy.copy(raw)
    try:
        del bare.feature_names_in_
    except AttributeError:
        return None
    return bare
