"""``mltrail.spark`` for the SDK: profiles of Spark DataFrames (``services/monitoring/spark_profile.py``)."""

from mltrail.services.monitoring.spark_profile import profile_spark

__all__ = ["profile_spark"]
