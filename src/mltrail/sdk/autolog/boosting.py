"""What XGBoost's and LightGBM's integrations share: the ``train`` wrapper and a booster's results."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

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

__all__ = ["log_booster_results", "train_wrapper"]


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
