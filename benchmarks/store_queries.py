"""Query speed of the store: run search over 1,000 runs and metric history reads.

    .venv/bin/python benchmarks/store_queries.py [--postgres URL]

Seeds 1,000 runs x (20 params, 5 metrics x 100 steps) into a fresh SQLite file (or a throwaway
PostgreSQL database),
then prints p50/p95 over repeated calls of:
- a filtered and sorted search (``params.lr < 0.1 and metrics.acc >= 0.9``, sorted by -metrics.acc, 50 rows),
- a 100,000-point metric history, full and downsampled to 1,000 points (min/max per bucket).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa

from mltrail.entities import MetricsBatch, SortKey
from mltrail.query import parse_filter
from mltrail.services.tracking.service import TrackingService
from mltrail.store.factory import open_store


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm caches
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


@contextlib.contextmanager
def _database(postgres: str, tmp: str) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"mltrail_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres",
        default="",
        help="URL of a PostgreSQL server's maintenance database (e.g. postgresql+psycopg://postgres@127.0.0.1/test);"
        " a throwaway database is created there and dropped afterwards",
    )
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, _database(args.postgres, tmp) as url:
        store = open_store(url)
        tracking = TrackingService(store)
        project = f"bench-{uuid.uuid4().hex[:6]}"
        rng = random.Random(0)
        seed_start = time.perf_counter()
        for r in range(args.runs):
            run_id = uuid.uuid4().hex
            params = {f"p{k:02d}": rng.random() for k in range(18)}
            params.update(
                {"lr": rng.choice([0.001, 0.01, 0.05, 0.1, 0.5]), "optimizer": rng.choice(["adam", "sgd"])}
            )
            tracking.start_run(run_id=run_id, project=project, name=f"run-{r}", user="bench", config=params)
            keys, steps, values, walls = [], [], [], []
            for key in ("acc", "loss", "f1", "auc", "val_loss"):
                for step in range(100):
                    keys.append(key)
                    steps.append(step)
                    values.append(rng.random())
                    walls.append(time.time())
            store.log_metrics(run_id, MetricsBatch(keys=keys, steps=steps, values=values, wall_times=walls))
        seed_s = time.perf_counter() - seed_start
        expr = parse_filter("params.lr < 0.1 and metrics.acc >= 0.9")
        sort = [SortKey(field="metrics.acc", descending=True)]
        search_p50, search_p95 = timed(lambda: store.search_runs(project, expr, sort, 0, 50), 30)
        total = store.search_runs(project, expr, sort, 0, 50).total

        big = uuid.uuid4().hex
        tracking.start_run(run_id=big, project=project, name="long", user="bench")
        n = 100_000
        store.log_metrics(
            big,
            MetricsBatch(
                keys=["loss"] * n,
                steps=list(range(n)),
                values=[rng.random() for _ in range(n)],
                wall_times=[0.0] * n,
            ),
        )
        full_p50, full_p95 = timed(lambda: tracking.metric_history(big, "loss"), 15)
        down_p50, down_p95 = timed(lambda: tracking.metric_history(big, "loss", max_points=1000), 15)
        returned = len(tracking.metric_history(big, "loss", max_points=1000).steps)
        store.close()
    dialect = url.split(":", 1)[0]
    print(f"store: {dialect}; seeded {args.runs} runs x (20 params, 5 metrics x 100 steps) in {seed_s:.1f} s")
    print(f"search (filter + sort, 50 of {total} matches): p50 {search_p50:.1f} ms, p95 {search_p95:.1f} ms")
    print(f"history of 100,000 points: p50 {full_p50:.1f} ms, p95 {full_p95:.1f} ms")
    print(
        f"history downsampled to at most 1,000 points ({returned} returned): "
        f"p50 {down_p50:.1f} ms, p95 {down_p95:.1f} ms"
    )


if __name__ == "__main__":
    main()
