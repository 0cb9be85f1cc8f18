"""Run search over 10,000 runs through the API (target: p50 ≤ 100 ms per page of 100 runs).

    .venv/bin/python benchmarks/api_search.py [--runs 10000] [--repeat 50] [--postgres URL]

Seeds N runs × (10 params, 5 metrics × 3 points, 3 tags) into a temp SQLite file (or a throwaway
PostgreSQL database made from URL and dropped afterwards) through the store API, starts a real
``mltrail server`` process on it, and times ``--repeat`` calls of each of several realistic
``GET /api/v1/runs?project=…&filter=…&sort=…&limit=100`` queries with httpx (each call once more
beforehand to warm up), printing p50/p95 per query and how many runs matched.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import sqlalchemy as sa
from http_concurrent import percentile, serve, throwaway_database

from mltrail.entities import MetricsBatch, RunStatus
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

PROJECT = "search-bench"
QUERIES: list[tuple[str, dict[str, str]]] = [
    ("no filter (newest first)", {}),
    ("param filter", {"filter": 'params.lr < 0.01 and params.optimizer = "adam"'}),
    (
        "metric comparison, sorted by the metric",
        {"filter": "metrics.val/acc >= 0.9", "sort": "-metrics.val/acc"},
    ),
    ("tag contains, sorted by a param", {"filter": 'tags.team contains "vis"', "sort": "params.batch_size"}),
    (
        "min() of a metric and a status, sorted by duration",
        {"filter": 'min(metrics.loss) < 0.2 and status = "finished"', "sort": "-duration"},
    ),
]


def seed_run(store: SqlStore, i: int) -> None:
    """Run number ``i``: the same params, tags and metrics on every machine (seeded by ``i``)."""
    rng = random.Random(i)
    start = 1.7e9
    run_id = uuid.UUID(int=rng.getrandbits(128)).hex
    params = {
        "lr": rng.choice([0.0001, 0.001, 0.003, 0.01, 0.03, 0.1]),
        "optimizer": rng.choice(["adam", "adamw", "sgd"]),
        "batch_size": rng.choice([16, 32, 64, 128, 256]),
        "epochs": rng.randint(1, 100),
        "dropout": round(rng.random() * 0.5, 3),
        "model": rng.choice(["resnet18", "resnet50", "vit-b", "bert-base"]),
        "weight_decay": rng.choice([0.0, 1e-4, 1e-2]),
        "seed": i,
        "augment": rng.random() < 0.5,
        "warmup_steps": rng.choice([0, 100, 1000]),
    }
    tags = {
        "team": rng.choice(["vision", "nlp", "speech", "revision-tools"]),
        "stage": rng.choice(["dev", "prod"]),
        "owner": f"user{rng.randint(1, 40)}",
    }
    store.create_run(
        run_id=run_id,
        project=PROJECT,
        name=f"run-{i}",
        user=tags["owner"],
        start_time=start + i * 60,
        params=params,
        tags=tags,
    )
    keys, steps, values = [], [], []
    for key in ("loss", "val/loss", "acc", "val/acc", "lr_now"):
        for step in range(3):
            keys.append(key)
            steps.append(step)
            values.append(rng.random())
    store.log_metrics(run_id, MetricsBatch(keys, steps, values, [start + i * 60 + s for s in steps]))
    if rng.random() < 0.8:
        store.update_run(run_id, status=RunStatus.FINISHED, end_time=start + i * 60 + rng.random() * 3600)


def seed(db_url: str, runs: int, threads: int) -> None:
    store = open_store(db_url)
    try:
        with ThreadPoolExecutor(threads) as pool:
            for job in [pool.submit(seed_run, store, i) for i in range(runs)]:
                job.result()
    finally:
        store.close()
    if db_url.startswith("postgresql"):
        # This machine's PostgreSQL runs with autovacuum off (a CI setting); a server's would analyze the
        # tables after such a bulk load, and the planner needs those statistics.
        engine = sa.create_engine(db_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
        engine.dispose()


@contextlib.contextmanager
def database(postgres: str, tmp: str) -> Iterator[str]:
    if postgres:
        with throwaway_database(postgres) as url:
            yield url
    else:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument(
        "--postgres",
        default="",
        help="URL of a PostgreSQL server's maintenance database; a throwaway database is created there"
        " and dropped afterwards (default: a temp SQLite file)",
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, database(args.postgres, tmp) as db_url:
        seed_start = time.perf_counter()
        seed(db_url, args.runs, threads=4 if args.postgres else 1)
        seed_s = time.perf_counter() - seed_start
        with (
            serve(db_url, Path(tmp) / "server") as url,
            httpx.Client(base_url=f"{url}/api/v1", timeout=60) as http,
        ):
            for label, extra in QUERIES:
                params = {"project": PROJECT, "limit": "100", **extra}
                first = http.get("/runs", params=params)
                first.raise_for_status()
                samples = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    http.get("/runs", params=params).raise_for_status()
                    samples.append((time.perf_counter() - t0) * 1000)
                samples.sort()
                page = first.json()
                rows.append((label, extra, page["total"], len(page["runs"]), samples))
    dialect = db_url.split(":", 1)[0].split("+", 1)[0]
    shape = "10 params, 5 metrics x 3 points, 3 tags"
    print(f"{args.runs:,} runs ({shape}) on {dialect}, seeded in {seed_s:.0f} s;")
    print(f"GET /api/v1/runs?project=…&limit=100 through a real server, {args.repeat} calls each:")
    for label, extra, total, returned, samples in rows:
        query = " ".join(f"{k}={v}" for k, v in extra.items()) or "-"
        print(
            f"  {label}: p50 {statistics.median(samples):.1f} ms, p95 {percentile(samples, 95):.1f} ms"
            f" ({returned} of {total:,} matches)  [{query}]"
        )


if __name__ == "__main__":
    main()
