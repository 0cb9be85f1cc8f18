"""The MLflow client logging 100,000 points with ``log_batch`` into ``mltrail server`` and into
``mlflow server``, both on SQLite on this machine, interleaved in one session.

    .venv/bin/python benchmarks/mlflow_log_batch.py [--n 100000] [--rounds 3]

MLflow (server and client) comes from ``.bench-venv`` beside the repo (``python -m venv .bench-venv &&
.bench-venv/bin/pip install mlflow==3.17.2``; never a project dependency). Each round times, for each server
in turn, one run receiving N points as ``MlflowClient.log_batch`` calls of 1,000 metrics (MLflow's limit per
request), then checks the server holds N points. Prints each time, the medians, their ratio and the load
average. Target (issue 16): mltrail ≥ 3× faster.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
BENCH_PYTHON = REPO / ".bench-venv" / "bin" / "python"
MLTRAIL = str(Path(sys.executable).parent / "mltrail")
CLIENT = """
import sys, time
from mlflow import MlflowClient
from mlflow.entities import Metric
n = int(sys.argv[1])
client = MlflowClient()
experiment = client.create_experiment(f"bench-{time.time_ns()}")
run = client.create_run(experiment).info.run_id
now = int(time.time() * 1000)
began = time.perf_counter()
for start in range(0, n, 1000):
    points = [Metric("loss", 1.0 / (i + 1), now + i, i) for i in range(start, min(n, start + 1000))]
    client.log_batch(run, metrics=points)
seconds = time.perf_counter() - began
points = len(client.get_metric_history(run, "loss"))
print(seconds, points, run)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not BENCH_PYTHON.exists():
        sys.exit(
            f"no {BENCH_PYTHON}: python -m venv .bench-venv && .bench-venv/bin/pip install mlflow==3.17.2"
        )
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = free_port(), free_port()
        servers = {
            "mltrail": subprocess.Popen(
                [MLTRAIL, "--dir", f"{tmp}/mltrail", "server", "--port", str(ours), "--log-level", "warning"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            "mlflow": subprocess.Popen(
                [
                    str(BENCH_PYTHON),
                    "-m",
                    "mlflow",
                    "server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(theirs),
                    "--backend-store-uri",
                    f"sqlite:///{tmp}/mlflow.db",
                    "--workers",
                    "1",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=tmp,
            ),
        }
        urls = {"mltrail": f"http://127.0.0.1:{ours}", "mlflow": f"http://127.0.0.1:{theirs}"}
        try:
            wait(f"{urls['mltrail']}/api/v1/health", servers["mltrail"], "mltrail server")
            wait(f"{urls['mlflow']}/health", servers["mlflow"], "mlflow server")
            times: dict[str, list[float]] = {"mltrail": [], "mlflow": []}
            for round_ in range(args.rounds):
                order = ("mltrail", "mlflow") if round_ % 2 == 0 else ("mlflow", "mltrail")
                for name in order:
                    env = {**os.environ, "MLFLOW_TRACKING_URI": urls[name]}
                    load = os.getloadavg()[0]
                    out = subprocess.run(
                        [str(BENCH_PYTHON), "-c", CLIENT, str(args.n)],
                        env=env,
                        capture_output=True,
                        text=True,
                        check=True,
                        cwd=tmp,
                    ).stdout.split()
                    seconds, points = float(out[0]), int(out[1])
                    assert points == args.n, f"{name} holds {points} points, not {args.n}"
                    times[name].append(seconds)
                    print(
                        f"round {round_ + 1} {name:8s} {seconds:7.2f} s  ({args.n:,} points, load {load:.1f})"
                    )
            ours_median, theirs_median = (
                statistics.median(times["mltrail"]),
                statistics.median(times["mlflow"]),
            )
            print(
                f"median: mltrail {ours_median:.2f} s, mlflow {theirs_median:.2f} s:"
                f" mltrail {theirs_median / ours_median:.1f}x faster"
            )
            print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        finally:
            for process in servers.values():
                process.terminate()
                process.wait(20)


if __name__ == "__main__":
    main()
