"""scikit-learn autologging: every estimator's ``fit``, ``fit_transform`` and ``fit_predict``.

The outermost fit logs the estimator's parameters (a pipeline's nested ones flattened with dots:
``clf.C``), ``fit_time_s`` in the summary, metrics on the training data and on evaluation sets, and the
fitted model with the scikit-learn flavor and its signature. ``GridSearchCV`` and
``RandomizedSearchCV`` (any ``BaseSearchCV``) also get one child run per candidate, tagged with the
parent's id, and the best estimator as the model.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import replace
from types import ModuleType
from typing import Any, Unpack

from mltrail.sdk.autolog.estimators import EstimatorHooks, eval_set, fit_wrapper
from mltrail.sdk.autolog.integration import AutologKwargs, Framework, Integration, options_of
from mltrail.sdk.autolog.patching import Patches
from mltrail.sdk.autolog.session import PARENT_TAG, Session, flat_params, safely, start_run

__all__ = ["FRAMEWORK", "INTEGRATION", "autolog", "eval_set"]

FRAMEWORK = Framework("scikit-learn", "sklearn", minimum=(1, 4), below=(2, 0))
_METHODS = ("fit", "fit_transform", "fit_predict")
CANDIDATE_TAG = "mltrail.candidate"


class _SklearnHooks(EstimatorHooks):
    def after_fit(self, session: Session, estimator: Any) -> None:
        from sklearn.model_selection._search import BaseSearchCV

        if isinstance(estimator, BaseSearchCV):
            _log_search(session, estimator)

    def model_to_log(self, estimator: Any) -> Any:
        from sklearn.model_selection._search import BaseSearchCV

        if isinstance(estimator, BaseSearchCV):
            return getattr(estimator, "best_estimator_", None)  # refit=False leaves no model to keep
        return estimator


_HOOKS = _SklearnHooks()


def _install(module: ModuleType, patches: Patches) -> None:
    from sklearn.model_selection._search import BaseSearchCV
    from sklearn.utils import all_estimators

    classes = [cls for _, cls in all_estimators()] + [BaseSearchCV]
    for cls in classes:
        for owner in cls.__mro__:  # the class that defines fit: GridSearchCV's is BaseSearchCV's
            if not owner.__module__.startswith("sklearn."):
                continue
            for name in _METHODS:
                if inspect.isfunction(vars(owner).get(name)):
                    patches.apply(owner, name, _wrap)


def _wrap(original: Any) -> Any:
    return fit_wrapper("sklearn", INTEGRATION.options, _HOOKS, original)


INTEGRATION = Integration(FRAMEWORK, _install)


def autolog(*, disable: bool = False, **options: Unpack[AutologKwargs]) -> bool:
    """Log every scikit-learn fit (see the module's docstring); ``disable=True`` puts ``fit`` back.

    Calling it again only changes the options. Returns whether autologging is on for scikit-learn (False
    for a version outside the supported range, with a warning).
    """
    if disable:
        INTEGRATION.disable()
        return False
    return INTEGRATION.enable(options_of(options))


def _log_search(session: Session, search: Any) -> None:
    """Best score and parameters on the parent; a child run per candidate, best first."""
    parent = session.run
    results = getattr(search, "cv_results_", None)
    if results is None:
        return
    best_params = getattr(search, "best_params_", None)
    if best_params is not None:
        parent.update_config(flat_params(best_params, prefix="best."))
    best_score = getattr(search, "best_score_", None)
    if best_score is not None and math.isfinite(float(best_score)):
        parent.summary.update({"best_cv_score": float(best_score)})
    count = len(results["params"])
    ranks = results.get(_rank_key(results))
    order = (
        sorted(range(count), key=lambda i: (int(ranks[i]), i)) if ranks is not None else list(range(count))
    )
    limit = session.options.max_tuning_runs
    for index in order[: limit if limit is not None else count]:
        safely(f"candidate {index}", _log_candidate, session, results, index)


def _rank_key(results: dict[str, Any]) -> str:
    return (
        "rank_test_score"
        if "rank_test_score" in results
        else next((k for k in results if k.startswith("rank_test_")), "rank_test_score")
    )


def _log_candidate(session: Session, results: dict[str, Any], index: int) -> None:
    parent = session.run
    metrics: dict[str, float] = {}
    for key, column in results.items():
        if key == "params" or key.startswith("param_"):
            continue
        try:
            value = float(column[index])
        except (TypeError, ValueError):
            continue
        metrics[key] = value
    child = start_run(
        replace(session.options, project=parent.project),
        integration="sklearn",
        name=f"{parent.name}-{index}",
        config=flat_params(results["params"][index]),
        tags={PARENT_TAG: parent.id, CANDIDATE_TAG: str(index)},
        capture=False,
    )
    with child:
        child.log(metrics, step=0)
