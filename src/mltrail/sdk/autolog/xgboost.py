"""XGBoost autologging: ``xgboost.train`` and the scikit-learn API estimators, and ``MltrailCallback``.

Per-iteration evaluation metrics come through XGBoost's callback API as ``{data}/{metric}`` (step = the
boosting round); the booster's feature importance (weight and gain) goes to ``feature_importance.json``,
its best iteration and score (with early stopping) to the summary, and the model is saved with the
xgboost flavor. ``XGBClassifier.fit`` and friends also log like any scikit-learn estimator (parameters,
training time, metrics on the training data and on ``eval_set``).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Unpack

import xgboost

from mltrail.sdk.autolog.boosting import log_booster_results, patch_boosting
from mltrail.sdk.autolog.integration import AutologKwargs, Framework, Integration, options_of
from mltrail.sdk.autolog.patching import Patches
from mltrail.sdk.autolog.session import Session, safely
from mltrail.sdk.tracking.run import Run
from mltrail.sdk.tracking.start import active_run

__all__ = ["FRAMEWORK", "INTEGRATION", "MltrailCallback", "autolog"]

FRAMEWORK = Framework("xgboost", "xgboost", minimum=(2, 0), below=(4, 0))


class MltrailCallback(xgboost.callback.TrainingCallback):
    """Logs each round's evaluation results as ``{data}/{metric}`` at step = round, into ``run`` (default:
    the active run at each round)::

        xgboost.train(params, dtrain, evals=[(dval, "val")], callbacks=[MltrailCallback()])
    """

    def __init__(self, run: Run | None = None) -> None:
        super().__init__()
        self._run = run

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, dict[str, Any]]) -> bool:
        run = self._run or active_run()
        if run is None:
            return False
        values: dict[str, float] = {}
        for data, metrics in evals_log.items():
            for metric, history in metrics.items():
                last = history[-1]
                values[f"{data}/{metric}"] = float(last[0] if isinstance(last, tuple) else last)
        if values:
            safely("the round's metrics", run.log, values, step=epoch)
        return False


def _after_train(session: Session, booster: Any) -> None:
    importance = {kind: booster.get_score(importance_type=kind) for kind in ("weight", "gain")}
    best_iteration = booster.attr("best_iteration")
    best_score = booster.attr("best_score")
    log_booster_results(
        session,
        importance,
        {
            "best_iteration": int(best_iteration) if best_iteration is not None else None,
            "best_score": float(best_score) if best_score is not None else None,
            "num_boosted_rounds": booster.num_boosted_rounds(),
        },
    )


def _install(module: ModuleType, patches: Patches) -> None:
    import xgboost.sklearn
    import xgboost.training

    patch_boosting(
        patches,
        "xgboost",
        INTEGRATION.options,
        train_owners=(module, xgboost.training, xgboost.sklearn),
        estimators=xgboost.sklearn,
        estimator_base=xgboost.sklearn.XGBModel,
        make_callback=MltrailCallback,
        after=_after_train,
    )


INTEGRATION = Integration(FRAMEWORK, _install)


def autolog(*, disable: bool = False, **options: Unpack[AutologKwargs]) -> bool:
    """Log every ``xgboost.train`` and scikit-learn-API fit; ``disable=True`` puts them back."""
    if disable:
        INTEGRATION.disable()
        return False
    return INTEGRATION.enable(options_of(options))
