"""The wrapper around a scikit-learn-API ``fit``: parameters, training time, metrics, the fitted model.

Shared by scikit-learn's estimators and XGBoost's and LightGBM's scikit-learn wrappers. Evaluation sets
come from the ``eval_set=`` (or ``eval_X=``/``eval_y=``) arguments of estimators that take them (XGBoost,
LightGBM) and, for any
estimator, from ``mltrail.sklearn.eval_set(X, y)`` around the call.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from mltrail.sdk.autolog.estimator_metrics import estimator_metrics
from mltrail.sdk.autolog.session import (
    AutologOptions,
    Session,
    flat_params,
    inside_training,
    log_model,
    safely,
    training_session,
)

__all__ = ["EstimatorHooks", "eval_set", "fit_wrapper", "input_example"]

_EXAMPLE_ROWS = 5

# (name, X, y) of the evaluation sets given by ``eval_set(...)`` around a fit.
_eval_sets: contextvars.ContextVar[tuple[tuple[str, Any, Any], ...]] = contextvars.ContextVar(
    "mltrail_autolog_eval_sets", default=()
)


@contextmanager
def eval_set(x: Any, y: Any, name: str = "val") -> Iterator[None]:
    """Metrics on ``(x, y)`` as ``{name}/…`` for every estimator fitted inside the block::

    with mltrail.sklearn.eval_set(X_val, y_val):
        clf.fit(X_train, y_train)
    """
    token = _eval_sets.set((*_eval_sets.get(), (name, x, y)))
    try:
        yield
    finally:
        _eval_sets.reset(token)


class EstimatorHooks:
    """What an integration adds after an estimator's fit (a search's child runs, a booster's importance)."""

    def after_fit(self, session: Session, estimator: Any) -> None:
        """Called once the fit returned, before the model is logged."""

    def model_to_log(self, estimator: Any) -> Any:
        """The object saved as the run's model (None: none)."""
        return estimator


def fit_wrapper(
    integration: str,
    options: Callable[[], AutologOptions | None],
    hooks: EstimatorHooks,
    original: Callable[..., Any],
) -> Callable[..., Any]:
    """A ``fit`` that logs the outermost call: a fit inside another autologged call only trains."""

    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        chosen = options()
        if chosen is None or inside_training():
            return original(self, *args, **kwargs)
        with training_session(integration, chosen, _params(self)) as session:
            if session is None:
                return original(self, *args, **kwargs)
            started = time.perf_counter()
            result = original(self, *args, **kwargs)
            elapsed = time.perf_counter() - started
            _after_fit(session, hooks, self, args, kwargs, elapsed)
            return result

    return fit


def _params(estimator: Any) -> dict[str, Any]:
    try:
        return flat_params(estimator.get_params(deep=True))
    except Exception:  # noqa: BLE001 - a third-party get_params must not stop the training
        return {}


def _after_fit(
    session: Session,
    hooks: EstimatorHooks,
    estimator: Any,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    elapsed: float,
) -> None:
    run = session.run
    x = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    safely("the training time", run.summary.update, {"fit_time_s": elapsed})
    given = _given_eval_sets(kwargs)
    named = [(f"eval_{i}" if len(given) > 1 else "eval", ex, ey) for i, (ex, ey) in enumerate(given)]
    values: dict[str, float] = {}
    for name, ex, ey in [("train", x, y), *named, *_eval_sets.get()]:
        safely(f"the {name} metrics", _add_metrics, values, estimator, ex, ey, name)
    if values:  # one step for all of them: they describe the same fitted model
        safely("the metrics", run.log, values)
    safely("what follows the fit", hooks.after_fit, session, estimator)
    model = hooks.model_to_log(estimator)
    if session.options.log_models and model is not None:
        example = input_example(x) if session.options.log_input_example else None
        safely("the model", log_model, run, model, input_example=example)


def _given_eval_sets(kwargs: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    """``eval_set=[(X, y), …]`` (XGBoost, LightGBM < 4.7) or ``eval_X=``/``eval_y=`` (LightGBM ≥ 4.7: one
    set, or tuples of them)."""
    pairs = [(pair[0], pair[1]) for pair in kwargs.get("eval_set") or []]
    x, y = kwargs.get("eval_X"), kwargs.get("eval_y")
    if x is not None and y is not None:
        pairs += list(zip(x, y, strict=True)) if isinstance(x, tuple) else [(x, y)]
    return pairs


def _add_metrics(values: dict[str, float], estimator: Any, x: Any, y: Any, prefix: str) -> None:
    values.update(estimator_metrics(estimator, x, y, prefix))


def input_example(x: Any) -> Any:
    """The first rows of ``x`` (array, DataFrame, sparse matrix or list), or None."""
    if x is None:
        return None
    head = getattr(x, "iloc", x)
    try:
        return head[:_EXAMPLE_ROWS]
    except (TypeError, KeyError, IndexError):
        return None
