"""The web UI end to end: a real server with authentication, the built UI, and Chromium clicking through."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
Server = Any  # conftest.Server: url, home, keys (user → API key), seeded (what seed_e2e.py printed)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def page(e2e_server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        yield pg
        browser.close()
        assert not errors, f"uncaught errors in the page: {errors}"


def shot(page: Any, name: str) -> None:
    page.wait_for_timeout(300)  # let charts draw
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def sign_in(page: Any, server: Server, user: str, then: str, key: str | None = None) -> None:
    page.context.clear_cookies()
    page.goto(f"{server.url}{then}")
    page.wait_for_url(re.compile(r"/signin\?next="))
    page.get_by_label("API key").fill(key or server.keys[user])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(then.split("?")[0])))
    page.get_by_test_id("whoami").filter(has_text=user).wait_for()


def names(page: Any) -> list[str]:
    return [a.inner_text() for a in page.locator("[data-testid=run-row] a").all()]


def test_sign_in_then_projects_and_runs(page: Any, e2e_server: Server) -> None:
    page.goto(f"{e2e_server.url}/projects")
    page.wait_for_url(re.compile(r"/signin\?next=%2Fprojects"))
    shot(page, "signin")
    page.get_by_label("API key").fill("mlt_wrong")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="401").wait_for()
    sign_in(page, e2e_server, "admin", "/projects")
    # The key went into an HttpOnly cookie of /api, not into the page's storage.
    (cookie,) = page.context.cookies()
    assert (cookie["name"], cookie["path"], cookie["httpOnly"], cookie["sameSite"]) == (
        "mltrail_session",
        "/api",
        True,
        "Strict",
    )
    assert cookie["value"] != e2e_server.keys["admin"]
    stored = page.evaluate("() => JSON.stringify([{...sessionStorage}, {...localStorage}, document.cookie])")
    assert e2e_server.keys["admin"] not in stored and "mltrail_session" not in stored
    table = page.get_by_test_id("projects-table")
    # exact: the media, reports and insights browser tests add projects e2e-… to the same server
    project = table.get_by_role("link", name="e2e", exact=True)
    project.wait_for()
    assert "4" in table.locator("tr", has=page.get_by_role("link", name="e2e", exact=True)).inner_text()
    shot(page, "projects")
    project.click()
    page.wait_for_url(re.compile(r"/projects/e2e/runs"))
    page.get_by_test_id("runs-count").filter(has_text="4 runs").wait_for()
    assert sorted(names(page)) == [f"e2e-run-{i}" for i in range(4)]
    # The Commit column comes with the list (git.commit, dirty marked *), not from a request per row.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=run-row]')]"
        ".every(r => /[0-9a-f]{8}\\*/.test(r.textContent))"
    )
    shot(page, "runs")


def test_sort_and_filter_runs(page: Any, e2e_server: Server) -> None:
    sign_in(page, e2e_server, "admin", "/projects/e2e/runs")  # each test signs in: it runs alone too
    page.get_by_test_id("runs-count").filter(has_text="4 runs").wait_for()
    page.get_by_role("columnheader", name="Name").click()
    page.wait_for_url(re.compile(r"sort=name"))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=run-row] a')?.textContent === 'e2e-run-0'"
    )
    page.get_by_role("columnheader", name=re.compile("^Name")).click()
    page.wait_for_url(re.compile(r"sort=-name"))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=run-row] a')?.textContent === 'e2e-run-3'"
    )
    assert names(page) == ["e2e-run-3", "e2e-run-2", "e2e-run-1", "e2e-run-0"]

    # The Commit column sorts (git.commit in the filter language); the seeded runs share one commit, so
    # the newest comes first, and the server accepted the sort (no error under the toolbar).
    page.get_by_role("columnheader", name="Commit").click()
    page.wait_for_url(re.compile(r"sort=git\.commit"))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=run-row] a')?.textContent === 'e2e-run-3'"
    )
    page.get_by_test_id("runs-count").filter(has_text="4 runs").wait_for()
    assert page.get_by_test_id("filter-error").count() == 0

    box = page.get_by_label("filter")
    box.fill("params.lr >= 0.1")
    box.press("Enter")
    page.get_by_test_id("runs-count").filter(has_text="2 runs match").wait_for()
    assert sorted(names(page)) == ["e2e-run-0", "e2e-run-3"]
    assert "filter=params.lr" in page.url
    shot(page, "runs-filtered")

    box.fill("parms.lr < 1")
    box.press("Enter")
    error = page.get_by_test_id("filter-error")
    error.wait_for()
    text = error.inner_text()
    assert "did you mean 'params.lr'" in text
    assert text.splitlines()[-1].strip() == "^"  # the caret under position 0
    shot(page, "runs-filter-error")


def test_run_page_shows_its_diff(page: Any, e2e_server: Server) -> None:
    sign_in(
        page, e2e_server, "admin", "/projects/e2e/runs?sort=name"
    )  # each test signs in: it runs alone too
    page.get_by_role("link", name="e2e-run-0").click()
    page.get_by_test_id("run-name").filter(has_text="e2e-run-0").wait_for()
    shot(page, "run-overview")
    page.get_by_role("link", name="Charts", exact=True).click()
    page.get_by_test_id("chart-loss").locator("canvas").wait_for()
    shot(page, "run-charts")
    page.get_by_role("link", name="Code", exact=True).click()
    diff = page.get_by_test_id("diff")
    diff.wait_for()
    assert (
        "ready for production" in diff.locator("tr.add").all_inner_texts()[0]
        or "ready for production" in diff.inner_text()
    )
    assert diff.locator("tr.del").count() >= 1
    shot(page, "run-code")
    page.get_by_role("link", name="Artifacts", exact=True).click()
    page.get_by_role("link", name="model/mltrail-model.json").click()
    page.locator("pre.code", has_text='"flavor": "sklearn"').wait_for()
    shot(page, "run-artifacts")
    page.get_by_role("link", name="eval/confusion.csv").click()
    table = page.get_by_test_id("csv-preview")
    table.wait_for()
    assert table.locator("th").all_inner_texts() == ["label", "predicted_0", "predicted_1"]
    assert table.locator("tbody tr").count() == 2
    shot(page, "run-artifacts-csv")
    page.get_by_role("link", name="plots/curve.png").click()
    image = page.get_by_role("img", name="plots/curve.png")
    image.wait_for()
    page.wait_for_function("() => document.querySelector('img[alt=\"plots/curve.png\"]').naturalWidth === 64")
    shot(page, "run-artifacts-image")
    page.get_by_role("link", name="Models", exact=True).click()
    version = page.get_by_test_id("run-model-version")
    version.first.wait_for()
    assert version.count() == 1 and version.get_by_role("link", name="e2e-model:1").count() == 1
    page.get_by_role("link", name="Logs", exact=True).click()
    page.get_by_test_id("log").wait_for()
    page.get_by_placeholder("search the log").fill("acc")
    page.locator("[data-testid=log] mark", has_text="acc").first.wait_for()
    assert "q=acc" in page.url
    shot(page, "run-logs")


def test_compare_three_runs(page: Any, e2e_server: Server) -> None:
    sign_in(
        page, e2e_server, "admin", "/projects/e2e/runs?sort=name"
    )  # each test signs in: it runs alone too
    for i in range(3):
        box = page.get_by_label(f"select e2e-run-{i}")
        box.click()  # the selection lives in the URL, so the box turns checked once the URL has changed
        page.wait_for_function(f"() => document.querySelector('[aria-label=\"select e2e-run-{i}\"]').checked")
    page.get_by_role("button", name="Compare (3)").click()
    page.wait_for_url(re.compile(r"/compare\?runs="))
    params = page.get_by_test_id("compare-params")
    params.wait_for()
    differs = params.locator("tr[data-differs=true] td:first-child").all_inner_texts()
    assert set(differs) == {"C", "lr", "opt"}
    shot(page, "compare")
    histories: list[str] = []
    page.on("request", lambda r: histories.append(r.url) if "/metrics/history" in r.url else None)
    page.get_by_role("link", name="Metrics", exact=True).click()
    page.get_by_test_id("chart-acc").locator("canvas").wait_for()
    page.wait_for_function("() => document.querySelectorAll('.chart-card [data-drawn]').length > 0")
    # One request per chart for the three runs (GET /metrics/history?run=…&run=…&run=…), none per run.
    charts = page.locator(".chart-card").count()
    assert len(histories) == charts
    (acc,) = [u for u in histories if "key=acc" in u]
    assert "/api/v1/metrics/history?run=" in acc and acc.count("run=") == 3
    shot(page, "compare-charts")
    page.get_by_role("link", name="Parallel coordinates", exact=True).click()
    page.get_by_role("img", name="parallel coordinates").wait_for()
    shot(page, "compare-parallel")


def test_registry_pages(page: Any, e2e_server: Server) -> None:
    sign_in(page, e2e_server, "admin", "/registry")  # each test signs in: it runs alone too
    page.get_by_role("link", name="e2e-model").first.click()
    page.get_by_test_id("versions-table").wait_for()
    shot(page, "model")
    page.get_by_role("link", name="v1").first.click()
    page.get_by_test_id("lineage").wait_for()
    shot(page, "model-version")
    page.goto(f"{e2e_server.url}/registry/e2e-model?tab=audit")
    page.get_by_test_id("audit-table").filter(has_text="transition_requested").wait_for()
    shot(page, "model-audit")


def test_viewer_sees_no_approve_buttons(page: Any, e2e_server: Server) -> None:
    request = e2e_server.seeded["request"]
    sign_in(page, e2e_server, "vic", f"/approvals/{request}")
    page.get_by_text("lets only maintainer, admin approve").wait_for()
    assert page.get_by_role("button", name="Approve").count() == 0
    page.goto(
        f"{e2e_server.url}/approvals?for=me"
    )  # a viewer may decide nothing: GET /requests?decidable=true
    page.get_by_text("Nothing waits for your decision.").wait_for()


def test_approve_as_second_user(page: Any, e2e_server: Server) -> None:
    sign_in(page, e2e_server, "bob", "/approvals")
    with page.expect_response(lambda r: "decidable=true" in r.url):
        page.get_by_test_id("for-me").click()
    table = page.get_by_test_id("requests-table")
    table.wait_for()
    assert table.get_by_role("link", name=f"#{e2e_server.seeded['request']}").count() == 1
    shot(page, "approvals")
    table.get_by_role("link", name=f"#{e2e_server.seeded['request']}").click()
    page.get_by_label("comment").wait_for()
    page.get_by_label("comment").fill("looks good from the UI")
    shot(page, "approval-request")
    page.get_by_role("button", name="Approve").click()
    page.get_by_test_id("decisions").filter(has_text="looks good from the UI").wait_for()
    page.locator(".page-head .badge", has_text="approved").wait_for()
    shot(page, "approval-decided")


def test_monitor_and_acknowledge_an_alert(page: Any, e2e_server: Server) -> None:
    sign_in(page, e2e_server, "admin", "/monitoring")  # each test signs in: it runs alone too
    with page.expect_response(lambda r: "/report?" in r.url) as report:
        page.get_by_role("link", name="e2e-monitor").click()
    assert "detail=summary" in report.value.url  # the lighter report: each window's test, not every measure
    page.get_by_test_id("heatmap").wait_for()
    assert page.locator("td.cell[data-drifted='1']").count() > 0
    title = page.locator("td.cell[data-drifted='1']").first.get_attribute("title") or ""
    assert re.search(r"\d \(threshold \d", title) and "drifted" in title, title
    shot(page, "monitor")
    page.get_by_role("link", name=re.compile(r"^Rows")).click()
    page.locator(".chart-card canvas").first.wait_for()
    shot(page, "monitor-traffic")
    page.get_by_role("link", name=re.compile(r"^Alerts")).click()
    alerts = page.get_by_test_id("alerts-table")
    alerts.wait_for()
    row = alerts.locator("tr", has=page.get_by_role("button", name="Acknowledge")).first
    alert_id = row.get_attribute("data-alert")
    row.get_by_role("button", name="Acknowledge").click()
    page.locator(f"tr[data-alert='{alert_id}'] .badge", has_text="acknowledged").wait_for()
    assert row.get_by_role("link", name="e2e-model:1").count() == 1
    shot(page, "monitor-alerts")


def test_unknown_pages_are_not_found(page: Any, e2e_server: Server) -> None:
    sign_in(page, e2e_server, "admin", "/runs/no-such-run-id")  # each test signs in: it runs alone too
    page.get_by_test_id("not-found").wait_for()
    assert "no-such-run-id" in page.get_by_test_id("not-found").inner_text()
    shot(page, "not-found-run")
    page.goto(f"{e2e_server.url}/registry/no-such-model")
    page.get_by_test_id("not-found").wait_for()
    page.goto(f"{e2e_server.url}/definitely/not/a/page")
    page.get_by_test_id("not-found").wait_for()
    shot(page, "not-found")


def test_team_and_admin(page: Any, e2e_server: Server) -> None:
    sign_in(page, e2e_server, "admin", "/projects/e2e/team")
    page.get_by_text("Runs per week").wait_for()
    # Counted by GET /projects/e2e/activity over the last 90 days: the four seeded runs.
    page.get_by_test_id("team-totals").filter(has_text=re.compile(r"^4 runs by \d+ users")).wait_for()
    shot(page, "team")
    page.goto(f"{e2e_server.url}/admin?tab=keys")
    page.get_by_role("button", name="Create key").click()
    page.get_by_test_id("new-key").filter(has_text="mlt_").wait_for()
    shot(page, "admin-keys")


def test_audit_csv_is_a_plain_link_with_the_cookie(page: Any, e2e_server: Server) -> None:
    sign_in(page, e2e_server, "admin", "/registry/e2e-model?tab=audit")
    page.get_by_test_id("audit-table").filter(has_text="transition_requested").wait_for()
    link = page.get_by_test_id("audit-csv")
    assert link.get_attribute("href", timeout=5_000).startswith("/api/v1/models/e2e-model/audit?")
    with page.expect_download() as download:
        link.click()
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[0].startswith("id,time,time_iso,model")
    assert "transition_requested" in text


def test_sign_out_ends_the_session_on_the_server(page: Any, e2e_server: Server) -> None:
    sign_in(page, e2e_server, "bob", "/projects")
    (cookie,) = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/signin$"))
    page.get_by_text("You are signed out").wait_for()
    shot(page, "signed-out")
    assert page.context.cookies() == []
    # The cookie's token, replayed from elsewhere, is dead on the server too.
    replay = httpx.get(
        f"{e2e_server.url}/api/v1/me", cookies={"mltrail_session": cookie["value"]}, timeout=10
    )
    assert replay.status_code == 401
    page.goto(f"{e2e_server.url}/approvals")
    page.wait_for_url(re.compile(r"/signin\?next=%2Fapprovals"))


def test_a_lost_session_returns_to_sign_in_and_back(page: Any, e2e_server: Server) -> None:
    admin = {"Authorization": f"Bearer {e2e_server.keys['admin']}"}
    made = httpx.post(
        f"{e2e_server.url}/api/v1/keys", json={"name": "browser", "user": "bob"}, headers=admin, timeout=10
    )
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    sign_in(page, e2e_server, "bob", "/projects", key=key)
    page.get_by_test_id("projects-table").wait_for()
    revoked = httpx.delete(f"{e2e_server.url}/api/v1/keys/{made.json()['key_id']}", headers=admin, timeout=10)
    assert revoked.status_code == 204
    page.locator("nav a[href='/monitoring']").click()  # the next request meets a dead session
    page.wait_for_url(re.compile(r"/signin\?next=%2Fmonitoring"))
    page.get_by_test_id("signin-reason").filter(has_text="sign in again").wait_for()
    shot(page, "signin-session-ended")
    page.get_by_label("API key").fill(e2e_server.keys["bob"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/monitoring$"))
    page.get_by_role("link", name="e2e-monitor").wait_for()
