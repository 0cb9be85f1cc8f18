"""One client logging 1,000,000 points over HTTP to a local ``mltrail server`` on SQLite.

    .venv/bin/python benchmarks/http_ingest.py [--n 1000000]

Starts ``mltrail server`` on a free loopback port with a temp store, logs N points with
``run.log({"loss": x}, step=i)``, and prints the loop time, the median cost per call, and the seconds from
the first call until ``finish()`` returned (every batch acknowledged and committed by the server), then
checks the server holds exactly N points.
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

import mltrail
from mltrail.settings import Settings

OFF = {"git": False, "code": False, "environment": False, "system_metrics": False, "console": False}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    mltrail_cli = str(Path(sys.executable).with_name("mltrail"))
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                mltrail_cli,
                "--dir",
                str(Path(tmp) / "server"),
                "server",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env={**os.environ, "MLTRAIL_CAPTURE": "0"},
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start within 30 s")
                time.sleep(0.1)
            # Through a server the SDK journals every batch on disk first: keep it in the temp folder.
            settings = Settings(home=Path(tmp) / "client", journal_dir=Path(tmp) / "journal")
            run = mltrail.init(project="bench", capture=OFF, settings=settings, server=url)
            costs = []
            clock = time.perf_counter_ns
            start = time.perf_counter()
            for i in range(args.n):
                t0 = clock()
                run.log({"loss": 1.0 / (i + 1)}, step=i)
                costs.append(clock() - t0)
            loop = time.perf_counter() - start
            run.finish()
            total = time.perf_counter() - start
            stored = httpx.get(f"{url}/api/v1/runs/{run.id}").json()["metrics"]["loss"]["count"]
        finally:
            server.terminate()
            server.wait(10)
    print(
        f"{args.n:,} points over HTTP to a local server on SQLite: loop {loop:.2f} s, "
        f"median {statistics.median(costs) / 1000:.2f} µs per call, "
        f"first call → all acknowledged {total:.2f} s; server holds {stored:,} points"
    )


if __name__ == "__main__":
    main()
