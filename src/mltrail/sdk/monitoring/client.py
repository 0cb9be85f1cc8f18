"""Monitoring seen from the SDK: the ``MonitorClient`` protocol, with an embedded implementation
(``monitoring/embedded.py``) and one over HTTP (``monitoring/http.py``): ``mltrail.monitor`` works the same
against the embedded store and a team server, and raises the same ``mltrail.errors`` types. Over HTTP a
batch of predictions travels as one Arrow IPC stream (zstd-compressed buffers), so column types arrive as
logged; profiling, windows, alert evaluation and notifications happen on the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from mltrail.entities import Alert, AlertRule, Monitor

if TYPE_CHECKING:
    import pyarrow as pa

    from mltrail.stats.profile import DatasetProfile

__all__ = ["ARROW_STREAM", "HTTP_BATCH_BYTES", "LABELS_PER_REQUEST", "MonitorClient"]

ARROW_STREAM = "application/vnd.apache.arrow.stream"
# One upload stays well under the server's default batch limit (256 MiB) and typical --max-upload-mb values.
HTTP_BATCH_BYTES = 16 << 20
LABELS_PER_REQUEST = 100_000  # the labels route takes at most 1,000,000 per body


class MonitorClient(Protocol):
    """What ``mltrail.monitor`` and ``ModelMonitor`` need from wherever the monitors live."""

    where: str  # for messages: "the embedded store at …" or "the mltrail server at …"
    max_batch_bytes: int | None  # the writer merges queued batches up to this size (None: no bound)

    def get(self, name: str) -> Monitor:
        """The monitor ``name``; ``NotFoundError`` when there is none."""
        ...

    def create(
        self,
        name: str,
        ref: str,
        *,
        reference: DatasetProfile | None,
        features: Sequence[str] | None,
        prediction: str,
        task: str,
        granularity: str,
        segments: Sequence[str],
        drift: Mapping[str, Any] | None,
    ) -> Monitor:
        """A monitor of the version ``ref`` names, against ``reference`` (default: its training data's)."""
        ...

    def ingest(self, name: str, table: pa.Table, key: str | None = None) -> int:
        """Profile and store one batch of predictions; the rows stored. ``key``: the batch's idempotency
        key, the same on every retry of it, so a retry after a lost response lands once."""
        ...

    def log_labels(self, name: str, ids: Sequence[Any], labels: Sequence[Any]) -> tuple[int, int]: ...

    def report(
        self, name: str, *, granularity: str | None, since: float | None, until: float | None
    ) -> dict[str, Any]: ...

    def report_html(
        self, name: str, *, granularity: str | None, since: float | None, until: float | None
    ) -> str: ...

    def add_rule(
        self,
        monitor: Monitor,
        *,
        metric: str,
        feature: str | None,
        segment: str | None,
        above: float | None,
        below: float | None,
        for_windows: int,
        notify: Sequence[str],
    ) -> AlertRule: ...

    def alerts(self, monitor: Monitor, state: str | None) -> list[Alert]: ...

    def flush(self) -> None:
        """Wait for background alert work (notifications) started by this client."""
        ...

    def close(self) -> None: ...
