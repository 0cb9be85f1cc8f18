"""scikit-learn through skops (no pickle) by default, pickle only when asked and trusted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mltrail.errors import IntegrityError, InvalidInputError, UntrustedModelError
from mltrail.sdk.flavors import load_model, save_model

pytest.importorskip("skops")
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

TREE = "sklearn.tree._tree.Tree"


class Doubler(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """A custom estimator: skops cannot know whether its class is safe to build."""

    def fit(self, x: Any, y: Any) -> Doubler:
        self.offset_ = float(np.mean(y))
        return self

    def predict(self, x: Any) -> Any:
        return np.asarray(x).sum(axis=1) * 2 + self.offset_


def _pipeline(breast_cancer: tuple[Any, Any]) -> Any:
    x, y = breast_cancer
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)


def test_skops_round_trip_with_signature(tmp_path: Path, breast_cancer: tuple[Any, Any]) -> None:
    x, _ = breast_cancer
    clf = _pipeline(breast_cancer)
    meta = save_model(clf, tmp_path / "m", input_example=x.head(20))
    assert (meta.flavor, meta.format, meta.executes_code) == ("sklearn", "skops", False)
    assert [f.path for f in meta.files] == ["model.skops", "input_example.parquet"]
    assert meta.info["untrusted_types"] == []
    assert {"scikit-learn", "skops", "numpy", "mltrail"} <= set(meta.libraries)
    assert meta.signature is not None and meta.signature.outputs is not None
    assert meta.signature.outputs.fields[0].kind == "int"
    model = load_model(tmp_path / "m", check_signature=True)  # no trust needed
    assert type(model.raw) is type(clf)
    assert np.array_equal(model.predict(x), clf.predict(x))
    assert np.array_equal(model.raw.predict_proba(x), clf.predict_proba(x))
    assert list(model.input_example.columns) == list(x.columns)
    with pytest.raises(InvalidInputError, match="missing column") as info:
        model.predict(x.drop(columns=["mean radius"]))
    assert info.value.field == "mean radius"
    with pytest.raises(InvalidInputError, match="'mean area': expected float") as info:
        model.predict(x.assign(**{"mean area": "big"}))
    assert info.value.field == "mean area"


def test_tree_models_need_trust_for_skops_flagged_types(tmp_path: Path, diabetes: tuple[Any, Any]) -> None:
    x, y = diabetes
    forest = RandomForestRegressor(n_estimators=4, max_depth=3, random_state=0).fit(x, y)
    meta = save_model(forest, tmp_path / "m")
    assert meta.info["untrusted_types"] == [TREE] and not meta.executes_code
    with pytest.raises(
        UntrustedModelError, match=r"does not trust by default: \['sklearn.tree._tree.Tree'\]"
    ):
        load_model(tmp_path / "m")
    by_type = load_model(tmp_path / "m", trusted_types=[TREE])
    assert np.array_equal(by_type.predict(x), forest.predict(x))
    assert np.array_equal(load_model(tmp_path / "m", trust=True).predict(x), forest.predict(x))


def test_custom_estimator_in_skops_requires_trust(tmp_path: Path, diabetes: tuple[Any, Any]) -> None:
    x, y = diabetes
    model = Doubler().fit(x, y)
    save_model(model, tmp_path / "m")
    with pytest.raises(UntrustedModelError) as info:
        load_model(tmp_path / "m")
    assert "Doubler" in str(info.value) and "trust=True" in str(info.value)
    loaded = load_model(tmp_path / "m", trust=True)
    assert type(loaded.raw).__name__ == "Doubler"
    assert np.array_equal(loaded.predict(x), model.predict(x))


def test_pickle_format_is_marked_and_needs_trust(tmp_path: Path, breast_cancer: tuple[Any, Any]) -> None:
    x, _ = breast_cancer
    clf = _pipeline(breast_cancer)
    meta = save_model(clf, tmp_path / "m", format="pickle")
    assert (meta.format, meta.executes_code, meta.files[0].path) == ("pickle", True, "model.pkl")
    with pytest.raises(UntrustedModelError, match="pickle"):
        load_model(tmp_path / "m")
    assert np.array_equal(load_model(tmp_path / "m", trust=True).predict(x), clf.predict(x))


def test_tampered_skops_file_is_refused(tmp_path: Path, breast_cancer: tuple[Any, Any]) -> None:
    save_model(_pipeline(breast_cancer), tmp_path / "m")
    path = tmp_path / "m" / "model.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"model\.skops"):
        load_model(tmp_path / "m", trust=True)


def test_auto_detection_and_explicit_choices(tmp_path: Path, breast_cancer: tuple[Any, Any]) -> None:
    clf = _pipeline(breast_cancer)
    assert save_model(clf, tmp_path / "a").flavor == "sklearn"
    assert save_model(clf, tmp_path / "b", flavor="python").flavor == "python"  # has predict
    with pytest.raises(InvalidInputError, match="no format 'onnx'") as info:
        save_model(clf, tmp_path / "c", format="onnx")
    assert info.value.field == "format"
    with pytest.raises(InvalidInputError, match="unknown flavor") as info:
        save_model(clf, tmp_path / "c", flavor="keras")
    assert info.value.field == "flavor"
    with pytest.raises(InvalidInputError, match="cannot save") as info:
        save_model(clf, tmp_path / "c", flavor="xgboost")
    assert info.value.field == "model"
