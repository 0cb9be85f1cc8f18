"""``connect().insights()`` embedded and against a real server: a run's captured hardware (the SDK's own
environment capture) is what its cost is computed from, and prices, budgets and figures read the same."""

from __future__ import annotations

import uuid
from typing import Any

import psutil
import pytest

import mltrail
from mltrail.errors import InvalidInputError
from mltrail.settings import Settings

CAPTURE = {"git": False, "code": False, "environment": True, "system_metrics": False, "console": False}


@pytest.mark.parametrize("transport_kind", ["embedded", "http"], indirect=True)
def test_cost_from_captured_hardware(transport_kind: str, settings: Settings, request: Any) -> None:
    server = request.getfixturevalue("http_server").url if transport_kind == "http" else ""
    project = f"insights-{uuid.uuid4().hex[:8]}"
    with mltrail.init(project=project, capture=CAPTURE, settings=settings, server=server or None) as run:
        run.log({"loss": 1.0})
    insights = mltrail.connect(server, settings=settings).insights()
    insights.set_price("cpu", 3600.0, "USD")  # a core-second costs one: cost = seconds x cores
    try:
        with pytest.raises(InvalidInputError) as caught:
            insights.set_price("gpu", 1.0, "EUR")
        assert caught.value.field == "currency"
        cost = insights.cost(project)
        (top,) = cost["top_runs"]
        assert top["run_id"] == run.id
        cores = psutil.cpu_count(logical=True)
        assert top["cpu_hours"] == pytest.approx(top["hours"] * cores)
        assert top["cost"] == pytest.approx(top["hours"] * cores * 3600.0)
        assert cost["total"]["cost"] == pytest.approx(top["cost"], abs=1e-4)  # totals keep 4 decimals
        made = insights.set_budget(project, 1e9)
        assert (made.currency, made.alert_share) == ("USD", 0.8)
        (status,) = insights.budgets(project)
        assert status["state"] == "ok"
        assert insights.value(project)["runs"] == 1
        assert insights.scorecard(project)["dimensions"][0]["dimension"] == "tracked"
        assert insights.cadence(project) == []
        insights.delete_budget(project)
        assert insights.budgets(project) == []
    finally:
        insights.delete_price("cpu")
    assert insights.prices() == []
