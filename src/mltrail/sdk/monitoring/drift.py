"""``mltrail.drift_report``: the notebook call, reference against current data, no monitor or store.

Kept apart from :mod:`mltrail.sdk.monitoring.monitor` so that importing it loads the statistics and the report
renderer only, not the tracking client and the store.
"""

from mltrail.services.monitoring.drift_report import DriftReport, drift_report

__all__ = ["DriftReport", "drift_report"]
