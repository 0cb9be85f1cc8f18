"""spark: ``profile(df, columns=…, segments=…, window=…)``, monitoring profiles of a Spark DataFrame.

Each partition is profiled inside Spark with ``mapInArrow`` and only the serialized profiles reach the driver,
where they merge. The result feeds ``mltrail.drift_report`` (which also takes DataFrames directly), a
monitor's reference, or ``monitor.log_profile`` for a nightly job. Needs the ``spark`` extra (pyspark);
see docs/MONITORING.md, "Spark and profiles". ``DRIVER_1GB``: settings that keep a local-mode driver (its
Python process and JVM) under 1 GB, ``SparkSession.builder.config(map=mltrail.spark.DRIVER_1GB)``.

::

    import mltrail.spark
    daily = mltrail.spark.profile(df, segments=["country"], window="day")   # {day start: DatasetProfile}
    mon = mltrail.monitor("churn@production")
    for start, profile in daily.items():
        mon.log_profile(profile, window_start=start)
    labelled = mltrail.spark.performance(df, label="churned", score="score", window="day")
    for start, accumulators in labelled.items():   # {segment: accumulator}, "" for all traffic
        mon.log_performance(accumulators, window_start=start, key=f"nightly-{start}")  # a rerun counts once
"""

from mltrail.sdk.monitoring.spark import DRIVER_1GB
from mltrail.sdk.monitoring.spark import performance_spark as performance
from mltrail.sdk.monitoring.spark import profile_spark as profile

__all__ = ["DRIVER_1GB", "performance", "profile"]
