"""Spark profiling and drift at lake scale (issue 18): ``local[2]``, a current Parquet data set of 10,000,000
rows × 25 columns (20 numeric, 5 categorical; 3 numeric and 1 categorical shifted) against a 1,000,000-row
reference, through ``mltrail.drift_report(spark_df, spark_df)`` — each partition profiled in a Python worker
with ``mapInArrow``, the profiles merged on the driver.

Measured: wall time of the drift report end to end (Spark's planning, Parquet reading, the Arrow hand-over,
profiling, the merge and the tests; the SparkSession is started before, as a job's would be); the peak
resident memory of the driver — the Python driver process plus its JVM (in ``local`` mode the JVM also runs
the executors' Parquet reading) — and, apart, of the Python workers, sampled every 100 ms with psutil. Then
the same findings are checked against the in-process report (``profile_batches``) on a sample: the first
1,000,000 rows of the current data against the reference.

    .venv/bin/python benchmarks/spark_profile.py [--dir /tmp/mltrail-spark-bench] [--rows 10000000]
        [--spark-defaults | --driver-memory 480m --java-options="..."]

The driver runs with ``mltrail.spark.DRIVER_1GB`` unless ``--spark-defaults`` (a 512 MB heap under G1).

Heavy (≈2 GB of Parquet, two cores busy for a minute): run it by hand, not in the test suite.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

NUMERIC, CATEGORICAL = 20, 5
SHIFTED_NUMERIC = ("num_00", "num_07", "num_13")
SHIFTED_CATEGORICAL = ("cat_2",)
LABELS = np.array([f"v{i:02d}" for i in range(12)])
CHUNK = 1_000_000


def _chunk(n: int, rng: np.random.Generator, *, current: bool) -> pa.Table:
    columns: dict[str, Any] = {}
    for i in range(NUMERIC):
        name = f"num_{i:02d}"
        shift = 0.5 if current and name in SHIFTED_NUMERIC else 0.0
        values = rng.normal(shift, 1.0, n) if i % 2 == 0 else rng.lognormal(shift, 0.6, n)
        columns[name] = values
    for i in range(CATEGORICAL):
        name = f"cat_{i}"
        weights = np.linspace(1.0, 2.0, len(LABELS))
        if current and name in SHIFTED_CATEGORICAL:
            weights = weights[::-1] ** 2
        codes = rng.choice(len(LABELS), n, p=weights / weights.sum()).astype(np.int32)
        columns[name] = pa.DictionaryArray.from_arrays(codes, pa.array(LABELS)).cast(pa.string())
    return pa.table(columns)


ROW_GROUP = 131_072


def generate(folder: Path, rows: int, seed: int, *, current: bool) -> None:
    """``rows`` rows as Parquet files of ``CHUNK`` rows each (written once; reused when present)."""
    files = [pq.ParquetFile(f).metadata for f in folder.glob("*.parquet")] if folder.exists() else []
    if sum(m.num_rows for m in files) == rows and all(
        m.row_group(g).num_rows <= ROW_GROUP for m in files for g in range(m.num_row_groups)
    ):
        return
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    rng = np.random.default_rng(seed)
    for i, start in enumerate(range(0, rows, CHUNK)):
        table = _chunk(min(CHUNK, rows - start), rng, current=current)
        # Row groups of 128k rows, as lake writers use: Spark's reader holds a whole row group per task, and
        # pyarrow's default (one group per 1M-row file, 168 MB) ran the 512 MB driver JVM out of heap.
        pq.write_table(
            table, folder / f"part-{i:04d}.parquet", compression="snappy", row_group_size=ROW_GROUP
        )


def _generate_both(ref_dir: Path, reference_rows: int, cur_dir: Path, rows: int) -> None:
    generate(ref_dir, reference_rows, 1, current=False)
    generate(cur_dir, rows, 2, current=True)


class PeakMemory:
    """Peak RSS, sampled every 100 ms: this process plus its JVM (the driver), and the Python workers."""

    def __init__(self) -> None:
        self.driver = self.workers = self.python = self.jvm = 0  # python, jvm: each one's own peak
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            driver = workers = python = jvm = 0
            try:
                driver = python = me.memory_info().rss
                for child in me.children(recursive=True):
                    info = child.memory_info().rss
                    if "java" in child.name():
                        driver += info
                        jvm += info
                    elif "python" in child.name():
                        workers += info
            except psutil.Error:
                pass
            self.python, self.jvm = max(self.python, python), max(self.jvm, jvm)
            self.driver = max(self.driver, driver)
            self.workers = max(self.workers, workers)
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mltrail-spark-bench"))
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--reference-rows", type=int, default=1_000_000)
    parser.add_argument("--driver-memory", help="spark.driver.memory (default: mltrail.spark.DRIVER_1GB's)")
    parser.add_argument("--java-options", help="spark.driver.extraJavaOptions (default: DRIVER_1GB's)")
    parser.add_argument(
        "--spark-defaults", action="store_true", help="Spark's own driver settings (512m, G1), not DRIVER_1GB"
    )
    parser.add_argument(
        "--malloc-arena-max", type=int, help="MALLOC_ARENA_MAX for the JVM (glibc's arenas for its threads)"
    )
    args = parser.parse_args()
    ref_dir, cur_dir = args.dir / "reference", args.dir / "current"
    began = time.perf_counter()
    # In a process of its own: a job's driver does not make its data, and the ~250 MiB this one would keep
    # after generating it are not the job's.
    maker = multiprocessing.get_context("spawn").Process(
        target=_generate_both, args=(ref_dir, args.reference_rows, cur_dir, args.rows)
    )
    maker.start()
    maker.join()
    if maker.exitcode != 0:
        raise SystemExit(f"generating the data failed (exit code {maker.exitcode})")
    print(f"data: {time.perf_counter() - began:.1f} s ({args.rows:,} + {args.reference_rows:,} rows)")

    os.environ["PYSPARK_PYTHON"] = sys.executable
    if args.malloc_arena_max:
        os.environ["MALLOC_ARENA_MAX"] = str(args.malloc_arena_max)  # inherited by the JVM Spark starts
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    import mltrail
    from mltrail.spark import DRIVER_1GB

    conf = {"spark.driver.memory": "512m"} if args.spark_defaults else dict(DRIVER_1GB)
    if args.driver_memory:
        conf["spark.driver.memory"] = args.driver_memory
    if args.java_options is not None:
        conf["spark.driver.extraJavaOptions"] = args.java_options

    started = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("mltrail-bench")
        .config("spark.ui.enabled", "false")
        .config(map=conf)
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    print(f"SparkSession: {time.perf_counter() - started:.1f} s ({conf})")

    with PeakMemory() as memory:
        t0 = time.perf_counter()
        report = mltrail.drift_report(spark.read.parquet(str(ref_dir)), spark.read.parquet(str(cur_dir)))
        wall = time.perf_counter() - t0
    partitions = spark.read.parquet(str(cur_dir)).rdd.getNumPartitions()
    spark.stop()
    print(
        f"profile + drift report, Spark local[2]: {wall:.1f} s ({args.rows / wall:,.0f} rows/s;"
        f" {partitions} partitions)"
    )
    print(
        f"peak RSS: driver python + JVM {memory.driver / 2**20:.0f} MiB (each alone: python"
        f" {memory.python / 2**20:.0f}, JVM {memory.jvm / 2**20:.0f});"
        f" Python workers {memory.workers / 2**20:.0f} MiB"
    )
    print(f"drifted: {', '.join(report.drifted_columns)}")

    sample = pq.ParquetFile(sorted(cur_dir.glob("*.parquet"))[0]).read()
    t0 = time.perf_counter()
    local = mltrail.drift_report(str(ref_dir), sample)
    print(
        f"in-process report on a {sample.num_rows:,}-row sample: {time.perf_counter() - t0:.1f} s; drifted: "
        f"{', '.join(local.drifted_columns)}"
    )
    expected = sorted([*SHIFTED_NUMERIC, *SHIFTED_CATEGORICAL])
    same = sorted(report.drifted_columns) == sorted(local.drifted_columns) == expected
    print(f"same findings (the shifted columns {', '.join(expected)}): {same}")


if __name__ == "__main__":
    main()
