"""Performance estimated before labels through the SDK: calibrated at creation (``label=``) and by
``monitor.calibrate``, embedded and against a real server; estimates near the truth, an alert on one."""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_monitor import frame

import mltrail
from mltrail.errors import InvalidInputError
from mltrail.settings import Settings

linear = pytest.importorskip("sklearn.linear_model")
DAY = 86400.0


def _truth(batch: pd.DataFrame, seed: int) -> np.ndarray:
    """Churn is likelier at short tenure, but never certain."""
    rng = np.random.default_rng(seed)
    return (rng.random(len(batch)) < 1 / (1 + np.exp((batch["tenure"].to_numpy() - 20) / 6))).astype(int)


def _registered(settings: Settings, server: str | None) -> tuple[str, Any]:
    """A churn classifier fit on tenure alone (so its score carries all it knows), registered embedded or
    on ``server``; its probabilities are then squeezed towards 0.5, so that they need calibrating."""
    name = f"churn-{uuid.uuid4().hex[:6]}"
    train = frame(4000, 1)
    features = train[["tenure", "spend"]]
    clf = linear.LogisticRegression(C=1e-4).fit(features, _truth(train, 1))
    with mltrail.init(project="shop", capture=False, settings=settings, server=server) as run:
        run.log_dataset(train, name="churn-train", role="train")
        mltrail.models.register(name, run=run, model=clf, input_example=features.head(5), settings=settings)
    return name, clf


def _labelled(clf: Any, n: int, seed: int) -> pd.DataFrame:
    batch = frame(n, seed)
    x = batch[["tenure", "spend"]]
    return x.assign(prediction=clf.predict(x), score=clf.predict_proba(x)[:, 1], churned=_truth(batch, seed))


@pytest.mark.parametrize("where", ["embedded", "server"])
def test_calibrate_and_estimate_before_labels(where: str, settings: Settings, http_server: Any) -> None:
    server = http_server.url if where == "server" else None
    name, clf = _registered(settings, server)
    options: dict[str, Any] = {"server": server} if server else {"settings": settings}
    reference = _labelled(clf, 8000, 2)
    with mltrail.monitor(
        f"{name}:1", reference=reference, label="churned", flush_interval=0.05, **options
    ) as mon:
        assert mon.entity.calibration is not None and mon.entity.calibration["rows"] == 8000
        assert "churned" not in mon.entity.features and "score" not in mon.entity.features
        start = time.time() - 3 * DAY
        truths = []
        for day, shift in enumerate([0.0, 1.0, -0.5]):
            batch = frame(3000, 20 + day, shift=shift)
            x = batch[["tenure", "spend"]]
            predicted = clf.predict(x)
            mon.log(
                batch,
                predicted,
                ids=[f"{day}-{i}" for i in range(len(batch))],
                scores=clf.predict_proba(x)[:, 1],
                timestamps=np.full(len(batch), start + day * DAY + 3600),
            )
            truths.append(float((predicted == _truth(batch, 20 + day)).mean()))
        report = mon.report(last="4d")
        assert report["estimation"]["calibrated"]
        for window, truth in zip(report["windows"], truths, strict=True):
            assert window["estimated"]["accuracy"]["value"] == pytest.approx(truth, abs=0.03)
            assert window["performance"] == {}  # no labels yet: the estimate stands alone
        # re-calibrated on other rows: the stored windows are estimated under the new one
        again = mon.calibrate(_labelled(clf, 4000, 3), label="churned")
        assert again.calibration is not None and again.calibration["rows"] == 4000
        assert mon.report(last="4d")["estimation"]["reference_rows"] == 4000
        rule = mon.add_alert("estimated.accuracy", below=0.999)
        assert [a.rule_id for a in mon.alerts("open")] == [rule.id]  # fired over the stored windows
        with pytest.raises(InvalidInputError) as info:
            mon.calibrate(reference.drop(columns=["score"]), label="churned")
        assert info.value.field == "score"
