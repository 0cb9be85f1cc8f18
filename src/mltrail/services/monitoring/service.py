"""Production monitoring: monitors of a model version, ingestion of predictions, delayed labels. No HTTP.

``MonitoringService`` is the one class callers use; its parts live by concern: the shared state and alias
following (``core.py``), monitor definitions (``definitions.py``), ingestion of rows, profiles, performance
accumulators and labels (``ingestion.py``), and reports and raw rows (``reads.py``).
"""

from __future__ import annotations

from mltrail.services.monitoring.definitions import MonitorDefinitions
from mltrail.services.monitoring.ingestion import IngestResult, MonitorIngestion, PerformanceResult
from mltrail.services.monitoring.reads import MonitorReads

__all__ = ["IngestResult", "MonitoringService", "PerformanceResult"]


class MonitoringService(MonitorDefinitions, MonitorIngestion, MonitorReads):
    """Monitors, their ingestion and their reports over a ``MonitorStore`` and a ``BlobStore``
    (``MonitoringCore.__init__`` takes them); built by ``services/container.py``."""
