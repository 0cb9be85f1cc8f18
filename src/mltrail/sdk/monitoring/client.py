"""Monitoring seen from the SDK: the ``MonitorClient`` protocol, with an embedded implementation
(``monitoring/embedded.py``) and one over HTTP (``monitoring/http.py``): ``mltrail.monitor`` works the same
against the embedded store and a team server, and raises the same ``mltrail.errors`` types. Over HTTP a
batch of predictions travels as one Arrow IPC stream (zstd-compressed buffers), so column types arrive as
logged; profiling, windows, alert evaluation and notifications happen on the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from mltrail.entities import Alert, AlertNotification, AlertRule, Monitor

if TYPE_CHECKING:
    import pyarrow as pa

    from mltrail.stats.profile import DatasetProfile

__all__ = [
    "ARROW_STREAM",
    "HTTP_BATCH_BYTES",
    "LABELS_PER_REQUEST",
    "AlertDetail",
    "IngestOutcome",
    "MonitorClient",
    "MonitorSummary",
    "PerformanceOutcome",
    "WindowTarget",
    "alerts_of_period",
]

ARROW_STREAM = "application/vnd.apache.arrow.stream"
# One upload stays well under the server's default batch limit (256 MiB) and typical --max-upload-mb values.
HTTP_BATCH_BYTES = 16 << 20
LABELS_PER_REQUEST = 100_000  # the labels route takes at most 1,000,000 per body


def alerts_of_period(alerts: Sequence[Alert], since: float | None, until: float | None) -> list[Alert]:
    """The alerts a report of [since, until) shows: those still open or acknowledged, and the resolved ones
    of a window in the period."""
    return [
        a
        for a in alerts
        if a.state.value != "resolved"
        or ((since is None or a.window_start >= since) and (until is None or a.window_start < until))
    ]


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """One ingested batch: rows stored, the starts of the windows it touched, rows per broken validation
    rule, and whether its idempotency key had been seen (merged before, not again)."""

    rows: int
    windows: tuple[float, ...] = ()
    violations: dict[str, int] = field(default_factory=dict)
    duplicate: bool = False

    def __add__(self, other: IngestOutcome) -> IngestOutcome:
        violations = dict(self.violations)
        for rule, n in other.violations.items():
            violations[rule] = violations.get(rule, 0) + n
        windows = tuple(sorted({*self.windows, *other.windows}))
        return IngestOutcome(self.rows + other.rows, windows, violations, self.duplicate and other.duplicate)


@dataclass(frozen=True, slots=True)
class WindowTarget:
    """Where figures computed elsewhere (a Spark job's profile or performance accumulators) go: the window
    starting at ``window_start`` (epoch seconds of a UTC hour or day), ``granularity`` wide (None: the
    monitor's), under the call's idempotency ``key`` (the same on every retry, so a retry lands once)."""

    window_start: float
    granularity: str | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class PerformanceOutcome:
    """Performance accumulators logged: the starts of the windows they went into, and whether their
    idempotency key had been seen (merged before, not again)."""

    windows: tuple[float, ...] = ()
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class MonitorSummary:
    """A monitor in a listing: the start of the last window that received traffic, and its open alerts."""

    monitor: Monitor
    last_window: float | None
    open_alerts: int


@dataclass(frozen=True, slots=True)
class AlertDetail:
    """An alert, its monitor and the notifications sent about it."""

    alert: Alert
    monitor: Monitor
    notifications: tuple[AlertNotification, ...] = ()


class MonitorClient(Protocol):
    """What ``mltrail.monitor``, ``ModelMonitor`` and ``mltrail monitor`` need from wherever the monitors
    live. Who acts: embedded, ``user``; on a team server with authentication, the API key's user."""

    where: str  # for messages: "the embedded store at …" or "the mltrail server at …"
    max_batch_bytes: int | None  # the writer merges queued batches up to this size (None: no bound)
    user: str | None

    def as_user(self, user: str | None) -> MonitorClient:
        """The same monitors, acting as ``user`` where no server account decides."""
        ...

    def monitors(self) -> list[Monitor]:
        """Every monitor (one may see), by name."""
        ...

    def summaries(self) -> list[MonitorSummary]:
        """Every monitor (one may see), by name, with its last window and open alerts."""
        ...

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
        reference_source: str | None = None,
        calibration: Mapping[str, Any] | None = None,
    ) -> Monitor:
        """A monitor of the version ``ref`` names, against ``reference`` (default: its training data's);
        ``reference_source`` says where a given reference came from (e.g. ``file reference.csv``);
        ``calibration`` performance estimation's (``services.monitoring.estimation``), when given."""
        ...

    def calibrate(self, name: str, calibration: Mapping[str, Any]) -> Monitor:
        """Keep ``calibration`` (fitted on labelled reference rows) for performance estimation: every
        window, stored or to come, is estimated under it."""
        ...

    def set_reference(
        self,
        name: str,
        *,
        reference: DatasetProfile | None = None,
        run: str | None = None,
        reference_source: str | None = None,
    ) -> Monitor:
        """Replace the monitor's reference with ``reference`` (a profile; ``reference_source`` says where
        it came from) or the profile of a dataset ``run`` (id, prefix or name) logged, and compute its kept
        figures again; the monitor as it is then."""
        ...

    def delete(self, name: str) -> None:
        """Delete the monitor with its windows, rules and alerts."""
        ...

    def ingest(self, name: str, table: pa.Table, key: str | None = None) -> int:
        """Profile and store one batch of predictions; the rows stored. ``key``: the batch's idempotency
        key, the same on every retry of it, so a retry after a lost response lands once."""
        ...

    def ingest_batch(self, name: str, table: pa.Table, key: str | None = None) -> IngestOutcome:
        """As ``ingest``, with what the batch did; a batch over a server's upload limit goes in pieces."""
        ...

    def log_profile(
        self, name: str, profile: DatasetProfile, window: WindowTarget, segment: str = ""
    ) -> IngestOutcome:
        """Merge a profile computed elsewhere (``mltrail.spark.profile``) into ``window`` (its segments'
        profiles into their segment windows, or all of it into ``segment``'s); what it did, as for a batch
        of rows."""
        ...

    def log_performance(
        self, name: str, accumulators: Mapping[str, Mapping[str, Any]], window: WindowTarget
    ) -> PerformanceOutcome:
        """Merge performance accumulators (segment → accumulator, ``mltrail.spark.performance``) into
        ``window`` as labels would; the monitor's windows touched."""
        ...

    def log_labels(self, name: str, ids: Sequence[Any], labels: Sequence[Any]) -> tuple[int, int]: ...

    def report(
        self, name: str, *, granularity: str | None, since: float | None, until: float | None
    ) -> dict[str, Any]:
        """The report of [since, until) with its ``alerts`` (those not resolved, and the resolved ones of a
        window in the period), as the server's report route gives it; non-finite figures as floats."""
        ...

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
        action: str | None = None,
    ) -> AlertRule: ...

    def raise_event(self, monitor: Monitor, metric: str, detail: str) -> Alert:
        """Open (or update) an event alert on the monitor: ``gateway.reload_failed`` with what happened."""

    def alerts(self, monitor: Monitor, state: str | None) -> list[Alert]: ...

    def rules(self, monitor: Monitor) -> list[AlertRule]: ...

    def delete_rule(self, rule_id: int) -> None: ...

    def evaluate_rules(self, monitor: Monitor) -> list[Alert]:
        """Evaluate the monitor's rules now over its stored windows; the alerts this opened."""
        ...

    def list_alerts(self, monitor: Monitor | None, state: str | None, limit: int) -> list[Alert]:
        """Alerts newest first, of ``monitor`` or of every monitor (one may see)."""
        ...

    def alert(self, alert_id: int) -> AlertDetail: ...

    def acknowledge(self, alert_id: int) -> AlertDetail:
        """Open → acknowledged, by ``user`` (the key's user on a server)."""
        ...

    def resolve(self, alert_id: int) -> AlertDetail: ...

    def flush(self) -> None:
        """Wait for background alert work (notifications) started by this client."""
        ...

    def close(self) -> None: ...
