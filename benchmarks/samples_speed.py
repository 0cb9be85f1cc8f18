"""``mltrail runs samples A B --table val`` for two 1,000,000-row prediction tables with 10 slice columns
(issue 17), timed as a whole process (interpreter start, imports, store, reading, join, figures, JSON out).

    .venv/bin/python benchmarks/samples_speed.py [--rows 1000000] [--repeat 5] [--shuffled]

Logs the two tables through the SDK, in a process of its own, into an embedded store in a temp folder (a
3-class classifier with probabilities; run b is worse on one city and one age band; 4 categorical and 6
numeric features), then
runs the CLI ``--repeat`` times in new processes and prints the median and range of the wall time and of the
CPU time (user + system), with the load average.
Slices: every feature alone and every pair of them (10 + 45 column sets, 10 quantile bins each).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import mltrail
from mltrail.settings import Settings


def _features(rng: np.random.Generator, n: int) -> dict[str, object]:
    return {
        "city": rng.choice(["paris", "lyon", "nice", "lille", "metz", "brest"], n),
        "device": rng.choice(["ios", "android", "web"], n),
        "plan": rng.choice(["free", "basic", "pro"], n),
        "country": rng.choice([f"c{i}" for i in range(20)], n),
        **{f"num{i}": rng.normal(size=n) for i in range(5)},
        "age": rng.integers(18, 90, n),
    }


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes: on a shared, loaded machine the wall time
    measures the queue for the cores as much as the work."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def log_tables(home: Path, n: int, shuffled: bool) -> list[str]:
    """Log the two prediction tables into the store at ``home``; their run ids."""
    settings = Settings(home=home)
    rng = np.random.default_rng(17)
    features = _features(rng, n)
    truth = rng.integers(0, 3, n)
    ids = rng.permutation(n)
    run_ids = []
    for worse in (False, True):
        noise = rng.random(n) < 0.1
        if worse:
            noise |= (features["city"] == "lyon") & (rng.random(n) < 0.3)
            noise |= (features["age"] > 70) & (rng.random(n) < 0.2)  # type: ignore[operator]
        pred = np.where(noise, (truth + rng.integers(1, 3, n)) % 3, truth)
        proba = rng.dirichlet([1, 1, 1], n) * 0.5
        proba[np.arange(n), pred] += 0.5
        # --shuffled: run b's table in another row order (a hash join of the ids); else both tables
        # list the same evaluation set in one order (the join is skipped)
        order = rng.permutation(n) if worse and shuffled else np.arange(n)
        with mltrail.init(project="bench", capture=False, settings=settings) as run:
            run.log_predictions(
                "val",
                ids[order],
                truth[order],
                pred[order],
                proba=proba[order],
                features={k: v[order] for k, v in features.items()},  # type: ignore[index]
            )
        run_ids.append(run.id)
    return run_ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--shuffled", action="store_true", help="run b's rows in another order")
    parser.add_argument("--log-into", type=Path, help=argparse.SUPPRESS)  # the child that logs the tables
    args = parser.parse_args()
    n = args.rows
    if args.log_into:
        print(" ".join(log_tables(args.log_into, n, args.shuffled)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        started = time.perf_counter()
        # The tables are made and logged in a process of its own: the timed commands do not share the
        # machine's memory with this one's arrays.
        child = [sys.executable, __file__, "--rows", str(n), "--log-into", str(home)]
        logged = subprocess.run([*child, *(["--shuffled"] if args.shuffled else [])], capture_output=True)
        if logged.returncode != 0:
            raise SystemExit(logged.stderr.decode())
        run_ids = logged.stdout.decode().split()
        print(f"logged two tables of {n:,} rows in {time.perf_counter() - started:.1f} s")
        # Bytecode as an installed package has it (pip compiles it when installing): a shell with
        # PYTHONDONTWRITEBYTECODE=1 would otherwise compile every mltrail module again in each run.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["MLTRAIL_DIR"] = str(home)
        mltrail_cli = str(Path(sys.executable).with_name("mltrail"))  # the console script beside this Python
        command = [mltrail_cli, "runs", "samples", *run_ids, "--table", "val"]
        command.append("--json")
        times, cpu = [], []
        print(f"load average before {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
        for _ in range(args.repeat + 1):  # the first run warms the file cache, not counted
            t0, used = time.perf_counter(), _children_cpu()
            done = subprocess.run(command, env=env, capture_output=True, check=False)
            times.append(time.perf_counter() - t0)
            cpu.append(_children_cpu() - used)
            if done.returncode != 0:
                raise SystemExit(done.stderr.decode())
        counted, cpu = times[1:], cpu[1:]
        print(
            f"runs samples, whole process: wall median {statistics.median(counted):.2f} s "
            f"(min {min(counted):.2f}, max {max(counted):.2f}, {len(counted)} runs); CPU (user + sys) "
            f"median {statistics.median(cpu):.2f} s (min {min(cpu):.2f}, max {max(cpu):.2f})"
        )
        print(f"load average after {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
        print(done.stdout.decode()[:600])


if __name__ == "__main__":
    main()
