"""``mltrail.monitor``: log a deployed model's predictions and delayed labels from the serving process.

::

    mon = mltrail.monitor("churn@production")        # reference = the training dataset in the run's lineage
    mon.log(features_df, predictions, ids=request_ids)  # returns at once; a background thread ingests
    mon.log_labels(ids=request_ids, labels=y_true)      # days later
    mon.report(last="30d")                              # drift, missing values, validation, accuracy

``log`` converts the batch to Arrow and queues it; the writer thread merges queued batches and ingests them
every ``flush_interval`` seconds (or sooner past ``max_rows``), so serving never waits on profiling or the
store. A failed ingestion is kept and retried; ``flush()`` raises what could not be written.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from mltrail.errors import MltrailError, NotFoundError, StoreError
from mltrail.monitor_entities import Alert, Monitor
from mltrail.sdk.model_client import local_user
from mltrail.sdk.monitor_setup import MonitoringServices, monitoring_services, validate_channel
from mltrail.sdk.transport import embedded_transport
from mltrail.services.audit import parse_time
from mltrail.services.drift_report import DriftReport, drift_report
from mltrail.services.monitor_input import ID_COLUMN, SCORE_COLUMN, TIME_COLUMN, to_table
from mltrail.services.monitor_report import build_report
from mltrail.services.registry_checks import parse_model_ref
from mltrail.services.report_html import render_report_html
from mltrail.settings import Settings

__all__ = ["DriftReport", "ModelMonitor", "drift_report", "monitor"]

log = logging.getLogger(__name__)
_open: weakref.WeakSet[ModelMonitor] = weakref.WeakSet()


def _default_name(ref: str) -> str:
    return ref.replace("@", "-").replace(":", "-v")


def monitor(
    ref: str,
    *,
    name: str | None = None,
    reference: Any = None,
    features: Sequence[str] | None = None,
    prediction: str = "prediction",
    task: str = "classification",
    granularity: str = "day",
    segments: Sequence[str] = (),
    drift: dict[str, Any] | None = None,
    settings: Settings | None = None,
    flush_interval: float = 0.5,
) -> ModelMonitor:
    """The monitor of a registered model version (``churn@production``, ``churn:3``), created on first use.

    The reference is the profile of the training dataset the version's run logged (``reference=`` a
    DataFrame or table overrides it); the features are the signature's inputs unless given.
    """
    settings = settings or Settings.from_env()
    transport = embedded_transport(settings)
    services = monitoring_services(transport.store, transport.blobs)
    monitor_name = name or _default_name(ref)
    try:
        entity = services.monitoring.get(monitor_name)
    except NotFoundError:
        entity = _create(
            services, monitor_name, ref, reference, features, prediction, task, granularity, segments, drift
        )
    return ModelMonitor(services, entity, flush_interval=flush_interval)


def _create(
    services: MonitoringServices,
    name: str,
    ref: str,
    reference: Any,
    features: Sequence[str] | None,
    prediction: str,
    task: str,
    granularity: str,
    segments: Sequence[str],
    drift: dict[str, Any] | None,
) -> Monitor:
    from mltrail.stats.profile import profile_batches

    parse_model_ref(ref)
    version = services.registry.resolve(ref)
    ref_profile = None if reference is None else profile_batches(to_table(reference))
    return services.monitoring.create_for_version(
        name,
        model=version.model,
        version=version.version,
        run_id=version.run_id,
        signature=version.signature,
        reference=ref_profile,
        features=list(features) if features else None,
        prediction=prediction,
        task=task,
        granularity=granularity,
        segments=list(segments),
        drift=drift,
        created_by=local_user(),
    )


class ModelMonitor:
    """A monitor seen from a serving process."""

    def __init__(
        self,
        services: MonitoringServices,
        entity: Monitor,
        *,
        flush_interval: float = 0.5,
        max_rows: int = 200_000,
    ) -> None:
        self.services = services
        self.entity = entity
        self.flush_interval = flush_interval
        self.max_rows = max_rows
        self._queue: deque[pa.Table] = deque()
        self._queued_rows = 0
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._stopping = False
        self._error: BaseException | None = None
        self.rows_ingested = 0
        self._thread = threading.Thread(target=self._run, name=f"mltrail-monitor-{entity.name}", daemon=True)
        self._thread.start()
        _open.add(self)

    @property
    def name(self) -> str:
        return self.entity.name

    # -- logging ----------------------------------------------------------------------------------------
    def log(
        self,
        features: Any,
        predictions: Any = None,
        *,
        ids: Sequence[Any] | None = None,
        scores: Sequence[float] | None = None,
        timestamps: Sequence[float] | None = None,
    ) -> None:
        """Queue a batch: the features (DataFrame, Arrow, dict of columns or rows), the model's outputs,
        request ids for delayed labels, the positive class's probability and the times (default now)."""
        table = to_table(features)
        n = table.num_rows
        extra = {
            self.entity.prediction: predictions,
            ID_COLUMN: None if ids is None else [None if i is None else str(i) for i in ids],
            SCORE_COLUMN: scores,
            TIME_COLUMN: timestamps,
        }
        for column, values in extra.items():
            if values is None:
                continue
            array = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
            if len(array) != n:
                raise ValueError(f"{column} has {len(array)} values for {n} rows")
            if column in table.column_names:
                table = table.set_column(table.column_names.index(column), column, array)
            else:
                table = table.append_column(column, array)
        if TIME_COLUMN not in table.column_names:
            table = table.append_column(TIME_COLUMN, pa.array([time.time()] * n, pa.float64()))
        self._queue.append(table)
        self._queued_rows += n
        if self._queued_rows >= self.max_rows:
            self._wake.set()

    def log_labels(self, ids: Sequence[Any], labels: Sequence[Any]) -> tuple[int, int]:
        """Attach ground truth to earlier predictions: (matched, unknown ids). Pending batches are written
        first, so labels for predictions logged just before are found."""
        self.flush()
        return self.services.monitoring.log_labels(self.name, list(ids), list(labels))

    # -- the writer -------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self._drain()
            if self._stopping and not self._queue:
                return

    def _drain(self) -> None:
        with self._idle:
            self._busy = True
        try:
            while self._queue:
                parts = []
                rows = 0
                while self._queue and rows < self.max_rows:
                    part = self._queue.popleft()
                    parts.append(part)
                    rows += part.num_rows
                batch = parts[0] if len(parts) == 1 else pa.concat_tables(parts, promote_options="permissive")
                try:
                    self.services.monitoring.ingest(self.name, batch)
                except MltrailError as exc:
                    # A refused batch (bad input) is dropped and reported at flush; a store error retries.
                    if isinstance(exc, StoreError):
                        self._queue.extendleft(reversed(parts))
                        self._error = exc
                        time.sleep(min(5.0, self.flush_interval * 4))
                        return
                    self._error = exc
                except Exception as exc:  # the serving process must not die for monitoring: report at flush
                    log.exception("monitor %s: ingestion failed", self.name)
                    self._error = exc
                else:
                    self.rows_ingested += rows
                self._queued_rows -= rows
        finally:
            with self._idle:
                self._busy = False
                self._idle.notify_all()

    def flush(self, timeout: float = 60.0) -> None:
        """Wait until every queued batch is ingested; raise the last ingestion error, if any."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self._idle:
            while (self._queue or self._busy) and time.monotonic() < deadline:
                self._wake.set()
                self._idle.wait(0.05)
        error, self._error = self._error, None
        if error is not None:
            raise error
        if self._queue:
            raise StoreError(
                f"monitor {self.name}: {self._queued_rows} rows still queued after {timeout:.0f} s"
            )
        self.services.alerts.flush()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=60)
        self.services.alerts.close()
        _open.discard(self)

    def __enter__(self) -> ModelMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
        self.close()

    # -- reading ----------------------------------------------------------------------------------------
    def report(
        self, *, window: str | None = None, last: str | None = "30d", until: float | None = None
    ) -> dict[str, Any]:
        """Drift, missing values, validation and performance per window over the ``last`` period."""
        self.flush()
        granularity = {"1d": "day", "day": "day", "1h": "hour", "hour": "hour", None: None}.get(
            window, window
        )
        now = until if until is not None else time.time()
        since = parse_time(last, now, field="last") if last else None
        entity = self.services.monitoring.store.get_monitor(self.name)
        return build_report(
            self.services.monitoring.store, entity, granularity=granularity, since=since, until=until
        )

    def report_html(self, path: str | Path, **options: Any) -> Path:
        out = Path(path)
        out.write_text(render_report_html(self.report(**options)), encoding="utf-8")
        return out

    def add_alert(
        self,
        metric: str,
        *,
        feature: str | None = None,
        segment: str | None = None,
        above: float | None = None,
        below: float | None = None,
        for_windows: int = 1,
        notify: Sequence[str] = (),
    ) -> Any:
        return self.services.alerts.add_rule(
            self.entity,
            metric=metric,
            feature=feature,
            segment=segment,
            above=above,
            below=below,
            for_windows=for_windows,
            notify=notify,
            created_by=local_user(),
            validate_channel=validate_channel,
        )

    def alerts(self, state: str | None = None) -> list[Alert]:
        return self.services.alerts.list(self.entity, state=state)


@atexit.register
def _flush_open_monitors() -> None:
    for mon in list(_open):
        try:
            mon.flush(timeout=10)
            mon.close()
        except Exception:  # at exit there is no one left to raise to
            log.exception("monitor %s: could not flush at exit", mon.name)
