"""The deployments pages end to end: the deployment the seed wrote (seed_e2e.py), then Chromium reads
its list and page, a maintainer rolls it back, and a viewer has no button and gets a 403
when it posts anyway."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from test_ui_e2e import page, shot, sign_in  # noqa: F401 - page: the module's browser fixture

Server = Any  # conftest.Server

pytestmark = [pytest.mark.slow, pytest.mark.browser]
DEPLOYMENT = "e2e-deploy"  # written by seed_e2e.py: v2, e2e-model:1 with e2e-challenger:1


def test_list_and_page(page: Any, e2e_server: Server) -> None:  # noqa: F811
    sign_in(page, e2e_server, "bob", "/deployments?project=e2e")
    row = page.get_by_test_id("deployment-row").filter(has_text=DEPLOYMENT)
    row.wait_for()
    assert (
        row.get_by_role("link", name="e2e-model:1").get_attribute("href") == "/registry/e2e-model/versions/1"
    )
    assert "10%" in row.inner_text() and "v2" in row.inner_text()
    assert "updated by admin" in row.inner_text()
    shot(page, "deployments")
    row.get_by_role("link", name=DEPLOYMENT).click()
    page.wait_for_url(re.compile(f"/deployments/{DEPLOYMENT}$"))
    spec = page.get_by_test_id("spec")
    spec.wait_for()
    assert "answers 10% of request keys" in spec.inner_text()
    chain = page.get_by_test_id("fallback-chain").inner_text()
    assert "1. model e2e-challenger:1" in chain and "2. age ≥ 50 → 1, else 0" in chain
    assert page.get_by_test_id("monitor-link").get_attribute("href") == "/monitoring/e2e-monitor"
    # No gateway has served it: the evidence panel says no requests were counted (not an error).
    page.get_by_test_id("evidence-empty").wait_for()
    rows = page.get_by_test_id("history-row")
    assert rows.count() == 2
    assert "canary 10% and a fallback" in rows.nth(0).inner_text()
    diff = page.get_by_test_id("spec-diff")
    assert "v1 → v2" in diff.inner_text()
    assert diff.locator("tr.add", has_text="timeout_ms: 100").count() == 1
    shot(page, "deployment")
    # An older version's spec, from the history (and in the URL).
    rows.nth(1).get_by_role("link", name="v1").click()
    page.wait_for_url(re.compile(r"\?v=1"))
    page.get_by_text("v1, not current").wait_for()
    assert page.get_by_test_id("fallback-chain").count() == 0
    page.get_by_test_id("spec").get_by_role("link", name="e2e-model:1").click()
    page.wait_for_url(re.compile("/registry/e2e-model/versions/1$"))


def test_member_rolls_back(page: Any, e2e_server: Server) -> None:  # noqa: F811
    sign_in(page, e2e_server, "bob", f"/deployments/{DEPLOYMENT}")
    page.get_by_label("rollback comment").fill("the canary is not ready")
    page.get_by_role("button", name="Roll back to v1").click()
    page.get_by_text("rolled back to v1: the spec is now v3").wait_for()
    first = page.get_by_test_id("history-row").first
    first.filter(has_text="the canary is not ready").wait_for()
    assert "rolled back" in first.inner_text() and "bob" in first.inner_text()
    shot(page, "deployment-rolled-back")
    bob = {"Authorization": f"Bearer {e2e_server.keys['bob']}"}
    now = httpx.get(f"{e2e_server.url}/api/v1/deployments/{DEPLOYMENT}", headers=bob).json()
    assert (now["version"], now["current"]["action"], now["current"]["user"]) == (3, "rolled_back", "bob")
    assert "canary" not in now["current"]["spec"]


def test_viewer_has_no_rollback_and_is_refused(page: Any, e2e_server: Server) -> None:  # noqa: F811
    sign_in(page, e2e_server, "vic", f"/deployments/{DEPLOYMENT}")
    page.get_by_text("members roll back").wait_for()
    assert page.get_by_role("button", name=re.compile("Roll back")).count() == 0
    shot(page, "deployment-viewer")
    # Forced from the signed-in page, with the session's CSRF token: the API refuses.
    status = page.evaluate(
        """async (name) => {
            const session = await (await fetch('/api/v1/session')).json();
            const res = await fetch(`/api/v1/deployments/${name}/rollback`, {
                method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token},
                body: JSON.stringify({to_version: 1}),
            });
            return res.status;
        }""",
        DEPLOYMENT,
    )
    assert status == 403
    vic = {"Authorization": f"Bearer {e2e_server.keys['vic']}"}
    assert httpx.get(f"{e2e_server.url}/api/v1/deployments/{DEPLOYMENT}", headers=vic).json()["version"] == 3
