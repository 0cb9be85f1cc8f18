"""``GET /projects/{p}/keys`` underneath: the distinct keys of a project's runs (``Store.project_keys``).

    .venv/bin/python benchmarks/project_keys.py                 # a SQLite file in a temp folder
    .venv/bin/python benchmarks/project_keys.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
                                                                # a throwaway database on that server

Seeds ``--runs`` runs (default 10,000), each with 20 shared params, one of 50 rarer params, a tag and 10
metrics, then times ``project_keys`` a few times (the first read warms the cache).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid

from store_queries import _database  # benchmarks/ is on sys.path when this script runs

from mltrail.entities import MetricsBatch
from mltrail.store.factory import open_store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="", help="PostgreSQL server URL (default: a new SQLite file)")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, _database(args.postgres, tmp) as url:
        _measure(url, args.runs, args.repeat)


def _measure(url: str, runs: int, repeat: int) -> None:
    store = open_store(url)
    project = f"keys-{uuid.uuid4().hex[:6]}"
    started = time.perf_counter()
    metrics = [f"m{j}" for j in range(10)]
    for i in range(runs):
        run_id = uuid.uuid4().hex
        store.create_run(run_id=run_id, project=project, name=f"r{i}", user="u", start_time=float(i))
        store.set_params(run_id, {**{f"p{j}": j for j in range(20)}, f"rare{i % 50}": 1})
        store.set_tags(run_id, {"team": "a"})
        store.log_metrics(run_id, MetricsBatch(metrics, [0] * 10, [1.0] * 10, [1.0] * 10, "c", 1))
    print(f"seeded {runs:,} runs in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
    for attempt in range(repeat):
        began = time.perf_counter()
        keys = store.project_keys(project)
        elapsed = time.perf_counter() - began
        sizes = ", ".join(f"{len(v)} {k}" for k, v in keys.items())
        print(f"project_keys #{attempt + 1}: {elapsed * 1000:.0f} ms ({sizes})")
    store.close()


if __name__ == "__main__":
    main()
