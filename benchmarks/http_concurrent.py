"""16 concurrent clients, each a run logging 100,000 points, against one ``mltrail server`` on PostgreSQL.

    .venv/bin/python benchmarks/http_concurrent.py --postgres URL \
        [--clients 16] [--points 100000] [--batch 5000]

Creates a throwaway database on the PostgreSQL server at URL (dropped afterwards) and starts one real
``mltrail server`` process on it. Each client is a separate process (so the GIL does not serialize them)
with its own ``HttpTransport`` and run; all start at once and send their points in batches of ``--batch``
(client id + sequence number, as the SDK's writer does), timing every ``log_metrics`` call (JSON encoding
and gzip included). Prints the aggregate points/s from the first batch sent to the last acknowledged, the
per-batch latency p50/p95/p99/max, and checks through the store that every (run, key, step) is present
exactly once and that the total is clients × points.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path

import httpx
import sqlalchemy as sa

from mltrail.entities import MetricsBatch
from mltrail.sdk.tracking.http import HttpTransport
from mltrail.store.factory import open_store

KEY = "loss"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def throwaway_database(postgres: str, prefix: str = "mltrail_bench") -> Iterator[str]:
    """A new database on the server of ``postgres`` (any database URL there), migrated; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = sa.make_url(postgres).set(database=name).render_as_string(hide_password=False)
        open_store(url).close()  # migrate, as `mltrail db upgrade` does
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextlib.contextmanager
def serve(db_url: str, home: Path) -> Iterator[str]:
    """``mltrail server --db DB_URL`` on a free loopback port (auth off, as on loopback by default)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cli = str(Path(sys.executable).with_name("mltrail"))
    command = [
        cli,
        "--dir",
        str(home),
        "server",
        "--db",
        db_url,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env={**os.environ, "MLTRAIL_CAPTURE": "0"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(30)


def percentile(sorted_ms: list[float], q: float) -> float:
    """The nearest-rank percentile of an ascending list."""
    return sorted_ms[min(len(sorted_ms) - 1, max(0, round(q / 100 * len(sorted_ms)) - 1))]


def _client(
    url: str, project: str, index: int, points: int, batch: int, barrier: Barrier
) -> dict[str, object]:
    """One client process: its own run, ``points`` points of KEY in batches; returns timings."""
    with HttpTransport(url, timeout=300) as transport:
        run = transport.create_run(
            run_id=uuid.uuid4().hex,
            project=project,
            name=f"client-{index}",
            user="bench",
            config={"client": index},
            tags={},
            notes=None,
            context={},
            start_time=time.time(),
        )
        client_id = uuid.uuid4().hex
        batches = [
            MetricsBatch(
                keys=[KEY] * len(steps),
                steps=list(steps),
                values=[1.0 / (step + 1) + index for step in steps],
                wall_times=[1.7e9 + step * 1e-3 for step in steps],
                client_id=client_id,
                seq=seq,
            )
            for seq, steps in enumerate(range(s, min(s + batch, points)) for s in range(0, points, batch))
        ]
        barrier.wait()
        started = time.time()
        latencies = []
        for item in batches:
            t0 = time.perf_counter()
            transport.log_metrics(run.id, item)
            latencies.append((time.perf_counter() - t0) * 1000)
        return {"run": run.id, "start": started, "end": time.time(), "latencies": latencies}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres",
        required=True,
        help="URL of a PostgreSQL server's maintenance database (e.g. postgresql+psycopg://postgres@127.0.0.1/postgres);"
        " a throwaway database is created there and dropped afterwards",
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--points", type=int, default=100_000, help="points per client (one run each)")
    parser.add_argument("--batch", type=int, default=5000, help="points per log_metrics call")
    args = parser.parse_args()
    project = f"bench-{uuid.uuid4().hex[:6]}"
    context = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory() as tmp,
        throwaway_database(args.postgres) as db_url,
        serve(db_url, Path(tmp) / "server") as url,
    ):
        with context.Manager() as manager, context.Pool(args.clients) as pool:
            barrier = manager.Barrier(args.clients)
            jobs = [
                pool.apply_async(_client, (url, project, i, args.points, args.batch, barrier))
                for i in range(args.clients)
            ]
            results = [job.get(timeout=3600) for job in jobs]
        store = open_store(db_url, migrate=False)
        try:
            total = 0
            for result in results:
                history = store.get_metric_history(str(result["run"]), KEY)
                summary = store.get_run(str(result["run"])).metrics[KEY]
                if history.steps != list(range(args.points)) or summary.count != args.points:
                    raise SystemExit(
                        f"run {result['run']}: {len(history.steps)} points, {len(set(history.steps))}"
                        f" distinct steps, summary count {summary.count}; expected {args.points} exactly once"
                    )
                total += len(history.steps)
        finally:
            store.close()
    if total != args.clients * args.points:
        raise SystemExit(f"the store holds {total} points, expected {args.clients * args.points}")
    elapsed = max(float(r["end"]) for r in results) - min(float(r["start"]) for r in results)  # type: ignore[arg-type]
    latencies = sorted(ms for r in results for ms in r["latencies"])  # type: ignore[attr-defined]
    print(
        f"{args.clients} clients x {args.points:,} points in batches of {args.batch:,}, one server on"
        f" PostgreSQL: {total:,} points present exactly once"
    )
    print(
        f"aggregate: {total / elapsed:,.0f} points/s ({elapsed:.1f} s from the first batch to the last ack)"
    )
    print(
        f"batch latency ({len(latencies)} batches): p50 {statistics.median(latencies):.0f} ms, "
        f"p95 {percentile(latencies, 95):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, "
        f"max {latencies[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
