"""``mltrail.monitor`` and ``mltrail.drift_report``: production monitoring from the serving process."""
