"""What XGBoost's and LightGBM's integrations share: their patches (``train`` and the scikit-learn API
estimators' ``fit``), the ``train`` wrapper and a booster's results."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any

from mltrail.sdk.autolog.estimators import EstimatorHooks, fit_wrapper
from mltrail.sdk.autolog.patching import Patches
from mltrail.sdk.autolog.session import (
    AutologOptions,
    Session,
    current_session,
    flat_params,
    log_model,
    safely,
    training_session,
)
from mltrail.sdk.tracking.run import Run

__all__ = ["log_booster_results", "patch_boosting", "train_wrapper"]


def patch_boosting(
    patches: Patches,
    integration: str,
    options: Callable[[], AutologOptions | None],
    *,
    train_owners: Iterable[ModuleType],
    estimators: ModuleType,
    estimator_base: type,
    make_callback: Callable[[Run], Any],
    after: Callable[[Session, Any], None],
) -> None:
    """Patch ``train`` in each of ``train_owners`` and ``fit`` wherever a scikit-learn API estimator of
    ``estimators`` (a subclass of ``estimator_base``) defines it in the framework's own classes."""

    def wrap_train(original: Callable[..., Any]) -> Callable[..., Any]:
        return train_wrapper(integration, options, make_callback, after, original)

    def wrap_fit(original: Callable[..., Any]) -> Callable[..., Any]:
        return fit_wrapper(integration, options, EstimatorHooks(), original)

    for owner in train_owners:
        patches.apply(owner, "train", wrap_train)
    for cls in vars(estimators).values():
        if isinstance(cls, type) and issubclass(cls, estimator_base):
            for base in cls.__mro__:
                if base.__module__.startswith(integration) and "fit" in vars(base):
                    patches.apply(base, "fit", wrap_fit)


def train_wrapper(
    integration: str,
    options: Callable[[], AutologOptions | None],
    make_callback: Callable[[Run], Any],
    after: Callable[[Session, Any], None],
    original: Callable[..., Any],
) -> Callable[..., Any]:
    """A ``train(params, data, …, callbacks=…)`` that adds ``make_callback(run)`` to the callbacks.

    Called on its own it logs the parameters and the booster as the model; called under an autologged
    estimator's ``fit`` it adds the per-iteration metrics and the booster's results to that run and
    leaves the parameters and the model (the estimator) to the fit."""

    def train(*args: Any, **kwargs: Any) -> Any:
        chosen = options()
        if chosen is None:
            return original(*args, **kwargs)
        params = args[0] if args else kwargs.get("params") or {}
        nested = current_session() is not None
        logged = {} if nested or not isinstance(params, Mapping) else flat_params(params)
        with training_session(integration, chosen, logged) as session:
            if session is None:
                return original(*args, **kwargs)
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), make_callback(session.run)]
            booster = original(*args, **kwargs)
            safely("the booster's results", after, session, booster)
            if not session.nested and session.options.log_models:
                safely("the model", log_model, session.run, booster)
            return booster

    return train


def log_booster_results(
    session: Session, importance: Mapping[str, Mapping[str, float]], best: Mapping[str, Any]
) -> None:
    """``feature_importance.json`` ({kind: {feature: value}}) and the best iteration in the summary."""
    run = session.run
    if any(importance.values()):
        text = json.dumps({kind: dict(values) for kind, values in importance.items()}, indent=1)
        run.log_text("feature_importance.json", text)
    clean = {k: v for k, v in best.items() if v is not None}
    if clean:
        run.summary.update(clean)
