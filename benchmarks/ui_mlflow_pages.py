"""MLflow's UI measured with the harness of benchmarks/ui_speed.py (same marks, same definitions).

MLflow 3.17's runs table is an ag-grid (``.ag-row[row-index=…]``) loaded 100 runs at a time; the columns
a user chose live in the browser's localStorage, so the init script puts the same 30 columns there (and
closes the assistant panel that opens on a first visit) before the page starts. Its metric chart is a
Plotly SVG drawn from ``get-history-bulk-interval`` (320 sampled points): drawn = its line path has data.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import ui_browser as ub
import ui_speed_data as data

FIRST_ROW = ".ag-pinned-left-cols-container .ag-row[row-index='0'] a[href*='/runs/']"
SORT_METRIC = "val/acc"
FILTER = "metrics.`val/acc` >= 0.99 and params.optimizer = 'adam'"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _init_js(table_experiment: str) -> str:
    cols = [f"params.`{k}`" for k in data.PARAMS] + [f"metrics.`{k}`" for k in data.METRICS]
    cols += [f"tags.`{k}`" for k in data.TAGS]
    state = {"selectedColumns": cols, "orderByKey": "attributes.start_time", "orderByAsc": False}
    key = f'MLflowLocalStorage-1.1-ExperimentPage-["{table_experiment}"]-ReactComponentState'
    return (
        "localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false');"
        "localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true');"
        f"localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(state))});"
        f"b.watch.row = () => {{ const a = document.querySelector({json.dumps(FIRST_ROW)});"
        " return a && a.textContent.trim(); };"
    )


def _first_row_is(names: list[str]) -> str:
    return (
        f"() => {{ const a = document.querySelector({json.dumps(FIRST_ROW)});"
        f" return a && {json.dumps(names)}.includes(a.textContent.trim()); }}"
    )


def measure(
    home: Path,
    seeded: dict[str, str],
    expect: dict[str, object],
    repeat: int,
    serve: Callable[[Path, int], subprocess.Popen[bytes]],
) -> list[ub.Samples]:
    port = _port()
    url = f"http://127.0.0.1:{port}"
    server = serve(home / "mlflow.db", port)
    try:
        ub.wait_healthy(f"{url}/health", server, timeout=120, every=0.5)
        return _measure(url, seeded, expect, repeat)
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the group started for it: mlflow and its uvicorn
        server.wait(30)


def _measure(url: str, seeded: dict[str, str], expect: dict[str, object], repeat: int) -> list[ub.Samples]:
    table = str(seeded["table"])
    init = _init_js(table)
    runs_url = f"{url}/#/experiments/{table}/runs"
    first = ub.Samples("runs table first render (10,000 runs, 30 columns)")
    sort = ub.Samples(f"sort: click on {SORT_METRIC} → rows in the new order")
    filt = ub.Samples("filter: Enter → matching rows shown")
    blank_wheel = ub.Samples("blank row slots while wheel-scrolling (frames with any / frames)", unit="")
    blank_jump = ub.Samples("blank row slots in the frames after scrollbar jumps (max per jump)", unit="")
    chart = ub.Samples("run page, 1M-point metric: navigation → chart drawn")
    overlay = ub.Samples("compare 20 runs' metrics: navigation → every chart drawn")
    overlay.note = "the 20 overlay runs (2M points) were not seeded into MLflow"
    js = ub.Samples("JavaScript for the first page, gzip -6", unit="KB")
    sort_names = [str(expect["sort_first"]), str(expect["sort_last"])]
    with ub.browser() as b:
        # Repetition 0 warms the server up (its first queries, imports, caches) and is not counted.
        for rep in range(repeat + 1):
            with ub.fresh_page(b, init) as page:
                page.goto(runs_url)
                first.add(ub.wait_mark(page, "row"))
                page.wait_for_timeout(1000)
                header = page.get_by_test_id(f"sort-header-{SORT_METRIC}")
                watch = _first_row_is(sort_names)
                page.evaluate(f"() => {{ window.__bench.arm('sort'); window.__bench.watch.sort = {watch}; }}")
                header.click()
                sort.add(ub.action_ms(page, "sort"))
                shown = page.evaluate(
                    f"() => document.querySelector({json.dumps(FIRST_ROW)}).textContent.trim()"
                )
                sort.note = f"first click sorts {'descending' if shown == sort_names[0] else 'ascending'}"
            with ub.fresh_page(b, init) as page:
                page.goto(runs_url)
                ub.wait_mark(page, "row")
                page.wait_for_timeout(1000)
                box = page.get_by_placeholder("metrics.rmse < 1", exact=False).first
                box.fill(FILTER)
                page.evaluate(
                    "() => { window.__bench.arm('filter'); window.__bench.watch.filter ="
                    f" {_first_row_is([str(expect['filter_first'])])}; }}"
                )
                box.press("Enter")
                filt.add(ub.action_ms(page, "filter"))
            if rep == 1:
                with ub.fresh_page(b, init) as page:
                    page.goto(runs_url)
                    ub.wait_mark(page, "row")
                    page.wait_for_timeout(1000)
                    wheel, jumps = _scroll_blanks(page)
                    blank_wheel.add(wheel[0])
                    blank_wheel.note = (
                        f"{wheel[0]} of {wheel[1]} frames had a blank slot; {wheel[2]} rows reached"
                    )
                    blank_jump.values.extend(jumps)
            drawn = (
                "b.watch.chart = () => { const p = document.querySelector('.js-plotly-plot path.js-line');"
                " return p && (p.getAttribute('d') || '').length > 100; };"
            )
            with ub.fresh_page(b, drawn) as page:
                page.goto(f"{url}/#/experiments/{seeded['charts']}/runs/{seeded['big']}/model-metrics")
                chart.add(ub.wait_mark(page, "chart"))
        for timed in (first, sort, filt, chart):
            del timed.values[0]
        files = ub.script_bytes(b, runs_url, init, "row")
    scripts = [f for f in files if ".js" in f[0]]
    js.add(round(sum(f[2] for f in scripts) / 1024, 1))
    js.note = f"{len(scripts)} scripts, {sum(f[1] for f in scripts) / 1024:.0f} KB before gzip"
    return [first, sort, filt, blank_wheel, blank_jump, chart, overlay, js]


def _scroll_blanks(page: ub.Any) -> tuple[tuple[int, int, int], list[float]]:
    row_px = int(page.evaluate("() => document.querySelector('.ag-row').offsetHeight"))
    return ub.scroll_blanks(page, ".ag-body-viewport", ".ag-header", ".ag-row", row_px)
