"""scikit-learn autologging with the real library, checked by what lands in the store."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mltrail
from mltrail.sdk.autolog import sklearn as sklearn_autolog
from mltrail.sdk.autolog.integration import Framework
from mltrail.sdk.autolog.patching import is_patched, original_of
from mltrail.sdk.flavors import load_model

sk_datasets = pytest.importorskip("sklearn.datasets")
sk_linear = pytest.importorskip("sklearn.linear_model")
sk_pipeline = pytest.importorskip("sklearn.pipeline")
sk_preprocessing = pytest.importorskip("sklearn.preprocessing")
sk_selection = pytest.importorskip("sklearn.model_selection")
sk_tree = pytest.importorskip("sklearn.tree")


@pytest.fixture
def iris() -> tuple[Any, Any]:
    x, y = sk_datasets.load_iris(return_X_y=True)
    return x, y


def _pipeline() -> Any:
    return sk_pipeline.Pipeline(
        [("scale", sk_preprocessing.StandardScaler()), ("clf", sk_linear.LogisticRegression(max_iter=300))]
    )


def test_a_pipeline_fit_logs_flattened_params_metrics_time_and_the_model(
    iris: Any, stored: Any, tmp_path: Path
) -> None:
    x, y = iris
    assert mltrail.sklearn.autolog() is True
    fitted = _pipeline().fit(x, y)

    run = stored.only_run()
    assert run.status == "finished"
    assert run.tags["mltrail.autolog"] == "sklearn"
    assert run.params["clf.C"] == 1.0 and run.params["clf.max_iter"] == 300
    assert run.params["scale.with_mean"] is True
    assert run.params["clf"] == "LogisticRegression"
    assert run.params["steps"] == "scale=StandardScaler, clf=LogisticRegression"
    assert 0.9 < run.metrics["train/accuracy"] <= 1.0
    assert {"train/f1", "train/precision", "train/recall", "train/log_loss", "train/roc_auc"} <= set(
        run.metrics
    )
    assert run.summary["fit_time_s"] > 0
    meta = stored.model_meta(run)
    assert meta["flavor"] == "sklearn" and meta["executes_code"] is False  # skops, not pickle
    (field,) = meta["signature"]["inputs"]["fields"]  # an array input: one tensor field
    assert field["dtype"] == "float64" and field["shape"][-1] == 4
    # The model that landed loads back (digests checked) and predicts as the one trained.
    loaded = load_model(run.download("model", to=tmp_path), check_signature=True)
    assert np.array_equal(loaded.predict(x[:20]), fitted.predict(x[:20]))


def test_a_regressor_gets_regression_metrics_and_eval_set_metrics(stored: Any) -> None:
    x, y = sk_datasets.load_diabetes(return_X_y=True)
    mltrail.sklearn.autolog(log_models=False)
    with mltrail.sklearn.eval_set(x[300:], y[300:]):
        sk_linear.Ridge(alpha=0.5).fit(x[:300], y[:300])

    run = stored.only_run()
    assert run.params["alpha"] == 0.5
    for prefix in ("train", "val"):
        assert {f"{prefix}/{m}" for m in ("mse", "rmse", "mae", "r2")} <= set(run.metrics)
    assert run.metrics["train/rmse"] == pytest.approx(run.metrics["train/mse"] ** 0.5)
    assert run.metrics["val/r2"] < run.metrics["train/r2"] + 0.2
    assert not run.artifacts("model")


def test_a_grid_search_is_a_parent_run_with_one_child_run_per_candidate(iris: Any, stored: Any) -> None:
    x, y = iris
    mltrail.autolog(group="search-1")
    search = sk_selection.GridSearchCV(
        sk_tree.DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3], "criterion": ["gini"]}, cv=3
    ).fit(x, y)

    runs = stored.runs()
    parents = [r for r in runs if "mltrail.parent" not in r.tags]
    children = [r for r in runs if "mltrail.parent" in r.tags]
    assert len(parents) == 1 and len(children) == 3  # the candidates' own fits made no runs
    parent = parents[0]
    assert parent.params["best.max_depth"] == search.best_params_["max_depth"]
    assert parent.summary["best_cv_score"] == pytest.approx(search.best_score_)
    assert parent.params["estimator"] == "DecisionTreeClassifier"
    assert stored.model_meta(parent)["model_class"].endswith("DecisionTreeClassifier")  # the best estimator
    assert {c.tags["mltrail.parent"] for c in children} == {parent.id}
    assert {c.params["max_depth"] for c in children} == {1, 2, 3}
    by_depth = {c.params["max_depth"]: c for c in children}
    for i, depth in enumerate(search.cv_results_["param_max_depth"]):
        child = by_depth[depth]
        assert child.metrics["mean_test_score"] == pytest.approx(search.cv_results_["mean_test_score"][i])
        assert child.metrics["rank_test_score"] == search.cv_results_["rank_test_score"][i]
        assert child.status == "finished"
    # The group is a tag every run of the job carries: one filter lists the whole search.
    assert len(stored.runs('tags.mltrail.group = "search-1"')) == 4


def test_max_tuning_runs_keeps_the_best_candidates(iris: Any, stored: Any) -> None:
    x, y = iris
    mltrail.sklearn.autolog(max_tuning_runs=1, log_models=False)
    search = sk_selection.RandomizedSearchCV(
        sk_linear.LogisticRegression(max_iter=300), {"C": [0.001, 0.01, 1.0]}, n_iter=3, cv=3, random_state=0
    ).fit(x, y)
    children = [r for r in stored.runs() if "mltrail.parent" in r.tags]
    assert [c.params["C"] for c in children] == [search.best_params_["C"]]


def test_an_active_run_receives_the_fit_and_stays_open(iris: Any, stored: Any) -> None:
    x, y = iris
    mltrail.autolog()
    with mltrail.init(name="mine", config={"lr": 0.1}) as run:
        sk_linear.LogisticRegression(max_iter=300).fit(x, y)
        assert mltrail.active_run() is run
        run.log({"after": 1.0})
    only = stored.only_run()
    assert only.name == "mine" and only.status == "finished"
    assert only.params["lr"] == 0.1 and only.params["max_iter"] == 300
    assert {"train/accuracy", "after"} <= set(only.metrics)
    assert stored.model_meta(only)["flavor"] == "sklearn"


def test_a_failing_fit_marks_its_run_failed_and_raises_unchanged(stored: Any) -> None:
    mltrail.sklearn.autolog()
    x = np.array([[0.0], [1.0], [np.nan]])
    with pytest.raises(ValueError, match="NaN"):
        sk_linear.LogisticRegression().fit(x, [0, 1, 0])
    run = stored.only_run()
    assert run.status == "failed" and "NaN" in (run.error or {}).get("message", "")


def test_a_logging_failure_never_reaches_the_training_code(
    iris: Any, stored: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    x, y = iris

    def broken(*args: Any) -> dict[str, float]:
        raise RuntimeError("metrics exploded")

    monkeypatch.setattr("mltrail.sdk.autolog.estimators.estimator_metrics", broken)
    mltrail.sklearn.autolog()
    with caplog.at_level(logging.WARNING, logger="mltrail"):
        model = sk_linear.LogisticRegression(max_iter=300).fit(x, y)
    assert model.predict(x[:3]).shape == (3,)
    assert "metrics exploded" in caplog.text
    run = stored.only_run()
    assert run.status == "finished" and "train/accuracy" not in run.metrics
    assert stored.model_meta(run)["flavor"] == "sklearn"  # the rest was still logged


def test_enabling_twice_wraps_once_and_disable_puts_every_method_back(iris: Any, stored: Any) -> None:
    x, y = iris
    originals = {
        cls: vars(cls)["fit"]
        for cls in (sk_linear.LogisticRegression, sk_pipeline.Pipeline, sk_selection._search.BaseSearchCV)
    }
    mltrail.sklearn.autolog()
    mltrail.sklearn.autolog(log_models=False)  # only changes the options
    for cls, original in originals.items():
        assert is_patched(vars(cls)["fit"]) and original_of(vars(cls)["fit"]) is original
    sk_linear.LogisticRegression(max_iter=300).fit(x, y)
    assert not stored.only_run().artifacts("model")  # the second call's options are the ones used

    switched = mltrail.autolog(disable=True)
    assert switched["sklearn"] is False and not any(switched.values())
    for cls, original in originals.items():
        assert vars(cls)["fit"] is original
    sk_linear.LogisticRegression(max_iter=300).fit(x, y)
    assert len(stored.runs()) == 1


def test_a_version_outside_the_supported_range_warns_and_trains_untouched(
    iris: Any, stored: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    x, y = iris
    monkeypatch.setattr(
        sklearn_autolog.INTEGRATION, "framework", Framework("scikit-learn", "sklearn", (0, 1), (0, 2))
    )
    with caplog.at_level(logging.WARNING, logger="mltrail"):
        assert mltrail.sklearn.autolog() is False
    assert "outside the supported range" in caplog.text
    assert not is_patched(vars(sk_linear.LogisticRegression)["fit"])
    sk_linear.LogisticRegression(max_iter=300).fit(x, y)
    assert stored.runs() == []


def test_only_rank_zero_logs_and_other_ranks_may_record_system_metrics(
    iris: Any, stored: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = iris
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    mltrail.sklearn.autolog()
    sk_linear.LogisticRegression(max_iter=300).fit(x, y)
    assert stored.runs() == []

    mltrail.sklearn.autolog(other_ranks="system", group="ddp-7")
    sk_linear.LogisticRegression(max_iter=300).fit(x, y)
    mltrail.autolog(disable=True)  # finishes the rank's system-metrics run
    run = stored.only_run()
    assert run.tags["mltrail.rank"] == "1" and run.tags["mltrail.group"] == "ddp-7"
    assert run.tags["mltrail.autolog"] == "system" and run.status == "finished"
    assert not any(k.startswith("train/") for k in run.metrics)


def test_mltrail_autolog_rejects_an_unknown_framework_in_exclude() -> None:
    with pytest.raises(mltrail.InvalidInputError, match="exclude"):
        mltrail.autolog(exclude=["sklaern"])


def test_an_unusable_store_is_a_warning_and_training_goes_on(
    iris: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    x, y = iris
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MLTRAIL_DIR", str(blocker / "mltrail"))
    mltrail.sklearn.autolog()
    with caplog.at_level(logging.WARNING, logger="mltrail"):
        model = sk_linear.LogisticRegression(max_iter=300).fit(x, y)
    assert model.score(x, y) > 0.9
    # One warning: the label encoder fitted inside LogisticRegression.fit does not try again.
    assert caplog.text.count("no run for this sklearn training call") == 1
