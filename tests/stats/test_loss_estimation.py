"""Direct loss estimation on generated regression data where the truth is known: exported trees predict
as scikit-learn does, estimated MAE and RMSE follow the truth under covariate shift, documents checked."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from mltrail.services.monitoring.loss_model import fit_loss_model, loss_inputs
from mltrail.stats.loss_estimation import (
    estimate_losses,
    loss_sums,
    merge_loss_sums,
    predict_trees,
    validate_loss_model,
)

ensemble = pytest.importorskip("sklearn.ensemble")
threadpool_limits = pytest.importorskip("threadpoolctl").threadpool_limits


def regression(n: int, seed: int, shift: float) -> pa.Table:
    """y = 2·x1 + noise whose spread grows with |x2|; the model predicts 2·x1, so its errors depend on x2,
    and moving x2 changes true MAE and RMSE."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(0, 1, n), rng.normal(shift, 1, n)
    y = 2 * x1 + rng.normal(0, 1, n) * (0.2 + np.abs(x2))
    x2[rng.random(n) < 0.05] = np.nan  # missing inputs go where the trees learned to send them
    return pa.table({"x1": x1, "x2": x2, "prediction": 2 * x1, "y": y})


@pytest.fixture(scope="module")
def model() -> dict[str, object]:
    return fit_loss_model(
        regression(20_000, 1, 0.0), label="y", prediction="prediction", features=["x1", "x2"]
    )


def test_exported_trees_predict_as_scikit_learn_does() -> None:
    table = regression(3000, 2, 0.0)
    x = loss_inputs(table, ["x1", "x2"])
    target = np.abs(table.column("y").to_numpy() - table.column("prediction").to_numpy())
    with threadpool_limits(1, user_api="openmp"):
        fitted = ensemble.HistGradientBoostingRegressor(max_iter=20, random_state=0).fit(x, target)
    from mltrail.services.monitoring.loss_model import _export

    assert predict_trees(_export(fitted), x) == pytest.approx(fitted.predict(x), abs=1e-9)


# Shifts within the reference's range: trees hold their edge value beyond it, so an input far outside what
# the reference covered (x2 ≈ −3 when it saw −2 at most) is underestimated, as NannyML's DLE is.
@pytest.mark.parametrize("shift", [0.0, 1.0, -1.0])
def test_estimated_mae_and_rmse_follow_the_truth(model: dict[str, object], shift: float) -> None:
    table = regression(10_000, 10 + int(shift * 10) % 7, shift)
    error = table.column("y").to_numpy() - table.column("prediction").to_numpy()
    got = estimate_losses(loss_sums(model, loss_inputs(table, model["inputs"])), model)  # type: ignore[arg-type]
    true_mae, true_rmse = float(np.abs(error).mean()), float(np.sqrt((error**2).mean()))
    # within 5 % of the truth (MAE moves from 0.78 to 1.07, RMSE from 1.13 to 1.55 across these shifts)
    assert got["mae"]["value"] == pytest.approx(true_mae, rel=0.05)
    assert got["rmse"]["value"] == pytest.approx(true_rmse, rel=0.05)
    assert got["mae"]["lower"] < got["mae"]["value"] < got["mae"]["upper"]


def test_sums_merge_and_documents_are_checked(model: dict[str, object]) -> None:
    a = loss_sums(model, loss_inputs(regression(500, 3, 0.0), model["inputs"]))  # type: ignore[arg-type]
    b = loss_sums(model, loss_inputs(regression(700, 4, 1.0), model["inputs"]))  # type: ignore[arg-type]
    merged = merge_loss_sums(a, b)
    assert merged["n"] == 1200 and merged["abs"] == pytest.approx(a["abs"] + b["abs"])
    doc = json.loads(json.dumps(model))
    assert validate_loss_model(doc, ["x1", "x2", "prediction"]) == doc
    with pytest.raises(ValueError, match="not watched"):
        validate_loss_model(doc, ["x1", "prediction"])
    looped = json.loads(json.dumps(model))
    looped["abs_model"]["trees"][0]["left"][0] = 0  # a node that is its own child would never end
    with pytest.raises(ValueError, match="follow their parent"):
        validate_loss_model(looped, ["x1", "x2", "prediction"])


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["abs_model"]["trees"][0]["feature"].__setitem__(0, "x1"),
        lambda d: d["abs_model"]["trees"][0]["value"].__setitem__(0, None),
        lambda d: d["abs_model"]["trees"][0]["leaf"].__setitem__(0, 1),
        lambda d: d["sq_model"].__setitem__("baseline", "0"),
        lambda d: d["sd"].__setitem__("abs", -1.0),
        lambda d: d.__setitem__("inputs", []),
        lambda d: d["abs_model"]["trees"].__setitem__(0, [1, 2]),
    ],
)
def test_malformed_loss_models_are_value_errors(model: dict[str, object], change: object) -> None:
    doc = json.loads(json.dumps(model))
    change(doc)  # type: ignore[operator]
    with pytest.raises(ValueError):
        validate_loss_model(doc, ["x1", "x2", "prediction"])
