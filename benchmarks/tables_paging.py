"""Paging a 1,000,000-row evaluation table (issue 17): ``TableService.page``, what ``GET
/runs/{run}/tables/{name}/rows`` and ``mltrail runs table`` call.

    .venv/bin/python benchmarks/tables_paging.py [--rows 1000000] [--repeat 7]

Logs one table through the SDK into an embedded store in a temp folder (an id, 8 float columns, 2 text
columns; Parquet in 2,048-row groups), then times pages of 50 rows in a fresh process state for each
case (the order cache emptied before every repetition, so each "first page" figure includes the scan of
the filter and sort columns) and the next pages of a sorted view (its order cached, as a server process
keeps it). Prints the median and the
range of the wall time of each case, the median CPU time of this process (pyarrow may use a second thread:
CPU can exceed wall), and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import mltrail
from mltrail.sdk.client.connection import embedded_transport
from mltrail.settings import Settings


def _row(label: str, times: list[float], cpu: list[float]) -> None:
    wall = f"{statistics.median(times):10.1f} {min(times):8.1f} {max(times):8.1f}"
    print(f"{label:48} {wall} {statistics.median(cpu):8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "store")
        rng = np.random.default_rng(17)
        n = args.rows
        data = {"id": np.arange(n)}
        for i in range(8):
            data[f"x{i}"] = rng.normal(size=n)
        data["city"] = rng.choice(["paris", "lyon", "nice", "lille", "metz"], n)
        data["segment"] = rng.choice([f"s{i:02d}" for i in range(40)], n)
        started = time.perf_counter()
        with mltrail.init(project="bench", capture=False, settings=settings) as run:
            table = run.log_table("eval", data)
        print(
            f"logged {n:,} rows × {len(data)} columns in {time.perf_counter() - started:.2f} s "
            f"({table.size / 1e6:.1f} MB of Parquet)"
        )
        service = embedded_transport(settings).services.tables
        cases = [
            ("first page, no filter or sort", {}),
            ("page at offset 500,000, no filter or sort", {"offset": 500_000}),
            ('filter city = "lyon" and x0 > 1', {"filter": 'city = "lyon" and x0 > 1'}),
            ("sort -x1, first page", {"sort": ["-x1"]}),
            ("sort -x1, page at offset 400,000", {"sort": ["-x1"], "offset": 400_000}),
            ("filter x2 > 0, sort segment then -x3", {"filter": "x2 > 0", "sort": ["segment", "-x3"]}),
        ]
        service.page(run.id, "eval", limit=50)  # opens (and verifies) the blob once, as a server would
        print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
        print(f"{'case':48} {'median ms':>10} {'min':>8} {'max':>8} {'CPU ms':>8}")
        for label, options in cases:
            times, cpu = [], []
            for _ in range(args.repeat):
                service.orders = type(service.orders)()  # cold: no cached order
                t0, c0 = time.perf_counter(), time.process_time()
                page = service.page(run.id, "eval", limit=50, **options)  # type: ignore[arg-type]
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            assert len(page.rows) == min(50, max(0, page.total - page.offset))
            _row(label, times, cpu)
        times, cpu = [], []
        service.page(run.id, "eval", limit=50, sort=["-x1"])
        for i in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            service.page(run.id, "eval", limit=50, sort=["-x1"], offset=50 * (i + 1))
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        label = "sort -x1, next pages (order cached)"
        _row(label, times, cpu)
        print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
