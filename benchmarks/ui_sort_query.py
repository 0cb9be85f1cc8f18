"""The runs table's sort on a metric, server side: ``search_runs`` and the page's JSON over the 10,000 runs.

    .venv/bin/python benchmarks/ui_sort_query.py --data /tmp/uibench-data [--repeat 30]

Reads the store ``ui_speed.py`` seeded (``--data``, project ``ui-10k``) and times, in this process, a
first page (100 runs, as the UI asks) sorted by ``-metrics.val/acc``, by ``metrics.val/acc``, by
``-max(metrics.val/acc)`` and newest first (no sort), each as the store's ``search_runs`` alone and as
the route's answer (the page turned into its JSON body). Prints the median and max of ``--repeat`` turns
(the kinds interleaved) and the load average. Run it with another checkout's code (``PYTHONPATH=…/src``)
on a copy of the store at that checkout's schema to compare builds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from mltrail.api.tracking.schemas import RunPagePublic
from mltrail.entities import SortKey
from mltrail.store.factory import open_store

PROJECT = "ui-10k"
CASES: dict[str, list[SortKey]] = {
    "sort -metrics.val/acc": [SortKey("metrics.val/acc", descending=True)],
    "sort metrics.val/acc": [SortKey("metrics.val/acc")],
    "sort -max(metrics.val/acc)": [SortKey("metrics.val/acc", descending=True, agg="max")],
    "newest first (no sort)": [],
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="/tmp/uibench-data")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    store = open_store(f"sqlite:///{Path(args.data) / 'mltrail' / 'mltrail.db'}")
    print(f"ui_sort_query: load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}")
    times: dict[str, list[float]] = {f"{name} {part}": [] for name in CASES for part in ("store", "JSON")}

    def timed(label: str, fn: Callable[[], object]) -> object:
        t0 = time.perf_counter()
        out = fn()
        times[label].append((time.perf_counter() - t0) * 1000)
        return out

    try:
        for rep in range(args.repeat + 1):
            for name, sort in CASES.items():
                page = timed(
                    f"{name} store", lambda s=sort: store.search_runs(PROJECT, sort=s, limit=args.limit)
                )
                timed(f"{name} JSON", lambda p=page: RunPagePublic.of(p).model_dump_json())  # type: ignore[attr-defined]
            if rep == 0:  # the first turn warms caches and is not counted
                for values in times.values():
                    values.clear()
    finally:
        store.close()
    for label, values in times.items():
        median = statistics.median(values)
        print(f"  {label}: median {median:.1f} ms, max {max(values):.1f} ms ({len(values)} turns)")
    print(f"  load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
