"""``mltrail.spark`` for the SDK: profiles of Spark DataFrames (``services/monitoring/spark_profile.py``), and
settings for a small driver."""

from mltrail.services.monitoring.spark_performance import performance_spark
from mltrail.services.monitoring.spark_profile import profile_spark

__all__ = ["DRIVER_1GB", "performance_spark", "profile_spark"]

# Spark settings under which a ``local[2]`` job of ``benchmarks/spark_profile.py`` (10,000,000 rows × 25
# columns, profile and drift report) keeps its driver — the Python process and its JVM, which in local mode
# also scans the Parquet files — under 1 GB: about the smallest heap Spark accepts (it refuses under 450 MB of
# usable heap), the serial collector (no per-region bookkeeping) with a small young generation and a heap
# that grows reluctantly, and a smaller code cache. Spark's defaults (a 512 MB heap under G1) peak at ~1.1 GB
# there; times are within the noise (benchmarks/RESULTS.md). ``SparkSession.builder.config(map=DRIVER_1GB)``.
DRIVER_1GB = {
    "spark.driver.memory": "480m",
    "spark.driver.extraJavaOptions": " ".join(
        (
            "-XX:+UseSerialGC",
            "-Xmn48m",
            "-XX:ReservedCodeCacheSize=64m",
            "-XX:MinHeapFreeRatio=10",
            "-XX:MaxHeapFreeRatio=20",
        )
    ),
}
