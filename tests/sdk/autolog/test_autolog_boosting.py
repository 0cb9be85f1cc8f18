"""XGBoost and LightGBM autologging with the real libraries: per-iteration metrics through their callback
APIs, feature importance, best iteration and the model, checked by what lands in the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mltrail
from mltrail.sdk.flavors import load_model

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")
sk_datasets = pytest.importorskip("sklearn.datasets")


@pytest.fixture
def cancer() -> tuple[Any, Any, Any, Any]:
    x, y = sk_datasets.load_breast_cancer(return_X_y=True)
    x = x[:, :8]
    return x[:400], y[:400], x[400:], y[400:]


def _history_steps(run: Any, key: str) -> list[int]:
    return list(run.history(key).steps)


def test_xgboost_train_logs_each_round_importance_best_iteration_and_the_booster(
    cancer: Any, stored: Any, tmp_path: Path
) -> None:
    x, y, xv, yv = cancer
    assert mltrail.xgboost.autolog() is True
    dtrain, dval = xgb.DMatrix(x, label=y), xgb.DMatrix(xv, label=yv)
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "eval_metric": ["logloss", "error"]}
    booster = xgb.train(
        params,
        dtrain,
        40,
        evals=[(dtrain, "train"), (dval, "val")],
        early_stopping_rounds=5,
        verbose_eval=False,
    )

    run = stored.only_run()
    assert run.tags["mltrail.autolog"] == "xgboost" and run.status == "finished"
    assert run.params["max_depth"] == 3 and run.params["eval_metric"] == ["logloss", "error"]
    rounds = booster.num_boosted_rounds()
    assert _history_steps(run, "val/logloss") == list(range(rounds))
    assert {"train/logloss", "train/error", "val/error"} <= set(run.metrics)
    assert run.metrics["val/logloss"] == pytest.approx(
        float(booster.eval(dval).split("logloss:")[1].split()[0])
    )
    assert run.summary["best_iteration"] == booster.best_iteration
    assert run.summary["num_boosted_rounds"] == rounds
    importance = json.loads(run.artifact("feature_importance.json"))
    assert importance["gain"] == pytest.approx(booster.get_score(importance_type="gain"))
    assert stored.model_meta(run)["flavor"] == "xgboost"
    loaded = load_model(run.download("model", to=tmp_path))
    assert np.allclose(loaded.predict(xgb.DMatrix(xv)), booster.predict(dval))


def test_xgb_classifier_fit_is_one_run_with_estimator_params_eval_set_and_the_estimator(
    cancer: Any, stored: Any
) -> None:
    x, y, xv, yv = cancer
    mltrail.autolog()  # the sklearn integration too: XGBoost's wrapper must still make one run
    clf = xgb.XGBClassifier(n_estimators=15, max_depth=2, learning_rate=0.3, eval_metric="logloss")
    clf.fit(x, y, eval_set=[(xv, yv)], verbose=False)

    run = stored.only_run()
    assert run.tags["mltrail.autolog"] == "xgboost"
    assert run.params["n_estimators"] == 15 and run.params["max_depth"] == 2
    assert _history_steps(run, "validation_0/logloss") == list(range(15))  # per round, from the callback
    assert {"train/accuracy", "train/roc_auc", "eval/accuracy", "eval/log_loss"} <= set(run.metrics)
    assert run.metrics["eval/accuracy"] == pytest.approx(float((clf.predict(xv) == yv).mean()))
    assert "gain" in json.loads(run.artifact("feature_importance.json"))
    meta = stored.model_meta(run)
    assert meta["flavor"] == "xgboost" and meta["model_class"].endswith("XGBClassifier")
    assert meta["signature"] is not None


def test_xgboost_callback_logs_into_the_active_run_without_autolog(cancer: Any, stored: Any) -> None:
    x, y, _, _ = cancer
    dtrain = xgb.DMatrix(x, label=y)
    with mltrail.init(name="manual"):
        xgb.train(
            {"objective": "binary:logistic"},
            dtrain,
            5,
            evals=[(dtrain, "train")],
            callbacks=[mltrail.xgboost.MltrailCallback()],
            verbose_eval=False,
        )
    run = stored.only_run()
    assert _history_steps(run, "train/logloss") == [0, 1, 2, 3, 4]
    assert not run.artifacts()  # the callback alone logs metrics only


def test_lightgbm_train_logs_each_iteration_importance_best_iteration_and_the_booster(
    cancer: Any, stored: Any, tmp_path: Path
) -> None:
    x, y, xv, yv = cancer
    assert mltrail.lightgbm.autolog() is True
    train = lgb.Dataset(x, label=y, feature_name=[f"f{i}" for i in range(8)])
    val = lgb.Dataset(xv, label=yv, reference=train)
    params = {"objective": "binary", "num_leaves": 7, "learning_rate": 0.2, "verbose": -1, "seed": 0}
    booster = lgb.train(
        params,
        train,
        num_boost_round=60,
        valid_sets=[val],
        valid_names=["val"],
        callbacks=[lgb.early_stopping(5, verbose=False)],
    )

    run = stored.only_run()
    assert run.tags["mltrail.autolog"] == "lightgbm" and run.params["num_leaves"] == 7
    steps = _history_steps(run, "val/binary_logloss")
    assert steps == list(range(len(steps))) and len(steps) >= booster.best_iteration
    assert run.summary["best_iteration"] == booster.best_iteration
    importance = json.loads(run.artifact("feature_importance.json"))
    assert set(importance["split"]) == {f"f{i}" for i in range(8)}
    assert importance["gain"]["f0"] == pytest.approx(float(booster.feature_importance("gain")[0]))
    assert stored.model_meta(run)["flavor"] == "lightgbm"
    loaded = load_model(run.download("model", to=tmp_path))
    assert np.allclose(loaded.predict(xv), booster.predict(xv))


def test_lgbm_classifier_fit_is_one_run_with_eval_set_metrics_and_the_estimator(
    cancer: Any, stored: Any
) -> None:
    x, y, xv, yv = cancer
    mltrail.autolog()
    clf = lgb.LGBMClassifier(n_estimators=12, num_leaves=5, verbose=-1, random_state=0)
    clf.fit(x, y, eval_X=xv, eval_y=yv)  # LightGBM 4.7's spelling of eval_set

    run = stored.only_run()
    assert run.tags["mltrail.autolog"] == "lightgbm" and run.params["n_estimators"] == 12
    assert _history_steps(run, "valid_0/binary_logloss") == list(range(12))
    assert {"train/accuracy", "eval/accuracy", "eval/roc_auc"} <= set(run.metrics)
    meta = stored.model_meta(run)
    assert meta["flavor"] == "lightgbm" and meta["model_class"].endswith("LGBMClassifier")


def test_disable_puts_the_boosting_functions_back(cancer: Any, stored: Any) -> None:
    import lightgbm.sklearn
    import xgboost.sklearn

    originals = (
        xgb.train,
        xgboost.sklearn.train,
        lgb.train,
        lightgbm.sklearn.train,
        vars(xgb.XGBModel)["fit"],
    )
    mltrail.autolog()
    mltrail.autolog()
    assert xgb.train is not originals[0] and lgb.train is not originals[2]
    mltrail.autolog(disable=True)
    after = (xgb.train, xgboost.sklearn.train, lgb.train, lightgbm.sklearn.train, vars(xgb.XGBModel)["fit"])
    assert all(a is b for a, b in zip(after, originals, strict=True))
