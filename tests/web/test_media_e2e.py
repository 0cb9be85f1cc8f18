"""The run page's Media tab in Chromium against a real server with auth: media logged through the SDK over
HTTP, then read by a viewer: images (through the session cookie) with their boxes and mask, the step slider,
a histogram, a matplotlib figure shown through <img>, a plotly figure drawn without plotly.js."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mltrail
from mltrail.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
Server = Any

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def media_run(e2e_server: Server, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("media-client")
    settings = Settings(home=folder / "home", journal_dir=folder / "journal", flush_interval=0.05)
    settings = settings.with_server(e2e_server.url, e2e_server.keys["admin"], source="test")
    mask = np.zeros((16, 20), np.uint8)
    mask[4:12, 5:15] = 1
    with mltrail.init(project="e2e-media", name="media-run", capture=False, settings=settings) as run:
        for step in range(3):
            image = np.full((16, 20), 40 * (step + 1), np.uint8)
            boxes = [{"x": 5, "y": 4, "w": 10, "h": 8, "label": f"cat{step}", "score": 0.5}]
            run.log_image("sample", image, boxes=boxes, masks=(mask, {0: "bg", 1: "cat"}), caption=f"s{step}")
        run.log_histogram("weights", np.random.default_rng(3).normal(size=500), bins=12)
        matplotlib = pytest.importorskip("matplotlib")
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1, 2], [2, 0, 1])
        run.log_figure("mpl", fig)
        plt.close(fig)
        run.log_figure(
            "curve", {"data": [{"type": "scatter", "x": [0, 1, 2], "y": [1, 3, 2], "name": "acc"}]}
        )
    return run.id


@pytest.fixture(scope="module")
def page(e2e_server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        pg = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        pg.set_default_timeout(15_000)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        yield pg
        browser.close()
        assert not errors, f"uncaught errors in the page: {errors}"


def test_media_tab_as_a_viewer(page: Any, e2e_server: Server, media_run: str) -> None:
    then = f"/runs/{media_run}?tab=media"
    page.goto(f"{e2e_server.url}{then}")
    page.wait_for_url(re.compile(r"/signin\?next="))
    page.get_by_label("API key").fill(e2e_server.keys["vic"])
    page.get_by_role("button", name="Sign in").click()
    card = page.get_by_test_id("media-sample")
    card.locator("svg.media-boxes rect").wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=media-sample] img').naturalWidth === 20"
    )
    assert card.locator(".media-box-label").inner_text() == "cat2 0.50"  # the last step first
    assert card.get_by_test_id("mask-layer").count() == 1
    card.get_by_label("step of sample").fill("0")
    card.locator(".media-box-label", has_text="cat0").wait_for()
    assert "s0" in card.locator("figcaption").inner_text()
    # The mask's ink class is drawn in colour over the image (class 0 stays clear).
    page.wait_for_function(
        """() => { const c = document.querySelector('[data-testid=media-sample] canvas');
                   const d = c.getContext('2d').getImageData(10, 8, 1, 1).data;
                   const o = c.getContext('2d').getImageData(0, 0, 1, 1).data;
                   return d[3] > 0 && o[3] === 0; }"""
    )
    card.screenshot(path=str(SCREENSHOTS / "run-media-mask.png"))
    card.get_by_label("mask").uncheck()
    assert card.get_by_test_id("mask-layer").count() == 0
    assert page.get_by_test_id("media-weights").locator("svg.media-hist rect").count() == 12
    page.wait_for_function("() => document.querySelector('[data-testid=media-mpl] img').naturalWidth > 0")
    page.get_by_test_id("media-curve").locator("polyline").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "run-media.png"), full_page=True)
