"""The job of ``spark_profile.py`` (issue 18) done with whylogs' Spark profiling, for scale: the same Parquet
files (``generate`` imported from ``spark_profile.py``: a current data set of 10,000,000 rows × 25 columns,
num_00, num_07, num_13 and cat_2 shifted, against a 1,000,000-row reference), the same ``local[2]`` session
settings (``spark.driver.memory`` 512m, UI off), the same memory sampling (``PeakMemory`` imported).

whylogs' way: ``whylogs.api.pyspark.experimental.collect_dataset_profile_view`` profiles each DataFrame —
``mapInPandas`` runs ``why.log`` on every Arrow batch in the Python workers and serialises one column profile
per batch, a ``groupby(col_name).applyInPandas`` merges them, the driver collects one view per column — then
``whylogs.viz.drift.column_drift_algorithms.calculate_drift_scores(current_view, reference_view,
with_thresholds=True)`` compares the two views (KS on the KLL sketches of numeric columns, chi-square on the
frequent items of the others); a column counts as drifted when its category is ``DRIFT`` (p < 0.05).

Measured, as ``spark_profile.py`` does: wall time of both profiles plus the drift scores (the SparkSession
started before), and the peak RSS of the Python driver plus its JVM and, apart, of the Python workers, sampled
every 100 ms with psutil. Then, as there, the comparison is repeated without Spark (``why.log`` in-process on
the reference and the first 1,000,000 current rows) to tell whylogs' tests from its Spark path.

whylogs is never a project dependency: it runs in a throwaway venv beside the repo (Python 3.11, Java 17):

    python3.11 -m venv /work/whylogs-venv
    /work/whylogs-venv/bin/pip install "whylogs[viz]==1.6.4" "pyspark==4.3.0" "pandas<3" pyarrow psutil numpy
    nice -n 10 /work/whylogs-venv/bin/python benchmarks/whylogs_spark.py \\
        [--dir /tmp/mltrail-spark-bench] [--rows 10000000]

(``[viz]`` brings the drift scores' SciPy and IPython; whylogs 1.6.4's null handling breaks on pandas 3,
hence ``pandas<3``.) With the default ``--dir`` it reads the very files ``spark_profile.py`` wrote (or writes
them the same way when absent). Heavy at the default size (two cores busy for minutes): run it by hand.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from spark_profile import SHIFTED_CATEGORICAL, SHIFTED_NUMERIC, PeakMemory, generate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mltrail-spark-bench"))
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--reference-rows", type=int, default=1_000_000)
    parser.add_argument("--driver-memory", default="512m", help="the driver JVM's heap (spark.driver.memory)")
    args = parser.parse_args()
    ref_dir, cur_dir = args.dir / "reference", args.dir / "current"
    began = time.perf_counter()
    generate(ref_dir, args.reference_rows, 1, current=False)
    generate(cur_dir, args.rows, 2, current=True)
    print(f"data: {time.perf_counter() - began:.1f} s ({args.rows:,} + {args.reference_rows:,} rows)")

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ["WHYLOGS_NO_ANALYTICS"] = "True"  # whylogs' usage statistics; inherited by the workers
    from pyspark.sql import SparkSession
    from whylogs.api.pyspark.experimental import collect_dataset_profile_view
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    versions = {p: importlib.metadata.version(p) for p in ("whylogs", "pyspark", "pandas", "pyarrow")}
    print("versions: " + ", ".join(f"{p} {v}" for p, v in versions.items()))

    started = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("whylogs-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", args.driver_memory)
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    print(f"SparkSession: {time.perf_counter() - started:.1f} s")

    with PeakMemory() as memory:
        t0 = time.perf_counter()
        reference = collect_dataset_profile_view(spark.read.parquet(str(ref_dir)))
        t1 = time.perf_counter()
        current = collect_dataset_profile_view(spark.read.parquet(str(cur_dir)))
        t2 = time.perf_counter()
        scores = calculate_drift_scores(target_view=current, reference_view=reference, with_thresholds=True)
        t3 = time.perf_counter()
    partitions = spark.read.parquet(str(cur_dir)).rdd.getNumPartitions()
    spark.stop()
    wall = t3 - t0
    print(
        f"profile + drift scores, whylogs on Spark local[2]: {wall:.1f} s ({args.rows / wall:,.0f} rows/s;"
        f" {partitions} partitions) — reference profile {t1 - t0:.1f} s, current profile {t2 - t1:.1f} s,"
        f" drift scores {t3 - t2:.1f} s"
    )
    print(
        f"peak RSS: driver python + JVM {memory.driver / 2**20:.0f} MiB;"
        f" Python workers {memory.workers / 2**20:.0f} MiB"
    )
    counted = {
        name: view.get_column("num_00").get_metric("counts").n.value
        for name, view in (("reference", reference), ("current", current))
    }
    print(
        f"rows counted in the profiles (num_00): reference {counted['reference']:,},"
        f" current {counted['current']:,}"
    )

    for column, score in sorted(scores.items()):
        if score is None:
            print(f"  {column}: no score")
        else:
            print(
                f"  {column}: {score['algorithm']} statistic {score['statistic']:.4g}"
                f" p {score['pvalue']:.3g} → {score['drift_category']}"
            )
    drifted = sorted(c for c, s in scores.items() if s and s["drift_category"] == "DRIFT")
    possible = sorted(c for c, s in scores.items() if s and s["drift_category"] == "POSSIBLE_DRIFT")
    print(f"drifted: {', '.join(drifted) or '(none)'}")
    print(f"possible drift: {', '.join(possible) or '(none)'}")
    expected = sorted([*SHIFTED_NUMERIC, *SHIFTED_CATEGORICAL])
    print(f"exactly the shifted columns ({', '.join(expected)}): {drifted == expected}")

    # The same comparison without Spark, as spark_profile.py checks mltrail: ``why.log`` in-process on the
    # reference and the first 1,000,000 current rows — are the flags whylogs' tests or its Spark path?
    import pyarrow.parquet as pq
    import whylogs as why

    t0 = time.perf_counter()
    ref_view = why.log(pq.read_table(ref_dir).to_pandas()).view()
    sample = pq.ParquetFile(sorted(cur_dir.glob("*.parquet"))[0]).read().to_pandas()
    local = calculate_drift_scores(
        target_view=why.log(sample).view(), reference_view=ref_view, with_thresholds=True
    )
    local_drifted = sorted(c for c, s in local.items() if s and s["drift_category"] == "DRIFT")
    print(
        f"in-process why.log on a {len(sample):,}-row sample: {time.perf_counter() - t0:.1f} s; drifted: "
        f"{', '.join(local_drifted) or '(none)'}"
    )


if __name__ == "__main__":
    main()
