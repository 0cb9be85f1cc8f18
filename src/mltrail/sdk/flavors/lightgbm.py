"""LightGBM boosters and scikit-learn-API estimators, in LightGBM's own text model format.

A scikit-learn-API estimator is saved as its booster's text plus, in the metadata, what the wrapper adds:
its class (one of LightGBM's, from a fixed list), its parameters, its classes and objective. Loading
rebuilds the wrapper around the booster the way ``fit`` leaves it. Nothing executes code on load.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import orjson

from mltrail.errors import InvalidInputError
from mltrail.sdk.flavors.base import Flavor, Saved, Trust, imported, library_version, one_file
from mltrail.sdk.flavors.meta import ModelMeta

__all__ = ["LightGBMFlavor"]

WRAPPERS = ("LGBMClassifier", "LGBMRegressor", "LGBMRanker")
_FILE = "model.txt"


class LightGBMFlavor(Flavor):
    name: ClassVar[str] = "lightgbm"
    formats: ClassVar[tuple[str, ...]] = ("txt",)

    def matches(self, model: object) -> bool:
        lgb = imported("lightgbm")
        return lgb is not None and isinstance(model, lgb.Booster | lgb.LGBMModel)

    def save(self, model: Any, folder: Path, fmt: str) -> Saved:
        lgb = _lightgbm()
        info: dict[str, Any] = {"file": _FILE, "wrapper": None}
        booster = model
        if not isinstance(model, lgb.Booster):
            info.update(_wrapper_info(model))
            booster = model.booster_
        (folder / _FILE).write_text(booster.model_to_string(), encoding="utf-8")
        return Saved((_FILE,), info, {"lightgbm": library_version("lightgbm")})

    def load(self, files: Mapping[str, bytes], meta: ModelMeta, trust: Trust) -> Any:
        lgb = _lightgbm()
        booster = lgb.Booster(model_str=one_file(files, meta).decode("utf-8"))
        wrapper = meta.info.get("wrapper")
        if wrapper is None:
            return booster
        if wrapper not in WRAPPERS:
            raise InvalidInputError(f"unknown LightGBM estimator class {wrapper!r}", field="wrapper")
        return _rebuild(lgb, wrapper, booster, meta.info)


def _wrapper_info(model: Any) -> dict[str, Any]:
    wrapper = next((c.__name__ for c in type(model).__mro__ if c.__name__ in WRAPPERS), None)
    if wrapper is None:
        raise InvalidInputError(
            f"{type(model).__name__} is not one of LightGBM's estimators {list(WRAPPERS)}; save its booster "
            "(model.booster_) or use flavor='python'",
            field="model",
        )
    if not getattr(model, "fitted_", False):
        raise InvalidInputError("the LightGBM estimator is not fitted", field="model")
    params = model.get_params()
    objective = getattr(model, "_objective", None)
    try:
        orjson.dumps([params, objective])
    except TypeError as exc:
        raise InvalidInputError(
            f"the estimator's parameters cannot be stored as JSON ({exc}), e.g. a custom objective "
            "function; save its booster (model.booster_) or use flavor='python'",
            field="model",
        ) from exc
    info: dict[str, Any] = {
        "wrapper": wrapper,
        "params": params,
        "objective": objective,
        "fitted_with_feature_names": bool(getattr(model, "_fitted_with_feature_names", False)),
    }
    if hasattr(model, "classes_"):
        info["classes"] = np.asarray(model.classes_).tolist()
    return info


def _rebuild(lgb: Any, wrapper: str, booster: Any, info: Mapping[str, Any]) -> Any:
    """The estimator as ``fit`` leaves it (lightgbm/sklearn.py), around ``booster``."""
    params = info.get("params", {})
    if not isinstance(params, dict):
        raise InvalidInputError("malformed LightGBM estimator parameters", field="params")
    model = getattr(lgb, wrapper)(**params)
    model._Booster = booster
    model._n_features = booster.num_feature()
    model._n_features_in = booster.num_feature()
    model._objective = info.get("objective")
    model._best_iteration = booster.best_iteration
    model._best_score = booster.best_score
    model._evals_result = {}
    model._fitted_with_feature_names = bool(info.get("fitted_with_feature_names", False))
    if "classes" in info:
        model._le = lgb.sklearn._LGBMLabelEncoder().fit(np.asarray(info["classes"]))
        model._classes = model._le.classes_
        model._n_classes = len(model._classes)
        model._class_map = dict(zip(model._le.classes_, model._le.transform(model._le.classes_), strict=True))
    model.fitted_ = True
    return model


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError as exc:
        raise InvalidInputError("this model needs lightgbm: pip install lightgbm", field="flavor") from exc
    return lightgbm
