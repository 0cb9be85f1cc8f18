"""Insights figures on a small hand-built dataset with known answers: cost per week, user, project and run
from the price table; budgets alerting once, in the audit log; value metrics; the scorecard; cadence."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.entities import ApprovalPolicy, MetricsBatch, ModelFile, ProductionEvent, RegistryEvent, Stage
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.insights.cadence import AgePoint, cadence_report
from mltrail.services.insights.service import InsightsService
from mltrail.services.monitoring.performance import merge_accumulators
from mltrail.store.factory import open_store
from mltrail.store.monitoring import WindowDelta
from mltrail.store.sql import SqlStore

DAY = 86400.0
MONDAY = 1_767_571_200.0  # 2026-01-05 00:00 UTC
NOW = MONDAY + 20 * DAY  # 2026-01-25, in January

GPU = {
    "environment": {"cpu": {"count": 8}, "gpus": [{"name": "A100"}]},
    "git": {"commit": "a", "dirty": False},
}
CPU = {"environment": {"cpu": {"count": 2}, "gpus": []}, "git": {"commit": "a", "dirty": True}}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield opened
    opened.close()


@pytest.fixture
def insights(store: SqlStore) -> InsightsService:
    return InsightsService(store, runs=store, monitors=store, audit=store, clock=lambda: NOW)


def _run(
    store: SqlStore, project: str, start: float, hours: float, context: dict[str, object], user: str
) -> str:
    run_id = uuid.uuid4().hex
    store.create_run(
        run_id=run_id, project=project, name=run_id[:6], user=user, start_time=start, context=context
    )
    store.update_run(run_id, end_time=start + hours * 3600)
    return run_id


def _dataset(store: SqlStore, project: str, run_id: str) -> None:
    version = store.record_dataset_version(
        project=project,
        name="train",
        digest="d",
        kind="table",
        source=None,
        num_rows=1,
        num_bytes=1,
        schema=[],
        summary={},
    )
    store.link_dataset(run_id, version.id, "train")


def _register(store: SqlStore, model: str, project: str, run_id: str | None, at: float) -> int:
    try:
        store.get_registered_model(model)
    except NotFoundError:
        store.create_registered_model(
            name=model,
            project=project,
            description="",
            owner=None,
            tags={},
            policy=ApprovalPolicy(),
            card={},
            created_at=at,
            event=RegistryEvent(time=at, model=model, action="model_created", user="ana"),
        )
    version = store.create_model_version(
        model=model,
        run_id=run_id,
        source="model",
        digest="0" * 64,
        flavor="sklearn",
        format="skops",
        executes_code=False,
        signature=None,
        files=[ModelFile("model.skops", "0" * 64, 1)],
        description="",
        tags={},
        created_by="ana",
        created_at=at,
        event=RegistryEvent(time=at, model=model, action="version_registered", user="ana"),
    )
    return version.version


def _to_production(store: SqlStore, model: str, version: int, at: float, *, request: int | None) -> None:
    details: dict[str, object] = {"to": "production"}
    if request is not None:
        details["request"] = request
    event = RegistryEvent(time=at, model=model, action="stage_changed", user="bob", details=details)
    store.set_version_stage(model, version, Stage.PRODUCTION, archive_previous=True, events=[event])


@pytest.fixture
def team(store: SqlStore) -> dict[str, str]:
    """Project p: ada 2 h on an 8-core A100 box (week 1), bob 10 h on 2 cores (week 2); project q: one run."""
    a = _run(store, "p", MONDAY + 3600, 2.0, GPU, "ada")
    b = _run(store, "p", MONDAY + 7 * DAY, 10.0, CPU, "bob")
    c = _run(store, "q", MONDAY + 2 * DAY, 1.0, {}, "ada")
    _dataset(store, "p", a)
    _dataset(store, "p", b)
    return {"a": a, "b": b, "c": c}


def test_prices_are_validated_and_in_one_currency(insights: InsightsService) -> None:
    insights.set_price("cpu", 0.05, "eur", user="root")
    assert insights.prices()[0].currency == "EUR"
    with pytest.raises(InvalidInputError) as caught:
        insights.set_price("gpu:A100", 3.0, "USD", user="root")
    assert caught.value.field == "currency"
    for kind, price in (("tpu", 1.0), ("cpu", -1.0), ("cpu", float("nan"))):
        with pytest.raises(InvalidInputError):
            insights.set_price(kind, price, "EUR", user="root")


def test_cost_per_week_user_project_and_run(insights: InsightsService, team: dict[str, str]) -> None:
    insights.set_price("cpu", 0.05, "EUR", user="root")
    insights.set_price("gpu:A100", 3.0, "EUR", user="root")
    report = insights.cost()
    # ada on p: 2 h x (8 x 0.05 + 1 x 3.0) = 6.8; bob: 10 h x 2 x 0.05 = 1.0; ada on q: 1 h x 1 core = 0.05
    assert report["currency"] == "EUR"
    assert report["total"]["cost"] == pytest.approx(7.85)
    assert {p["project"]: p["cost"] for p in report["per_project"]} == {"p": 7.8, "q": 0.05}
    assert [(u["user"], u["cost"]) for u in report["per_user"]] == [("ada", 6.85), ("bob", 1.0)]
    assert [(w["week_start"], w["cost"]) for w in report["per_week"]] == [
        (MONDAY, 6.85),
        (MONDAY + 7 * DAY, 1.0),
    ]
    assert [r["run_id"] for r in report["top_runs"]] == [team["a"], team["b"], team["c"]]
    assert report["top_runs"][0]["cost"] == pytest.approx(6.8)
    assert insights.cost(["q"])["total"]["cost"] == pytest.approx(0.05)
    # a GPU without a price is counted, not hidden
    insights.delete_price("gpu:A100")
    assert insights.cost(["p"])["total"]["unpriced_hours"] == pytest.approx(2.0)


def test_budget_alerts_once_a_month_in_the_audit_log(
    store: SqlStore, insights: InsightsService, team: dict[str, str]
) -> None:
    insights.set_price("cpu", 0.05, "EUR", user="root")
    insights.set_price("gpu", 3.0, "EUR", user="root")
    insights.set_budget("p", 10.0, alert_share=0.5, user="root")
    insights.set_budget("q", 10.0, user="root")
    first = {b["project"]: b for b in insights.budgets()}
    assert (first["p"]["spent"], first["p"]["share"], first["p"]["state"]) == (7.8, 0.78, "alert")
    assert first["q"]["state"] == "ok"
    insights.budgets()
    events = store.query_audit_events(action="budget_alert")
    assert [(e.project, e.method) for e in events] == [("p", "EVENT")]
    with pytest.raises(InvalidInputError) as caught:
        insights.set_budget("p", 10.0, alert_share=1.5, user="root")
    assert caught.value.field == "alert_share"
    with pytest.raises(NotFoundError):
        insights.set_budget("nope", 10.0, user="root")


def test_value_metrics(store: SqlStore, insights: InsightsService, team: dict[str, str]) -> None:
    v1 = _register(store, "churn", "p", team["a"], MONDAY + 2 * DAY)
    _to_production(store, "churn", v1, MONDAY + 3 * DAY, request=None)
    v2 = _register(store, "churn", "p", team["b"], MONDAY + 8 * DAY)
    _to_production(store, "churn", v2, MONDAY + 12 * DAY, request=7)
    value = insights.value()
    p = next(x for x in value["projects"] if x["project"] == "p")
    # first run at MONDAY + 1 h, first production at MONDAY + 3 days
    assert p["days_to_first_production"] == pytest.approx(3 - 1 / 24, abs=1e-3)
    assert p["first_approved_production"]["version"] == v2
    assert p["reproducible_share"] == 0.5  # a: clean commit + data; b: dirty without diff
    assert [v["days_to_production"] for v in value["versions"]] == [1.0, 4.0]
    assert value["median_days_to_production"] == 2.5
    weekly = value["experiments_per_week"]
    assert [(c["week_start"], c["project"], c["runs"]) for c in weekly["per_project"]] == [
        (MONDAY, "p", 1),
        (MONDAY, "q", 1),
        (MONDAY + 7 * DAY, "p", 1),
    ]
    assert [(c["week_start"], c["user"], c["runs"]) for c in weekly["per_user"]] == [
        (MONDAY, "ada", 2),
        (MONDAY + 7 * DAY, "bob", 1),
    ]
    assert value["mean_experiments_per_week"] == 1.5
    assert value["reproducible_share"] == pytest.approx(1 / 3, abs=1e-4)


def test_scorecard(store: SqlStore, insights: InsightsService, team: dict[str, str]) -> None:
    v1 = _register(store, "churn", "p", team["a"], MONDAY + 2 * DAY)
    _to_production(store, "churn", v1, MONDAY + 3 * DAY, request=None)
    v2 = _register(store, "churn", "p", None, MONDAY + 8 * DAY)
    _to_production(store, "churn", v2, MONDAY + 12 * DAY, request=7)
    card = insights.scorecard()
    scores = {d["dimension"]: d["score"] for d in card["dimensions"]}
    # tracked: 2 of 3 runs have an environment (67), 1 of 2 versions from a run (50) -> 58
    assert scores == {"tracked": 58, "versioned": 33, "reviewed": 50, "monitored": 0, "responsive": None}
    assert card["overall"] == 35 and card["level"] == "repeatable"
    tracked = next(d for d in card["dimensions"] if d["dimension"] == "tracked")
    assert {"model": "churn", "version": v2, "run_id": None} in tracked["evidence"]


def test_cadence_says_when_there_is_not_enough_data(
    store: SqlStore, insights: InsightsService, team: dict[str, str]
) -> None:
    v1 = _register(store, "churn", "p", team["a"], MONDAY)
    _to_production(store, "churn", v1, MONDAY + DAY, request=None)
    v2 = _register(store, "churn", "p", team["b"], MONDAY + 5 * DAY)
    _to_production(store, "churn", v2, MONDAY + 11 * DAY, request=None)
    (churn,) = insights.cadence()
    assert churn["intervals_days"] == [10.0]
    assert churn["current_version"] == v2 and churn["age_days"] == 9.0
    assert churn["suggested_retraining"]["enough_data"] is False
    assert churn["suggested_retraining"]["reason"].startswith("not enough data")
    with pytest.raises(NotFoundError):
        insights.cadence(model="other")


def _move(version: int, day: float) -> ProductionEvent:
    return ProductionEvent("m", "p", version, MONDAY + day * DAY, False, None, None)


def test_cadence_suggests_the_median_age_of_falling_below_training() -> None:
    moves = [_move(1, 0), _move(2, 30), _move(3, 50)]
    points = [
        AgePoint(v, MONDAY + (start + age) * DAY, value, "realized", "mon")
        for v, start, series in ((1, 0, [0.90, 0.89, 0.80]), (2, 30, [0.91, 0.85, 0.70]))
        for age, value in zip((2, 10, 20), series, strict=True)
    ]
    points.append(AgePoint(3, MONDAY + 52 * DAY, 0.9, "estimated", "mon"))
    report = cadence_report(
        "m",
        moves,
        points,
        {1: 0.9, 2: 0.9, 3: 0.9},
        metric="accuracy",
        higher_is_better=True,
        margin=0.05,
        now=MONDAY + 60 * DAY,
    )
    # v1 first falls below 0.855 at age 20, v2 at age 10: median 15 days
    assert report["suggested_retraining"]["days"] == 15.0
    assert report["suggested_retraining"]["crossings"] == [
        {"version": 1, "age_days": 20.0},
        {"version": 2, "age_days": 10.0},
    ]
    assert report["intervals_days"] == [30.0, 20.0] and report["median_interval_days"] == 25.0
    assert report["age_days"] == 10.0
    assert [p["kind"] for p in report["points"] if p["version"] == 3] == ["estimated"]
    steady = cadence_report(
        "m", moves, points[:2], {1: 0.9}, metric="accuracy", higher_is_better=True, margin=0.05, now=MONDAY
    )
    assert steady["suggested_retraining"]["enough_data"] is False


def test_cadence_reads_realized_performance_from_monitor_windows(
    store: SqlStore, insights: InsightsService
) -> None:
    run_id = _run(store, "p", MONDAY - DAY, 1.0, GPU, "ada")
    store.log_metrics(run_id, MetricsBatch(["val/acc"], [0], [0.9], [MONDAY], "c", 1))
    v1 = _register(store, "churn", "p", run_id, MONDAY - DAY)
    _to_production(store, "churn", v1, MONDAY, request=None)
    monitor = store.create_monitor(
        name="churn-prod",
        project="p",
        model="churn",
        version=v1,
        run_id=run_id,
        features=["x"],
        prediction="prediction",
        task="classification",
        granularity="day",
        segments=[],
        schema={},
        drift={},
        training_metrics={"val/acc": 0.9},
        reference=b"",
        reference_source="test",
        created_at=MONDAY,
        created_by=None,
    )
    accuracies = [90, 90, 88, 84, 80, 80]  # per day after the move; 0.855 is 5 % below 0.9
    deltas = [WindowDelta("", "day", MONDAY + d * DAY, 100, b"p", {}) for d in range(len(accuracies))]
    store.merge_windows(monitor.id, deltas, lambda a, b: a + b, now=NOW)
    store.add_performance(
        monitor.id,
        {
            "day": {
                ("", MONDAY + d * DAY): {"n": 100, "confusion": {"1\x1f1": k, "0\x1f1": 100 - k}}
                for d, k in enumerate(accuracies)
            }
        },
        merge_accumulators,
        now=NOW,
    )
    (churn,) = insights.cadence(model="churn")
    assert [(p["age_days"], p["value"], p["kind"], p["fell"]) for p in churn["points"]] == [
        (float(d), k / 100, "realized", k < 85.5) for d, k in enumerate(accuracies)
    ]
    assert churn["metric"] == "accuracy" and churn["points"][0]["training"] == 0.9
    assert churn["suggested_retraining"]["days"] == 3.0
    assert churn["suggested_retraining"]["crossings"] == [{"version": v1, "age_days": 3.0}]
    lenient = insights.cadence(model="churn", margin=0.2)[0]["suggested_retraining"]
    assert lenient["days"] is None and lenient["at_least_days"] == 5.0


def test_scorecard_monitored_and_responsive_from_real_monitors_and_alerts(
    store: SqlStore, insights: InsightsService, team: dict[str, str]
) -> None:
    v1 = _register(store, "churn", "p", team["a"], MONDAY)
    _to_production(store, "churn", v1, MONDAY + DAY, request=7)
    _register(store, "other", "p", team["b"], MONDAY)
    _to_production(store, "other", 1, MONDAY + DAY, request=None)
    monitor = store.create_monitor(
        name="churn-prod",
        project="p",
        model="churn",
        version=v1,
        run_id=None,
        features=["x"],
        prediction="prediction",
        task="classification",
        granularity="day",
        segments=[],
        schema={},
        drift={},
        training_metrics={},
        reference=b"",
        reference_source="test",
        created_at=MONDAY,
        created_by=None,
    )
    rule = store.create_alert_rule(
        monitor_id=monitor.id,
        metric="drift.psi",
        feature="x",
        segment=None,
        comparator=">",
        threshold=0.2,
        for_windows=1,
        channels=[],
        created_at=MONDAY,
        created_by="ana",
    )
    store.raise_alert(rule, feature="x", segment=None, value=0.5, window_start=MONDAY, now=MONDAY + 2 * DAY)
    v2 = _register(store, "churn", "p", team["a"], MONDAY + 3 * DAY)
    _to_production(store, "churn", v2, MONDAY + 12 * DAY, request=8)  # 10 days after the alert opened
    card = insights.scorecard()
    dims = {d["dimension"]: d for d in card["dimensions"]}
    assert dims["monitored"]["score"] == 50  # churn has a monitor with a rule, other has none
    assert dims["monitored"]["evidence"][0] == {
        "model": "churn",
        "monitors": ["churn-prod"],
        "with_rules": ["churn-prod"],
    }
    # answered after 10 days: 100 x (90 - 10) / (90 - 7) = 96
    assert dims["responsive"]["score"] == 96
    assert dims["responsive"]["evidence"] == [
        {"model": "churn", "alert_opened": MONDAY + 2 * DAY, "answered_by": v2, "days": 10.0}
    ]
    assert dims["reviewed"]["score"] == 67  # churn:1 and churn:2 through requests, other:1 not
