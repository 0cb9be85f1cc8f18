"""The Insights page end to end: an admin prices a core-hour through the API, then a viewer reads the
cost per week in Chromium (bars, the costliest runs linking to them) and switches to the scorecard."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from test_ui_e2e import page, shot, sign_in  # noqa: F401 - page: the module's browser fixture

Server = Any  # conftest.Server

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_viewer_reads_cost_and_scorecard(page: Any, e2e_server: Server) -> None:  # noqa: F811
    headers = {"Authorization": f"Bearer {e2e_server.keys['admin']}"}
    priced = httpx.put(
        f"{e2e_server.url}/api/v1/insights/prices",
        json={"kind": "cpu", "per_hour": 1.5, "currency": "EUR"},
        headers=headers,
    )
    assert priced.status_code == 200, priced.text
    sign_in(page, e2e_server, "vic", "/insights")
    total = page.get_by_test_id("cost-total")
    total.wait_for()
    assert "EUR" in total.inner_text() and "runs" in total.inner_text()
    assert page.get_by_test_id("cost-week").count() >= 1
    first_run = page.locator("a[href^='/runs/']").first
    first_run.wait_for()
    shot(page, "insights-cost")
    page.get_by_role("link", name="Scorecard").click()
    page.get_by_text("ML maturity").wait_for()
    for dimension in ("tracked", "versioned", "reviewed", "monitored", "responsive"):
        assert page.get_by_role("cell", name=dimension, exact=True).count() == 1
    page.get_by_role("link", name="Retraining cadence").click()
    empty = page.get_by_text("No model has reached production yet.")
    page.get_by_test_id("cadence-model").or_(empty).first.wait_for()
    shot(page, "insights-cadence")
