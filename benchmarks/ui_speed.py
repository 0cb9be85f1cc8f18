"""The web UI's speed against issue 14's targets, and MLflow's UI on the same 10,000 runs.

    .venv/bin/python benchmarks/ui_speed.py [--data DIR] [--repeat 5] [--mlflow] [--only mltrail|mlflow]

Seeds (fixed seeds, ``ui_speed_data.py``) a SQLite store straight through the store API (``create_run``,
one ``log_metrics`` batch per run, ``update_run``: the fastest honest path, the one the server's own
routes end in): project ``ui-10k`` with 10,000 runs × 30 columns (10 params, 12 metrics × 5 steps, 8 tags)
and project ``ui-charts`` with one run whose ``loss`` has 1,000,000 points and 20 runs with two metrics
of 50,000 points each. ``--data DIR`` keeps the store there and reuses it on the next call. Then starts a
real ``mltrail server`` on 127.0.0.1 (which serves the built UI: ``make web`` first) and drives
``/usr/bin/chromium`` headless with Playwright, a new browser context (empty cache) per repetition:

- first render: navigation start → the first frame showing a data row of the runs table, the URL naming
  the 30 columns (``col=…``);
- sort: click on the ``val/acc`` header → the first frame whose first row is the run with the highest
  ``val/acc`` (known from the seeded data);
- filter: Enter in the filter box → the first frame showing the matching count and the newest match first;
- blank rows: row slots of the table's visible area with no row in them, in every frame while the mouse
  wheel scrolls down through the loaded rows and while the scrollbar jumps to 10 %, 50 %, 90 % and the end;
- chart: navigation to the run's charts tab → the frame after uPlot drew the 1M-point metric (the chart
  counts its draws in ``data-drawn``);
- overlay: navigation to the comparison of the 20 runs' metrics → every chart drawn;
- JavaScript: the scripts (and stylesheets) the first page loads, gzipped (level 6) here.

``--mlflow`` measures MLflow's UI the same way (``ui_speed_mlflow.py``: MLflow from ``/tmp/mlflow-venv``).
``--ui DIR,DIR`` measures several builds of the UI (``npx vite build --outDir DIR``) against the same store,
one server each, taking turns repetition by repetition, so that a busy machine weighs on each alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ui_browser as ub
import ui_speed_data as data
from http_concurrent import serve

from mltrail.entities import MetricsBatch, RunStatus
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

SEEDED_MARK = "seeded.json"
SORT_METRIC = "val/acc"
FILTER = 'metrics.val/acc >= 0.99 and params.optimizer = "adam"'
CHUNK = 100_000


def run_id(project: str, i: int) -> str:
    return uuid.UUID(int=random.Random(f"{project}-{i}").getrandbits(128)).hex


def _points(store: SqlStore, rid: str, key: str, values: list[float], t0: float) -> None:
    for b in range(0, len(values), CHUNK):
        steps = list(range(b, min(len(values), b + CHUNK)))
        batch = MetricsBatch([key] * len(steps), steps, values[b : b + CHUNK], [t0 + s * 0.01 for s in steps])
        store.log_metrics(rid, batch)


def seed(db_url: str, runs: int) -> dict[str, object]:
    store = open_store(db_url)
    try:
        for i in range(runs):
            spec = data.table_run(i)
            rid = run_id(data.TABLE_PROJECT, i)
            store.create_run(
                run_id=rid,
                project=data.TABLE_PROJECT,
                name=spec.name,
                user=spec.user,
                start_time=spec.start_time,
                params=spec.params,
                tags=spec.tags,
            )
            keys = [k for k in spec.metrics for _ in range(data.STEPS)]
            steps = [s for _ in spec.metrics for s in range(data.STEPS)]
            values = [v for vs in spec.metrics.values() for v in vs]
            store.log_metrics(rid, MetricsBatch(keys, steps, values, [spec.start_time + s for s in steps]))
            if spec.end_time is not None:
                status = RunStatus.FAILED if spec.failed else RunStatus.FINISHED
                store.update_run(rid, status=status, end_time=spec.end_time)
        big = run_id(data.CHARTS_PROJECT, 0)
        store.create_run(
            run_id=big, project=data.CHARTS_PROJECT, name="metric-1m", user="bench", start_time=data.START
        )
        _points(store, big, data.BIG_METRIC, data.curve(data.BIG_POINTS, seed=1), data.START)
        overlay = []
        for j in range(data.OVERLAY_RUNS):
            rid = run_id(data.CHARTS_PROJECT, j + 1)
            store.create_run(
                run_id=rid,
                project=data.CHARTS_PROJECT,
                name=f"overlay-{j:02d}",
                user="bench",
                start_time=data.START + j,
            )
            _points(store, rid, "loss", data.curve(data.OVERLAY_POINTS, seed=100 + j), data.START)
            _points(store, rid, "val/acc", data.accuracy(data.OVERLAY_POINTS, seed=200 + j), data.START)
            overlay.append(rid)
    finally:
        store.close()
    return {"runs": runs, "big": big, "overlay": overlay}


def expectations(runs: int) -> dict[str, object]:
    """What the sort and the filter must show first, computed from the seeded data alone."""
    specs = [data.table_run(i) for i in range(runs)]
    best = max(specs, key=lambda s: s.metrics[SORT_METRIC][-1])
    worst = min(specs, key=lambda s: s.metrics[SORT_METRIC][-1])
    matches = [s for s in specs if s.metrics["val/acc"][-1] >= 0.99 and s.params["optimizer"] == "adam"]
    newest = max(matches, key=lambda s: s.start_time)
    return {
        "sort_first": best.name,
        "sort_last": worst.name,
        "filter_count": len(matches),
        "filter_first": newest.name,
    }


ROW_JS = (
    "b.watch.row = () => { const a = document.querySelector('[data-testid=run-row] a');"
    " return a && a.textContent; };"
)


def measure_mltrail(
    url: str, seeded: dict[str, object], expect: dict[str, object], repeat: int, scroll: bool = True
) -> list[ub.Samples]:
    cols = [f"params.{k}" for k in data.PARAMS] + [f"metrics.{k}" for k in data.METRICS]
    cols += [f"tags.{k}" for k in data.TAGS]
    runs_url = f"{url}/projects/{data.TABLE_PROJECT}/runs?" + urllib.parse.urlencode(
        [("col", c) for c in cols]
    )
    first = ub.Samples("runs table first render (10,000 runs, 30 columns)")
    sort = ub.Samples(f"sort: click on {SORT_METRIC} → rows in the new order")
    filt = ub.Samples("filter: Enter → matching rows shown")
    blank_wheel = ub.Samples("blank row slots while wheel-scrolling (frames with any / frames)", unit="")
    blank_jump = ub.Samples("blank row slots in the frames after scrollbar jumps (max per jump)", unit="")
    chart = ub.Samples("run page, 1M-point metric: navigation → chart drawn")
    overlay = ub.Samples("compare 20 runs' metrics: navigation → every chart drawn")
    js = ub.Samples("JavaScript for the first page, gzip -6", unit="KB")
    api_log: list[str] = []
    with ub.browser() as b:
        # Repetition 0 warms the server up (its first queries, imports, caches) and is not counted.
        for rep in range(repeat + 1):
            with ub.fresh_page(b, ROW_JS) as page:
                page.goto(runs_url)
                first.add(ub.wait_mark(page, "row"))
                if rep == 1:
                    api_log = [f"{p[:90]}: {s:.0f}–{e:.0f} ms" for p, s, e in ub.api_timings(page)]
                header = page.locator(f'[title="sort by metrics.{SORT_METRIC}"]')
                first_name = json.dumps(expect["sort_first"])
                page.evaluate(
                    "() => { window.__bench.arm('sort'); window.__bench.watch.sort = () => {"
                    " const a = document.querySelector('[data-testid=run-row] a');"
                    f" return a && a.textContent === {first_name}; }}; }}"
                )
                seen = len(ub.api_timings(page))
                header.click()
                sort.add(ub.action_ms(page, "sort"))
                if rep == 1:
                    api_log += after_action(page, "sort", seen)
                header.click()  # ascending
                header.click()  # off
                page.get_by_test_id("runs-count").filter(has_text="10,000 runs").wait_for()
                box = page.get_by_label("filter")
                box.fill(FILTER)
                count = f"{expect['filter_count']:,} runs match"
                page.evaluate(
                    "() => { window.__bench.arm('filter'); window.__bench.watch.filter = () => {"
                    " const a = document.querySelector('[data-testid=run-row] a');"
                    " const c = document.querySelector('[data-testid=runs-count]');"
                    f" return a && a.textContent === {json.dumps(expect['filter_first'])}"
                    f" && c && c.textContent === {json.dumps(count)}; }}; }}"
                )
                seen = len(ub.api_timings(page))
                box.press("Enter")
                filt.add(ub.action_ms(page, "filter"))
                if rep == 1:
                    api_log += after_action(page, "filter", seen)
            if rep == 1 and scroll:
                with ub.fresh_page(b, ROW_JS) as page:
                    page.goto(runs_url)
                    ub.wait_mark(page, "row")
                    wheel, jumps = scroll_blanks(page)
                    blank_wheel.add(wheel[0])
                    blank_wheel.note = (
                        f"{wheel[0]} of {wheel[1]} frames had a blank slot; {wheel[2]} rows reached"
                    )
                    blank_jump.values.extend(jumps)
            big = f"{url}/runs/{seeded['big']}?tab=charts"
            chart_box = f'[data-testid="chart-{data.BIG_METRIC}"] [data-drawn]'
            drawn = f"b.watch.chart = () => document.querySelector({json.dumps(chart_box)});"
            with ub.fresh_page(b, drawn) as page:
                page.goto(big)
                chart.add(ub.wait_mark(page, "chart"))
            ids = ",".join(str(x) for x in seeded["overlay"])  # type: ignore[attr-defined]
            n = len(data.OVERLAY_METRICS)
            every = (
                "b.watch.overlay = () => { const c = document.querySelectorAll('.chart-card');"
                " const d = document.querySelectorAll('.chart-card [data-drawn]');"
                f" return c.length === {n} && d.length === {n}; }};"
            )
            with ub.fresh_page(b, every) as page:
                page.goto(f"{url}/compare?runs={ids}&project={data.CHARTS_PROJECT}&tab=charts")
                overlay.add(ub.wait_mark(page, "overlay"))
        for timed in (first, sort, filt, chart, overlay):
            del timed.values[0]
        files = ub.script_bytes(b, runs_url, ROW_JS, "row")
    scripts = [f for f in files if f[0].endswith(".js")]
    js.add(round(sum(f[2] for f in scripts) / 1024, 1))
    js.note = f"{len(scripts)} scripts, {sum(f[1] for f in scripts) / 1024:.0f} KB before gzip"
    print("  API requests of the first render, the sort and the filter (first repetition):")
    for line in api_log:
        print(f"    {line}")
    return [first, sort, filt, blank_wheel, blank_jump, chart, overlay, js]


def after_action(page: ub.Any, name: str, seen: int) -> list[str]:
    """The API requests an action made, in ms from its event, and when its mark was set."""
    start = float(page.evaluate(f"() => window.__bench.start[{json.dumps(name)}]"))
    end = float(page.evaluate(f"() => window.__bench.marks[{json.dumps(name)}]"))
    lines = [
        f"{name}: {p[:80]}: {s - start:.0f}–{e - start:.0f} ms" for p, s, e in ub.api_timings(page)[seen:]
    ]
    return [*lines, f"{name}: mark at {end - start:.0f} ms"]


def scroll_blanks(page: ub.Any) -> tuple[tuple[int, int, int], list[float]]:
    """Wheel down through the loaded rows, then jump the scrollbar; count blank slots per frame."""
    return ub.scroll_blanks(page, "[data-testid=runs-table]", ".vt-head", "[data-testid=run-row]", 30)


@contextlib.contextmanager
def serve_ui(db_url: str, ui_dir: Path) -> Iterator[str]:
    """A server like ``mltrail server`` (``create_app``, no auth) whose UI is the build in ``ui_dir``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, __file__, "--serve-ui", db_url, str(port), str(ui_dir)]
    proc = subprocess.Popen(cmd, env={**os.environ, "MLTRAIL_CAPTURE": "0"})
    url = f"http://127.0.0.1:{port}"
    try:
        ub.wait_healthy(f"{url}/api/v1/health", proc, timeout=60, every=0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def _serve_ui_process(db_url: str, port: str, ui_dir: str) -> None:
    import uvicorn

    from mltrail.api.app import create_app
    from mltrail.settings import Settings

    app = create_app(Settings(db_url=db_url), ui_dir=Path(ui_dir))
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", default="", help="keep the seeded stores here and reuse them")
    parser.add_argument("--mlflow", action="store_true", help="also measure MLflow's UI (/tmp/mlflow-venv)")
    parser.add_argument("--only", choices=["mltrail", "mlflow"], default=None)
    parser.add_argument("--ui", default="", help="comma-separated folders of UI builds to compare")
    parser.add_argument("--serve-ui", nargs=3, metavar=("DB_URL", "PORT", "UI_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_ui:
        _serve_ui_process(*args.serve_ui)
        return
    root = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="ui-speed-"))
    root.mkdir(parents=True, exist_ok=True)
    expect = expectations(args.runs)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    print(f"ui_speed: {machine}, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"expected: {expect}")
    results: dict[str, list[ub.Samples]] = {}
    if args.only != "mlflow":
        home = root / "mltrail"
        mark = home / SEEDED_MARK
        db_url = f"sqlite:///{home / 'mltrail.db'}"
        if mark.exists() and json.loads(mark.read_text())["runs"] == args.runs:
            seeded = json.loads(mark.read_text())
            print(f"mltrail: reusing the store in {home}")
        else:
            home.mkdir(parents=True, exist_ok=True)
            (home / "mltrail.db").unlink(missing_ok=True)
            t0 = time.perf_counter()
            seeded = seed(db_url, args.runs)
            mark.write_text(json.dumps(seeded))
            print(f"mltrail: seeded in {time.perf_counter() - t0:.0f} s (store API)")
        if not args.ui:
            with serve(db_url, home / "server") as url:
                results["mltrail"] = measure_mltrail(url, seeded, expect, args.repeat)
        else:
            dirs = [Path(d) for d in args.ui.split(",")]
            with contextlib.ExitStack() as stack:
                urls = [stack.enter_context(serve_ui(db_url, d)) for d in dirs]
                per_ui: dict[str, list[list[ub.Samples]]] = {d.name: [] for d in dirs}
                for _ in range(args.repeat):
                    for d, url in zip(dirs, urls, strict=True):
                        per_ui[d.name].append(measure_mltrail(url, seeded, expect, 1, scroll=False))
                for name, reps in per_ui.items():
                    merged = reps[0]
                    for more in reps[1:]:
                        for into, s in zip(merged, more, strict=True):
                            into.values.extend(s.values)
                    results[f"mltrail, UI {name}"] = merged
    if args.mlflow or args.only == "mlflow":
        import ui_speed_mlflow

        results["MLflow"] = ui_speed_mlflow.measure(root / "mlflow", args.runs, expect, args.repeat)
    for tool, rows in results.items():
        print(f"\n{tool}:")
        for s in rows:
            print(f"  {s.label}: {s.summary()}{'  [' + s.note + ']' if s.note and s.values else ''}")


if __name__ == "__main__":
    main()
