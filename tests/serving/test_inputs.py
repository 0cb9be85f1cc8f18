"""``serving.inputs``: a float array for a scikit-learn model only when it answers as the DataFrame does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mltrail.sdk.flavors import LoadedModel, load_model, save_model
from mltrail.serving.inputs import array_estimator, to_array, to_frame

linear = pytest.importorskip("sklearn.linear_model")
pipeline = pytest.importorskip("sklearn.pipeline")
preprocessing = pytest.importorskip("sklearn.preprocessing")
compose = pytest.importorskip("sklearn.compose")

COLUMNS = ("tenure", "spend")
KINDS = {"tenure": "float", "spend": "float"}


def data(seed: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"tenure": rng.normal(24, 12, 300), "spend": rng.gamma(2.0, 50.0, 300)})
    return x, (x["tenure"] < 20).astype(int)


def saved(model: Any, example: Any, tmp_path: Path) -> LoadedModel:
    save_model(model, tmp_path / "model", input_example=example, format="pickle")
    return load_model(tmp_path / "model", trust=True)


def test_an_estimator_fitted_on_the_columns_gets_arrays_with_the_same_answers(tmp_path: Path) -> None:
    x, y = data()
    loaded = saved(linear.LogisticRegression().fit(x, y), x.head(5), tmp_path)
    estimator = array_estimator(loaded, COLUMNS, KINDS)
    assert estimator is not None
    rows = x.head(50).to_dict("records")
    expected = loaded.predict(to_frame(rows, COLUMNS))
    assert np.array_equal(estimator.predict(to_array(rows, COLUMNS)), expected)  # and no warning
    assert list(loaded.raw.feature_names_in_) == list(COLUMNS)  # the loaded model is left as it was


def test_a_pipeline_of_numeric_steps_gets_arrays_too(tmp_path: Path) -> None:
    x, y = data()
    model = pipeline.make_pipeline(preprocessing.StandardScaler(), linear.LogisticRegression()).fit(x, y)
    loaded = saved(model, x.head(5), tmp_path)
    estimator = array_estimator(loaded, COLUMNS, KINDS)
    assert estimator is not None
    rows = x.tail(40).to_dict("records")
    assert np.array_equal(estimator.predict(to_array(rows, COLUMNS)), loaded.predict(to_frame(rows, COLUMNS)))


def test_columns_chosen_by_name_keep_the_dataframe(tmp_path: Path) -> None:
    x, y = data()
    by_name = compose.ColumnTransformer([("scale", preprocessing.StandardScaler(), ["spend", "tenure"])])
    model = pipeline.make_pipeline(by_name, linear.LogisticRegression()).fit(x, y)
    assert array_estimator(saved(model, x.head(5), tmp_path), COLUMNS, KINDS) is None


def test_other_columns_kinds_or_an_unnamed_fit_keep_the_dataframe(tmp_path: Path) -> None:
    x, y = data()
    named = saved(linear.LogisticRegression().fit(x, y), x.head(5), tmp_path / "a")
    assert array_estimator(named, ("spend", "tenure"), KINDS) is None  # another order than the fit's
    assert array_estimator(named, COLUMNS, {"tenure": "float", "spend": "str"}) is None
    unnamed = saved(linear.LogisticRegression().fit(x.to_numpy(), y), x.head(5).to_numpy(), tmp_path / "b")
    assert array_estimator(unnamed, COLUMNS, KINDS) is None
