"""A store with registered models, monitors and deployments, and ``mltrail serve`` processes over it.

Models (project ``shop``): ``churn`` (scikit-learn logistic regression; v1 @production, v2 @challenger,
trained on other data so their answers differ), ``broken`` (raises), ``slow`` (hangs 30 s), ``steady``
(always 7). The broken and slow ones are pickles of ``faulty_models`` classes, so the server process gets
this folder on its PYTHONPATH and ``--trust``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gateway_world import Home, frame, linear

import mltrail
from mltrail.entities import ApprovalPolicy
from mltrail.settings import Settings


@pytest.fixture(scope="package")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    import faulty_models

    path = tmp_path_factory.mktemp("gateway") / "mltrail"
    settings = Settings(home=path, flush_interval=0.05, user="ana")
    train = frame(2000, 1)
    x = train[["tenure", "spend"]]
    with mltrail.init(project="shop", capture=False, settings=settings) as run:
        run.log_dataset(train, name="churn-train", role="train")
        first = linear.LogisticRegression().fit(x, (train["tenure"] < 20).astype(int))
        second = linear.LogisticRegression().fit(x, (train["spend"] > 80).astype(int))
        reg = mltrail.models.register
        reg("churn", run=run, model=first, input_example=x.head(5), path="m1", settings=settings)
        reg("churn", run=run, model=second, input_example=x.head(5), path="m2", settings=settings)
        for name, model in {
            "broken": faulty_models.Raising(),
            "slow": faulty_models.Hanging(),
            "steady": faulty_models.Constant(7),
        }.items():
            reg(
                name,
                run=run,
                model=model,
                input_example=x.head(5),
                path=name,
                format="pickle",
                settings=settings,
            )
    # No approvals in these tests: production and aliases move at once.
    open_policy = ApprovalPolicy(protected_stages=(), protected_aliases=())
    mltrail.models.client(settings=settings).set_policy("churn", open_policy)
    mltrail.models.transition("churn", 1, to="production", settings=settings)
    mltrail.models.transition("churn", 2, to="challenger", settings=settings)
    for monitor in ("churn-main", "churn-shadow"):
        mltrail.monitor("churn@production", name=monitor, settings=settings).close()
    yield Home(settings, path)
    from mltrail.sdk.client.connection import close_connections

    close_connections()
