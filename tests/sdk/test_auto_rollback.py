"""An alert rule that rolls a deployment back (``action="rollback:NAME"``) and event alerts, embedded: the
policy (the spec must allow it; the monitor's project only; an automatic rollback is not rolled back again),
the trail (a new version by ``mltrail-alerts`` naming the alert), and the checks on the rule."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mltrail
from mltrail.entities import ApprovalPolicy
from mltrail.errors import InvalidInputError
from mltrail.sdk.client.connection import close_connections
from mltrail.settings import Settings

linear = pytest.importorskip("sklearn.linear_model")


@dataclass
class Home:
    settings: Settings


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    settings = Settings(home=tmp_path / "mltrail", flush_interval=0.05, user="ana")
    rng = np.random.default_rng(3)
    train = pd.DataFrame({"tenure": rng.normal(24, 12, 300), "spend": rng.gamma(2.0, 50.0, 300)})
    with mltrail.init(project="shop", capture=False, settings=settings) as run:
        run.log_dataset(train, name="train", role="train")
        for i, column in enumerate(("tenure", "spend")):
            model = linear.LogisticRegression().fit(
                train, (train[column] > train[column].median()).astype(int)
            )
            mltrail.models.register(
                "churn", run=run, model=model, input_example=train.head(3), path=f"m{i}", settings=settings
            )
    with mltrail.init(project="other", capture=False, settings=settings) as run:
        model = linear.LogisticRegression().fit(train, (train["tenure"] > 20).astype(int))
        mltrail.models.register(
            "elsewhere", run=run, model=model, input_example=train.head(3), settings=settings
        )
    mltrail.models.client(settings=settings).set_policy("churn", ApprovalPolicy((), ()))
    mltrail.models.transition("churn", 1, to="production", settings=settings)
    yield Home(settings)
    close_connections()


def _deploy(home: Home, name: str, *, allow: bool) -> None:
    spec = {"primary": "churn:1", "monitor": "churn-mon", "auto_rollback": allow}
    mltrail.deployments.create(name, spec, settings=home.settings)
    mltrail.deployments.update(
        name, {**spec, "primary": "churn:2"}, comment="the new model", settings=home.settings
    )


def _traffic(mon: mltrail.ModelMonitor, n: int) -> None:
    mon.log(pd.DataFrame({"tenure": np.linspace(1, 50, n), "spend": np.linspace(5, 300, n)}), [1] * n)
    mon.flush()


def test_a_firing_rule_rolls_back_a_deployment_that_allows_it_once(home: Home) -> None:
    mon = mltrail.monitor("churn@production", name="churn-mon", settings=home.settings)
    _deploy(home, "churn-prod", allow=True)
    rule = mon.add_alert("rows", above=5, action="rollback:churn-prod")
    assert rule.action == "rollback:churn-prod"
    _traffic(mon, 10)
    deployment = mltrail.deployments.get("churn-prod", settings=home.settings)
    assert deployment.version == 3 and deployment.spec.primary == "churn:1"
    latest = mltrail.deployments.history("churn-prod", settings=home.settings)[0]
    (alert,) = mon.alerts()
    assert latest.action == "rolled_back" and latest.user == "mltrail-alerts"
    assert latest.comment.startswith(f"automatic rollback: alert {alert.id} (rows above 5")
    assert latest.details["reason"] == {"alert": alert.id, "rule": rule.id, "monitor": "churn-mon"}
    # The alert resolves and opens again: the version an automatic rollback made is not rolled back again.
    mon.client.resolve(alert.id)
    _traffic(mon, 10)
    assert mltrail.deployments.get("churn-prod", settings=home.settings).version == 3
    mon.close()


def test_a_deployment_whose_spec_does_not_allow_it_is_left_alone(home: Home) -> None:
    mon = mltrail.monitor("churn@production", name="churn-mon", settings=home.settings)
    _deploy(home, "churn-manual", allow=False)
    mon.add_alert("rows", above=5, action="rollback:churn-manual")
    _traffic(mon, 10)
    assert len(mon.alerts()) == 1  # the alert stands
    deployment = mltrail.deployments.get("churn-manual", settings=home.settings)
    assert deployment.version == 2 and deployment.spec.primary == "churn:2"
    with pytest.raises(InvalidInputError, match="true or false") as caught:
        mltrail.deployments.update(
            "churn-manual", {"primary": "churn:1", "auto_rollback": "yes"}, settings=home.settings
        )
    assert caught.value.field.endswith("auto_rollback")
    mon.close()


def test_a_rule_acts_only_on_a_known_deployment_of_its_monitors_project(home: Home) -> None:
    mon = mltrail.monitor("churn@production", name="churn-mon", settings=home.settings)
    mltrail.deployments.create("far-dep", {"primary": "elsewhere:1"}, settings=home.settings)
    for action, words in [
        ("retrain:churn-prod", "unknown action"),
        ("rollback:nowhere", "no deployment"),
        ("rollback:far-dep", "in project 'other'"),
        ("rollback:bad name!", "deployment name"),
    ]:
        with pytest.raises(InvalidInputError, match=words) as caught:
            mon.add_alert("rows", above=5, action=action)
        assert caught.value.field == "action"
    assert mon.client.rules(mon.entity) == []
    mon.close()


def test_an_event_alert_opens_once_with_its_detail_and_updates_while_open(home: Home) -> None:
    mon = mltrail.monitor("churn@production", name="churn-mon", settings=home.settings)
    first = mon.client.raise_event(
        mon.entity, "gateway.reload_failed", "deployment d: digest mismatch on churn:2"
    )
    again = mon.client.raise_event(mon.entity, "gateway.reload_failed", "deployment d: churn:3 is missing")
    assert first.id == again.id and again.detail == "deployment d: churn:3 is missing"
    (rule,) = mon.client.rules(mon.entity)
    assert rule.metric == "gateway.reload_failed" and rule.created_by == "mltrail-gateway"
    with pytest.raises(InvalidInputError) as caught:
        mon.client.raise_event(mon.entity, "rows", "not an event")
    assert caught.value.field == "metric"
    mon.close()
