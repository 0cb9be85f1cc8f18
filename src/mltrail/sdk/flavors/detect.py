"""The known flavors, and which one a model object belongs to."""

from __future__ import annotations

from mltrail.errors import InvalidInputError
from mltrail.sdk.flavors.base import Flavor
from mltrail.sdk.flavors.lightgbm import LightGBMFlavor
from mltrail.sdk.flavors.onnx import OnnxFlavor
from mltrail.sdk.flavors.python import PythonFlavor
from mltrail.sdk.flavors.sklearn import SklearnFlavor
from mltrail.sdk.flavors.xgboost import XGBoostFlavor

__all__ = ["FLAVORS", "flavor_named", "pick_flavor"]

# Detection order matters: XGBoost's and LightGBM's estimators are also scikit-learn estimators, and
# nearly everything has a ``predict``; the python flavor comes last.
FLAVORS: dict[str, Flavor] = {
    flavor.name: flavor
    for flavor in (XGBoostFlavor(), LightGBMFlavor(), OnnxFlavor(), SklearnFlavor(), PythonFlavor())
}


def flavor_named(name: str, field: str = "flavor") -> Flavor:
    try:
        return FLAVORS[name]
    except KeyError:
        raise InvalidInputError(
            f"unknown flavor {name!r}; known flavors: {sorted(FLAVORS)}", field=field
        ) from None


def pick_flavor(model: object, name: str | None) -> Flavor:
    """The flavor named ``name``, if it can save ``model``; else the first flavor that recognises it."""
    if name is not None:
        flavor = flavor_named(name)
        if not flavor.accepts(model):
            raise InvalidInputError(
                f"the {name} flavor cannot save a {type(model).__module__}.{type(model).__qualname__}",
                field="model",
            )
        return flavor
    for flavor in FLAVORS.values():
        if flavor.matches(model):
            return flavor
    raise InvalidInputError(
        f"no flavor can save a {type(model).__module__}.{type(model).__qualname__}: expected a "
        "scikit-learn estimator, an XGBoost or LightGBM model, an onnx.ModelProto, or an object with a "
        "predict method",
        field="model",
    )
