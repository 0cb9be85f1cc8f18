"""XGBoost in its native formats: boosters and scikit-learn-API estimators, no pickle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mltrail.errors import IntegrityError, InvalidInputError
from mltrail.sdk.flavors import META_FILE, load_model, save_model

xgb = pytest.importorskip("xgboost")


@pytest.mark.parametrize("fmt", ["ubj", "json"])
def test_classifier_round_trip_keeps_its_wrapper(tmp_path: Path, iris: tuple[Any, Any], fmt: str) -> None:
    x, y = iris
    clf = xgb.XGBClassifier(n_estimators=8, max_depth=3, random_state=0).fit(x, y)
    meta = save_model(clf, tmp_path / "m", input_example=x.head(10), format=None if fmt == "ubj" else fmt)
    assert (meta.flavor, meta.format, meta.executes_code) == ("xgboost", fmt, False)
    assert meta.info["wrapper"] == "XGBClassifier" and "xgboost" in meta.libraries
    model = load_model(tmp_path / "m", check_signature=True)
    assert type(model.raw) is xgb.XGBClassifier
    assert np.array_equal(model.predict(x), clf.predict(x))
    assert np.array_equal(model.raw.predict_proba(x), clf.predict_proba(x))
    with pytest.raises(InvalidInputError) as info:
        model.predict(x.drop(columns=["petal width (cm)"]))
    assert info.value.field == "petal width (cm)"
    with pytest.raises(InvalidInputError, match=r"expected float.*got str") as info:
        model.predict(x.assign(**{"sepal length (cm)": "long"}))
    assert info.value.field == "sepal length (cm)"


def test_booster_round_trip(tmp_path: Path, diabetes: tuple[Any, Any]) -> None:
    x, y = diabetes
    booster = xgb.train({"max_depth": 3, "eta": 0.3}, xgb.DMatrix(x, label=y), num_boost_round=10)
    meta = save_model(booster, tmp_path / "m", input_example=x[:5])
    assert meta.info["wrapper"] is None
    assert meta.signature is not None and meta.signature.outputs is not None
    model = load_model(tmp_path / "m", check_signature=True)
    assert isinstance(model.raw, xgb.Booster)
    assert np.array_equal(model.predict(x), booster.predict(xgb.DMatrix(x)))
    with pytest.raises(InvalidInputError, match=r"expected shape \(n, 10\)"):
        model.predict(x[:, :9])


def test_wrapper_name_in_metadata_is_not_imported_blindly(tmp_path: Path, diabetes: tuple[Any, Any]) -> None:
    x, y = diabetes
    save_model(xgb.XGBRegressor(n_estimators=2).fit(x, y), tmp_path / "m")
    meta = json.loads((tmp_path / "m" / META_FILE).read_text())
    meta["info"]["wrapper"] = "core.Booster"  # any name outside XGBoost's fixed list
    (tmp_path / "m" / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(InvalidInputError, match="unknown XGBoost estimator class"):
        load_model(tmp_path / "m")


def test_tampered_model_file(tmp_path: Path, diabetes: tuple[Any, Any]) -> None:
    x, y = diabetes
    save_model(xgb.XGBRegressor(n_estimators=2).fit(x, y), tmp_path / "m", format="json")
    path = tmp_path / "m" / "model.json"
    path.write_text(path.read_text().replace('"base_score"', '"base_scorf"'))
    with pytest.raises(IntegrityError, match=r"model\.json"):
        load_model(tmp_path / "m")
