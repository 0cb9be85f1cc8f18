"""The reports pages end to end: an admin writes a report over the seeded project (seed_e2e.py) with a
panel on a project the viewer may not see; Chromium shows it to the viewer (that panel hidden, the others
live), and a maintainer edits its markdown source in the page, saving version 2."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from test_ui_e2e import page, shot, sign_in  # noqa: F401 - page: the module's browser fixture

Server = Any  # conftest.Server

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SOURCE = """# Quarterly review

The team's runs, **live**.

```mltrail-panel
type: runs
sort: name
columns: params.lr
```

```mltrail-panel
type: compare
runs: e2e-run-0, e2e-run-1
```

```mltrail-panel
type: runs
project: e2e-hidden
title: The hidden project's runs
```
"""


def _admin(server: Server) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {server.keys['admin']}"}
    )


def test_viewer_reads_with_a_hidden_panel_and_maintainer_edits(page: Any, e2e_server: Server) -> None:  # noqa: F811
    with _admin(e2e_server) as admin:
        made = admin.post("/runs", json={"project": "e2e-hidden", "name": "hush-run"})
        assert made.status_code == 201, made.text
        assert admin.put("/projects/e2e-hidden/members/vic", json={"role": "none"}).status_code == 200
        created = admin.post("/projects/e2e/reports", json={"name": "quarterly", "source": SOURCE})
        assert created.status_code == 201, created.text

    sign_in(page, e2e_server, "vic", "/projects/e2e/reports")
    row = page.get_by_test_id("report-row").filter(has_text="quarterly")
    row.wait_for()
    assert "Quarterly review" in row.inner_text()
    row.get_by_role("link", name="quarterly").click()
    page.wait_for_url(re.compile("/projects/e2e/reports/quarterly$"))
    page.get_by_role("heading", name="Quarterly review", exact=True).first.wait_for()
    runs = page.get_by_test_id("panel-runs")
    runs.wait_for()
    assert runs.get_by_role("link", name="e2e-run-0").get_attribute("href", timeout=5000).startswith("/runs/")
    assert page.get_by_test_id("panel-compare").get_by_text("differs").count() >= 1
    hidden = page.get_by_test_id("panel-hidden")
    assert "The hidden project's runs" in hidden.inner_text() and "may not see" in hidden.inner_text()
    assert "hush-run" not in page.content()
    assert page.get_by_role("link", name="Download HTML").get_attribute("href") == (
        "/api/v1/projects/e2e/reports/quarterly/html?download=true"
    )
    assert page.get_by_role("button", name="Edit").count() == 0  # a viewer: no editor (the API answers 403)
    shot(page, "report")

    sign_in(page, e2e_server, "bob", "/projects/e2e/reports/quarterly?edit=1")
    editor = page.get_by_label("report source")
    editor.wait_for()
    assert "type: compare" in editor.input_value()
    editor.fill("# Quarterly review, revised\n\n```mltrail-panel\ntype: runs\nlimit: 2\n```\n")
    assert "1 panel" in page.get_by_test_id("report-editor").inner_text()
    page.get_by_role("button", name="Save version 2").click()
    page.get_by_text("version 2", exact=False).first.wait_for()
    page.get_by_role("heading", name="Quarterly review, revised", exact=True).first.wait_for()
    assert page.get_by_test_id("panel-runs").locator("tbody tr").count() == 2
