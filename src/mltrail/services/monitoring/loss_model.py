"""Direct loss estimation for regression monitors (``stats/loss_estimation.py``): the loss models fitted on a
labelled reference with scikit-learn (the ``sklearn`` extra), exported as plain JSON trees, and the loss
sums a batch adds to its windows.

Inputs: the monitor's numeric features and its prediction column (categorical features are left out:
their codes would not mean the same in every batch). Fitted where the call is made (SDK, CLI), like CBPE's
calibration; the server only checks and keeps the document and evaluates its trees with numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mltrail.errors import InvalidInputError
from mltrail.stats.loss_estimation import LOSS_VERSION, loss_sums

__all__ = ["fit_loss_model", "loss_inputs", "window_loss_sums"]

# Small models, as their trees are walked with numpy on every ingested batch: 30 trees of at most 15 leaves
# (learning rate 0.3) estimate as closely as 100 trees of 31 on benchmarks/estimation_vs_nannyml.py, and
# evaluate ~10x faster.
_MAX_ITER, _LEAVES, _RATE = 30, 15, 0.3


def _numeric(column: pa.ChunkedArray) -> npt.NDArray[np.float64] | None:
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        return None
    values: npt.NDArray[np.float64] = (
        pc.fill_null(pc.cast(column, pa.float64()), np.nan).to_numpy(zero_copy_only=False).astype(np.float64)
    )
    return values


def loss_inputs(table: pa.Table, inputs: Sequence[str]) -> npt.NDArray[np.float64]:
    """Rows × inputs as floats; a column missing from the batch, or not numeric in it, is all NaN (the trees
    send missing values the way they learned to)."""
    out = np.full((table.num_rows, len(inputs)), np.nan, dtype=np.float64)
    for j, name in enumerate(inputs):
        if name in table.column_names and (values := _numeric(table.column(name))) is not None:
            out[:, j] = values
    return out


def window_loss_sums(table: pa.Table, model: Mapping[str, Any] | None) -> dict[str, float] | None:
    """What a batch (or one window's part of it) adds to its window under the monitor's loss model."""
    if not model or table.num_rows == 0:
        return None
    return loss_sums(model, loss_inputs(table, model["inputs"]))


def _export(regressor: Any) -> dict[str, Any]:
    """A fitted ``HistGradientBoostingRegressor`` as plain trees (its private ``_predictors`` and
    ``_baseline_prediction``: re-check on scikit-learn upgrades; a test compares the two predictions)."""
    trees = []
    for (predictor,) in regressor._predictors:
        nodes = predictor.nodes
        trees.append(
            {
                "feature": nodes["feature_idx"].astype(int).tolist(),
                "threshold": nodes["num_threshold"].astype(float).tolist(),
                "missing_left": nodes["missing_go_to_left"].astype(bool).tolist(),
                "left": nodes["left"].astype(int).tolist(),
                "right": nodes["right"].astype(int).tolist(),
                "leaf": nodes["is_leaf"].astype(bool).tolist(),
                "value": nodes["value"].astype(float).tolist(),
            }
        )
    return {"baseline": float(np.ravel(regressor._baseline_prediction)[0]), "trees": trees}


def fit_loss_model(
    table: pa.Table, *, label: str, prediction: str, features: Sequence[str]
) -> dict[str, Any]:
    """The DLE document fitted on a labelled reference: gradient-boosted models of the absolute and the
    squared error from the numeric ``features`` and the prediction."""
    try:
        from sklearn.ensemble import HistGradientBoostingRegressor
    except ImportError:  # an optional extra
        raise InvalidInputError(
            "direct loss estimation for regression needs scikit-learn: pip install 'mltrail[sklearn]'",
            field="task",
        ) from None
    for column, what in ((label, "label"), (prediction, "prediction")):
        if column not in table.column_names or _numeric(table.column(column)) is None:
            raise InvalidInputError(f"the reference needs a numeric {what} column {column!r}", field=what)
    inputs = [f for f in features if f in table.column_names and _numeric(table.column(f)) is not None] + [
        prediction
    ]
    y, y_hat = _numeric(table.column(label)), _numeric(table.column(prediction))
    assert y is not None and y_hat is not None
    known = np.isfinite(y) & np.isfinite(y_hat)
    if known.sum() < 100:
        raise InvalidInputError("direct loss estimation needs at least 100 labelled rows", field="label")
    x = loss_inputs(table, inputs)[known]
    error = (y - y_hat)[known]
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # scikit-learn's dependency

    models = {}
    # One OpenMP thread: on a busy machine the default spins its threads against the serving process's
    # (20,000 rows: 0.7 s instead of 10 s on two shared cores), and the models are small.
    with threadpool_limits(1, user_api="openmp"):
        for key, target in (("abs_model", np.abs(error)), ("sq_model", error**2)):
            regressor = HistGradientBoostingRegressor(
                max_iter=_MAX_ITER,
                max_leaf_nodes=_LEAVES,
                learning_rate=_RATE,
                random_state=0,
                early_stopping=False,
            )
            models[key] = _export(regressor.fit(x, target))
    return {
        "method": "dle",
        "version": LOSS_VERSION,
        "inputs": inputs,
        "rows": int(known.sum()),
        "sd": {"abs": float(np.std(np.abs(error))), "sq": float(np.std(error**2))},
        **models,
    }
