"""Many short runs one after another in one process, as a sweep or a test suite makes them.

    .venv/bin/python benchmarks/short_runs.py [--runs 1000] [--params 20] [--steps 100] [--metrics 5]
                                              [--capture {off,default,both}] [--store DIR]

Each run: ``mltrail.init(config=<params>)``, ``steps`` × ``run.log({<metrics>}, step=i)``, ``finish()``,
against the embedded SQLite store in a temp folder (or ``--store``). Reported per capture setting
(``capture=False`` and the default capture): total seconds from the first ``init`` to the last
``finish`` returned and the process's CPU seconds meanwhile (all threads), ms per run (mean, p50, p95 of
init → finish), and a check that a sample of the runs is stored finished with all its params and points.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import mltrail
from mltrail.sdk.client.connection import close_embedded_transports, embedded_transport


def one_setting(
    store: Path, *, runs: int, params: int, steps: int, metrics: int, capture: bool | None
) -> dict[str, Any]:
    settings = mltrail.Settings(home=store)
    config = {f"param_{i:02d}": i * 0.5 for i in range(params)}
    names = [f"metric_{k}" for k in range(metrics)]
    per_run: list[float] = []
    ids: list[str] = []
    project = f"short-{'default' if capture is None else 'off'}"
    start = time.perf_counter()
    cpu_start = time.process_time()
    for r in range(runs):
        t0 = time.perf_counter()
        run = mltrail.init(project=project, config=config, capture=capture, settings=settings)
        log = run.log
        for step in range(steps):
            log({name: step * 0.01 + k + r for k, name in enumerate(names)}, step=step)
        run.finish()
        per_run.append(time.perf_counter() - t0)
        ids.append(run.id)
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    # Read back: every run finished, with its params and every point.
    tracking = embedded_transport(settings).tracking
    bad = 0
    for run_id in ids[:: max(1, runs // 50)]:
        found = tracking.store.get_run(run_id)
        points = tracking.store.get_metric_history(run_id, names[-1])
        if found.status.value != "finished" or len(found.params) != params or len(points.steps) != steps:
            bad += 1
    close_embedded_transports()
    per_run.sort()
    return {
        "capture": "default" if capture is None else "off",
        "runs": runs,
        "total_s": round(total, 3),
        "cpu_s": round(cpu, 3),
        "ms_per_run_mean": round(total / runs * 1000, 2),
        "ms_per_run_p50": round(statistics.median(per_run) * 1000, 2),
        "ms_per_run_p95": round(per_run[int(runs * 0.95)] * 1000, 2),
        "sampled_runs_incomplete": bad,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--params", type=int, default=20)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--metrics", type=int, default=5)
    parser.add_argument("--capture", choices=["off", "default", "both"], default="both")
    parser.add_argument("--store", type=Path, default=None, help="store folder (default: a temp folder)")
    args = parser.parse_args()
    choices: list[bool | None] = {"off": [False], "default": [None], "both": [False, None]}[args.capture]
    shape = f"{args.runs} runs x ({args.params} params, {args.steps} steps x {args.metrics} metrics)"
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "store"
        for capture in choices:
            results.append(
                one_setting(
                    store,
                    runs=args.runs,
                    params=args.params,
                    steps=args.steps,
                    metrics=args.metrics,
                    capture=capture,
                )
            )
    print(
        json.dumps(
            {
                "python": platform.python_version(),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "shape": shape,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
