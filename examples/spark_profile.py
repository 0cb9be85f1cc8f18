"""A nightly Spark job that feeds a monitor: the lake of raw predictions in, drift by day and segment out.

A serving process logs predictions with ``mon.log(...)``; mltrail keeps the raw rows as Hive-partitioned
Parquet in its blob store (``<blobs>/lake/monitor=<name>/day=<YYYY-MM-DD>/<sha256>.parquet``). Here a Spark
job reads that lake (a team's own lake of 100 million rows a day works the same), profiles each day and
segment inside Spark (``mltrail.spark.profile``: one ``mapInArrow`` pass, only the profiles reach the driver)
and hands the profiles to a second monitor with ``log_profile``, whose report and alert rules then read them
as if the rows had been logged. The lake is also read by pandas and pyarrow, and a drift report compares two
days of it without Spark.

    pip install 'mltrail[spark,sklearn]'      # Java 17 on the PATH
    python examples/spark_profile.py         # works in a temporary folder; prints what it found
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import mltrail
import mltrail.spark
from mltrail.settings import Settings

DAY = 86400.0


def traffic(n: int, seed: int, *, shift: float = 0.0, day: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tenure": rng.normal(24 + 12 * shift, 12, n),
            "spend": rng.gamma(2.0, 50.0, n),
            "plan": rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
            "timestamp": day + rng.uniform(0, DAY - 1, n),
        }
    )


def main() -> None:
    os.chdir(tempfile.mkdtemp(prefix="mltrail-spark-"))  # the embedded store goes to ./mltrail here
    settings = Settings()
    train = traffic(5000, 1).drop(columns=["timestamp"])
    clf = LogisticRegression().fit(train[["tenure", "spend"]], (train["tenure"] < 20).astype(int))
    with mltrail.init(project="shop", capture=False) as run:
        run.log_dataset(train, name="churn-train", role="train")
        mltrail.models.register("churn", run=run, model=clf, input_example=train[["tenure", "spend"]].head(3))

    # The serving side: three days of predictions, the last one drifted.
    today = (time.time() // DAY) * DAY
    with mltrail.monitor("churn:1", segments=["plan"]) as served:
        for i, shift in enumerate((0.0, 0.0, 1.5)):
            batch = traffic(20_000, 10 + i, shift=shift, day=today - (3 - i) * DAY)
            served.log(
                batch.drop(columns=["timestamp"]),
                clf.predict(batch[["tenure", "spend"]]),
                timestamps=batch["timestamp"].to_numpy(),
            )
    lake = Path(settings.blobs) / "lake"
    print(f"raw predictions: {lake}/monitor={served.name}/day=…/")
    print(" ", sorted(p.name for p in (lake / f"monitor={served.name}").iterdir()))

    # Anyone reads the lake: pandas; DuckDB too (read_parquet('…/lake/*/*/*.parquet', hive_partitioning=1)).
    frame = pd.read_parquet(lake, filters=[("monitor", "=", served.name)])
    print(f"pandas reads {len(frame):,} rows; per day:", frame.groupby("day", observed=True).size().to_dict())

    # The nightly job: Spark profiles each day and segment; a monitor takes the profiles.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    rows = spark.read.parquet(str(lake)).where(f"monitor = '{served.name}'").drop("monitor", "day")
    daily = mltrail.spark.profile(rows, segments=["plan"], window="day")
    with mltrail.monitor("churn:1", name="churn-from-spark", segments=["plan"]) as job:
        for start, profile in sorted(daily.items()):
            done = job.log_profile(profile, window_start=start)
            print(
                f"  logged the profile of {time.strftime('%Y-%m-%d', time.gmtime(start))}: {done.rows:,} rows"
            )
        report = job.report(last="7d")
    for window in report["windows"]:
        day = time.strftime("%Y-%m-%d", time.gmtime(window["start"]))
        print(f"  {day}: {window['rows']:,} rows, drifted: {', '.join(window['drifted']) or 'nothing'}")

    # And without Spark: two days of the lake compared, partitions pruned by the filters.
    first, last = (time.strftime("%Y-%m-%d", time.gmtime(s)) for s in (min(daily), max(daily)))
    drift = mltrail.drift_report(
        str(lake / f"monitor={served.name}"),
        str(lake / f"monitor={served.name}"),
        columns=["tenure", "spend", "plan"],
        reference_filter=[("day", "=", first)],
        current_filter=[("day", "=", last)],
    )
    print(f"drift_report({first} → {last}) over the lake: drifted {', '.join(drift.drifted_columns)}")
    spark.stop()


if __name__ == "__main__":
    main()
