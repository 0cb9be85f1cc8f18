"""Run search with long filters: how the time grows with the number of terms (PostgreSQL's planner).

    .venv/bin/python benchmarks/long_filters.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/long_filters.py --postgres URL --reorder   # as before the fix

Seeds 500 runs x 20 params into a throwaway PostgreSQL database (or a SQLite file without --postgres) and
times ``TrackingService.search_runs`` once per filter: N ``and`` comparisons (``params.pXX >= -1``), N ``and``
``exists`` terms and N ``or`` ``exists`` terms, N in 5, 40, 100 (the most a filter may hold). Every run
matches every filter, so each answer is the whole project. ``--reorder`` lets PostgreSQL reorder the
semi-joins whatever the filter's length (``join_collapse_limit`` left at its default), as before the
store planned long filters in the order written.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid

from store_queries import _database  # benchmarks/ is on sys.path when this script runs

from mltrail.query import parse_filter
from mltrail.services.tracking.service import TrackingService
from mltrail.store.factory import open_store
from mltrail.store.sql import search

PARAMS = 20


def filters(terms: int) -> dict[str, str]:
    keys = [f"params.p{k % PARAMS:02d}" for k in range(terms)]
    return {
        "and comparisons": " and ".join(f"{key} >= -1" for key in keys),
        "and exists": " and ".join(f"{key} exists" for key in keys),
        "or exists": " or ".join(f"{key} exists" for key in keys),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default="", help="URL of a PostgreSQL server's maintenance database")
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--terms", type=int, nargs="+", default=[5, 40, 100])
    parser.add_argument("--reorder", action="store_true", help="let the planner reorder any filter (before)")
    args = parser.parse_args()
    if args.reorder:
        search.COLLAPSE_ABOVE = 10**9
    with tempfile.TemporaryDirectory() as tmp, _database(args.postgres, tmp) as url:
        store = open_store(url)
        tracking = TrackingService(store)
        project = f"bench-{uuid.uuid4().hex[:6]}"
        rng = random.Random(0)
        for r in range(args.runs):
            params = {f"p{k:02d}": rng.random() for k in range(PARAMS)}
            tracking.start_run(
                run_id=uuid.uuid4().hex, project=project, name=f"run-{r}", user="b", config=params
            )
        dialect = url.split(":", 1)[0]
        planning = (
            "reordered freely" if args.reorder else f"in the order written past {search.COLLAPSE_ABOVE} terms"
        )
        print(f"store: {dialect}; {args.runs} runs x {PARAMS} params; long filters planned {planning}")
        for terms in args.terms:
            for kind, text in filters(terms).items():
                expr = parse_filter(text)
                start = time.perf_counter()
                found = tracking.search_runs(project, expr, limit=50).total
                seconds = time.perf_counter() - start
                print(f"{terms:>4} terms, {kind:<16} {seconds:8.2f} s  ({found} runs match)")
        store.close()


if __name__ == "__main__":
    main()
