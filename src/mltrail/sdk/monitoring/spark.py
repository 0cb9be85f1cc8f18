"""``mltrail.spark`` for the SDK: profiles of Spark DataFrames (``services/monitoring/spark_profile.py``)."""

from mltrail.services.monitoring.spark_performance import performance_spark
from mltrail.services.monitoring.spark_profile import profile_spark

__all__ = ["performance_spark", "profile_spark"]
