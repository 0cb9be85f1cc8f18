"""LightGBM autologging: ``lightgbm.train`` and the scikit-learn API estimators, and ``MltrailCallback``.

Per-iteration evaluation metrics come through LightGBM's callback API as ``{data}/{metric}`` (step = the
iteration); the booster's feature importance (split and gain) goes to ``feature_importance.json``, its
best iteration (with early stopping) to the summary, and the model is saved with the lightgbm flavor.
``LGBMClassifier.fit`` and friends also log like any scikit-learn estimator.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Unpack

from mltrail.sdk.autolog.boosting import log_booster_results, patch_boosting
from mltrail.sdk.autolog.integration import AutologKwargs, Framework, Integration, options_of
from mltrail.sdk.autolog.patching import Patches
from mltrail.sdk.autolog.session import Session, safely
from mltrail.sdk.tracking.run import Run
from mltrail.sdk.tracking.start import active_run

__all__ = ["FRAMEWORK", "INTEGRATION", "MltrailCallback", "autolog"]

FRAMEWORK = Framework("lightgbm", "lightgbm", minimum=(4, 0), below=(5, 0))


class MltrailCallback:
    """Logs each iteration's evaluation results as ``{data}/{metric}`` at step = iteration, into ``run``
    (default: the active run)::

        lightgbm.train(params, train, valid_sets=[val], callbacks=[MltrailCallback()])
    """

    order = 30  # after LightGBM's own recording (order 20), before early stopping (30, kept in order)
    before_iteration = False

    def __init__(self, run: Run | None = None) -> None:
        self._run = run

    def __call__(self, env: Any) -> None:
        run = self._run or active_run()
        if run is None or not env.evaluation_result_list:
            return
        values = {f"{item[0]}/{item[1]}": float(item[2]) for item in env.evaluation_result_list}
        safely("the iteration's metrics", run.log, values, step=int(env.iteration))


def _after_train(session: Session, booster: Any) -> None:
    names = booster.feature_name()
    importance = {
        kind: {
            n: float(v) for n, v in zip(names, booster.feature_importance(importance_type=kind), strict=True)
        }
        for kind in ("split", "gain")
    }
    best_iteration = int(getattr(booster, "best_iteration", 0) or 0)
    log_booster_results(
        session,
        importance,
        {
            "best_iteration": best_iteration if best_iteration > 0 else None,
            "num_boosted_rounds": booster.current_iteration(),
        },
    )


def _install(module: ModuleType, patches: Patches) -> None:
    import lightgbm.engine
    import lightgbm.sklearn

    patch_boosting(
        patches,
        "lightgbm",
        INTEGRATION.options,
        train_owners=(module, lightgbm.engine, lightgbm.sklearn),
        estimators=lightgbm.sklearn,
        estimator_base=lightgbm.sklearn.LGBMModel,
        make_callback=MltrailCallback,
        after=_after_train,
    )


INTEGRATION = Integration(FRAMEWORK, _install)


def autolog(*, disable: bool = False, **options: Unpack[AutologKwargs]) -> bool:
    """Log every ``lightgbm.train`` and scikit-learn-API fit; ``disable=True`` puts them back."""
    if disable:
        INTEGRATION.disable()
        return False
    return INTEGRATION.enable(options_of(options))
