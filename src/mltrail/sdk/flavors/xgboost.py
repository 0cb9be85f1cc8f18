"""XGBoost boosters and scikit-learn-API estimators, in XGBoost's own UBJSON (default) or JSON format.

``save_model`` on a scikit-learn-API estimator also stores its parameters and classes in the file, so the
estimator comes back as the same wrapper class (one of XGBoost's, chosen from a fixed list; the class
name in the metadata is never imported as such). Neither format executes code on load.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from mltrail.errors import InvalidInputError
from mltrail.sdk.flavors.base import Flavor, Saved, Trust, imported, library_version, one_file
from mltrail.sdk.flavors.meta import ModelMeta

__all__ = ["XGBoostFlavor"]

WRAPPERS = ("XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor")


class XGBoostFlavor(Flavor):
    name: ClassVar[str] = "xgboost"
    formats: ClassVar[tuple[str, ...]] = ("ubj", "json")

    def matches(self, model: object) -> bool:
        xgb = imported("xgboost")
        return xgb is not None and isinstance(model, xgb.Booster | xgb.XGBModel)

    def save(self, model: Any, folder: Path, fmt: str) -> Saved:
        file = f"model.{fmt}"
        wrapper = None
        if not isinstance(model, _xgboost().Booster):
            wrapper = next((c.__name__ for c in type(model).__mro__ if c.__name__ in WRAPPERS), None)
            if wrapper is None:
                raise InvalidInputError(
                    f"{type(model).__name__} is not one of XGBoost's estimators {list(WRAPPERS)}; save "
                    "its booster (model.get_booster()) or use flavor='python'",
                    field="model",
                )
        model.save_model(str(folder / file))
        return Saved((file,), {"file": file, "wrapper": wrapper}, {"xgboost": library_version("xgboost")})

    def load(self, files: Mapping[str, bytes], meta: ModelMeta, trust: Trust) -> Any:
        xgb = _xgboost()
        data = bytearray(one_file(files, meta))
        wrapper = meta.info.get("wrapper")
        if wrapper is None:
            booster = xgb.Booster()
            booster.load_model(data)
            return booster
        if wrapper not in WRAPPERS:
            raise InvalidInputError(f"unknown XGBoost estimator class {wrapper!r}", field="wrapper")
        model = getattr(xgb, wrapper)()
        model.load_model(data)
        return model

    def predict(self, model: Any, x: Any) -> Any:
        xgb = _xgboost()
        if isinstance(model, xgb.Booster):
            return model.predict(x if isinstance(x, xgb.DMatrix) else xgb.DMatrix(x))
        return model.predict(x)


def _xgboost() -> Any:
    try:
        import xgboost
    except ImportError as exc:
        raise InvalidInputError(
            "this model needs xgboost: pip install xgboost (or xgboost-cpu)", field="flavor"
        ) from exc
    return xgboost
