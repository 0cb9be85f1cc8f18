"""Cost of ``run.log`` as the training loop sees it, time until points are durable, and writer memory.

    .venv/bin/python benchmarks/log_overhead.py [--n 100000]

Prints three scenarios against the embedded SQLite store in a temp folder:
1. N calls of ``run.log({"loss": x}, step=i)``: median and p99 per call (perf_counter_ns around each
   call, so the figures include ~50 ns of timer overhead), and seconds from the first call until
   ``finish()`` returned (every point durable).
2. 10,000 steps x 20 metrics: loop time, and seconds from the end of the loop until durable.
3. 1,000,000 points logged as fast as possible: peak RSS above the baseline before the loop.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil

import mltrail
from mltrail.sdk.client.connection import close_embedded_transports


def _settings(tmp: str) -> mltrail.Settings:
    return mltrail.Settings(home=Path(tmp) / "store")


def single_metric(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        run = mltrail.init(project="bench", capture=False, settings=_settings(tmp))
        costs = [0] * n
        clock = time.perf_counter_ns
        log = run.log
        gc.disable()
        first = time.perf_counter()
        for i in range(n):
            t0 = clock()
            log({"loss": 1.0 / (i + 1)}, step=i)
            costs[i] = clock() - t0
        loop = time.perf_counter() - first
        run.finish()
        durable = time.perf_counter() - first
        gc.enable()
        close_embedded_transports()
    costs.sort()
    return {
        "calls": n,
        "median_us": statistics.median(costs) / 1000,
        "p99_us": costs[int(n * 0.99)] / 1000,
        "mean_us": loop / n * 1e6,
        "first_call_to_durable_s": durable,
    }


def many_metrics(steps: int = 10_000, keys: int = 20) -> dict[str, float]:
    names = [f"metric_{k:02d}" for k in range(keys)]
    with tempfile.TemporaryDirectory() as tmp:
        run = mltrail.init(project="bench", capture=False, settings=_settings(tmp))
        start = time.perf_counter()
        for step in range(steps):
            run.log({name: step * 0.001 + k for k, name in enumerate(names)}, step=step)
        loop_end = time.perf_counter()
        run.finish()
        end = time.perf_counter()
        close_embedded_transports()
    return {
        "points": steps * keys,
        "loop_s": loop_end - start,
        "after_loop_to_durable_s": end - loop_end,
        "total_s": end - start,
    }


def writer_memory(points: int = 1_000_000) -> dict[str, float]:
    process = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        run = mltrail.init(project="bench", capture=False, settings=_settings(tmp))
        run.log({"warmup": 0.0}, step=0)
        run.flush()
        gc.collect()
        baseline = process.memory_info().rss
        peak = baseline
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, process.memory_info().rss)
                stop.wait(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        for i in range(points):
            run.log({"x": float(i)}, step=i)
        run.finish()
        elapsed = time.perf_counter() - start
        stop.set()
        sampler.join()
        peak = max(peak, process.memory_info().rss)
        close_embedded_transports()
    return {"points": points, "seconds": elapsed, "peak_above_baseline_mb": (peak - baseline) / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    results = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "single_metric": single_metric(args.n),
        "many_metrics": many_metrics(),
        "writer_memory": writer_memory(),
    }
    s, m, w = results["single_metric"], results["many_metrics"], results["writer_memory"]
    print(f"machine: {results['machine']}")
    print(
        f"1. {s['calls']:,} run.log calls: median {s['median_us']:.2f} µs, p99 {s['p99_us']:.2f} µs, "
        f"mean {s['mean_us']:.2f} µs per call; first call → durable {s['first_call_to_durable_s']:.3f} s"
    )
    print(
        f"2. {m['points']:,} points (10,000 steps x 20 metrics): loop {m['loop_s']:.3f} s, "
        f"end of loop → durable {m['after_loop_to_durable_s']:.3f} s"
    )
    print(
        f"3. {w['points']:,} points as fast as possible: {w['seconds']:.2f} s, "
        f"peak RSS {w['peak_above_baseline_mb']:.1f} MB above baseline"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
