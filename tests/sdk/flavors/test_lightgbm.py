"""LightGBM in its native text format; scikit-learn-API estimators come back as the same wrapper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mltrail.errors import InvalidInputError
from mltrail.sdk.flavors import load_model, save_model

lgb = pytest.importorskip("lightgbm")


def test_classifier_with_string_labels_round_trip(tmp_path: Path, iris: tuple[Any, Any]) -> None:
    x, y = iris
    labels = y.map({0: "setosa", 1: "versicolor", 2: "virginica"})
    clf = lgb.LGBMClassifier(n_estimators=10, verbose=-1, random_state=0).fit(x, labels)
    meta = save_model(clf, tmp_path / "m", input_example=x.head(10))
    assert (meta.flavor, meta.format, meta.executes_code) == ("lightgbm", "txt", False)
    assert meta.info["wrapper"] == "LGBMClassifier"
    assert meta.info["classes"] == ["setosa", "versicolor", "virginica"]
    assert meta.signature is not None and meta.signature.outputs is not None
    assert meta.signature.outputs.fields[0].kind == "str"
    model = load_model(tmp_path / "m", check_signature=True)
    assert type(model.raw) is lgb.LGBMClassifier
    assert np.array_equal(model.predict(x), clf.predict(x))
    assert np.array_equal(model.raw.predict_proba(x), clf.predict_proba(x))
    assert model.raw.get_params() == clf.get_params()
    assert list(model.raw.classes_) == list(clf.classes_)
    with pytest.raises(InvalidInputError) as info:
        model.predict(x[["sepal length (cm)", "sepal width (cm)"]])
    assert info.value.field == "petal length (cm)"


def test_regressor_and_booster_round_trip(tmp_path: Path, diabetes: tuple[Any, Any]) -> None:
    x, y = diabetes
    reg = lgb.LGBMRegressor(n_estimators=10, verbose=-1, random_state=0).fit(x, y)
    save_model(reg, tmp_path / "reg")
    loaded = load_model(tmp_path / "reg")
    assert type(loaded.raw) is lgb.LGBMRegressor
    assert np.array_equal(loaded.predict(x), reg.predict(x))
    booster = lgb.train({"verbose": -1, "num_leaves": 7}, lgb.Dataset(x, label=y), num_boost_round=5)
    meta = save_model(booster, tmp_path / "booster")
    assert meta.info["wrapper"] is None
    raw = load_model(tmp_path / "booster")
    assert isinstance(raw.raw, lgb.Booster)
    assert np.array_equal(raw.predict(x), booster.predict(x))


def test_custom_objective_cannot_be_stored_natively(tmp_path: Path, diabetes: tuple[Any, Any]) -> None:
    x, y = diabetes

    def squared(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        return y_pred - y_true, np.ones_like(y_pred)

    reg = lgb.LGBMRegressor(n_estimators=2, verbose=-1, objective=squared).fit(x, y)
    with pytest.raises(InvalidInputError, match="flavor='python'") as info:
        save_model(reg, tmp_path / "m")
    assert info.value.field == "model"
    assert not (tmp_path / "m").exists()  # nothing half-written is left behind
    assert [p.name for p in tmp_path.iterdir()] == []
