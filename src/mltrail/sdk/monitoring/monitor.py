"""``mltrail.monitor``: log a deployed model's predictions and delayed labels from the serving process.

::

    mon = mltrail.monitor("churn@production")        # reference = the training dataset in the run's lineage
    mon.log(features_df, predictions, ids=request_ids)  # returns at once; a background thread ingests
    mon.log_labels(ids=request_ids, labels=y_true)      # days later
    mon.report(last="30d")                              # drift, missing values, validation, accuracy

Performance before labels (CBPE): give the predicted probabilities when logging (``scores=`` the positive
class's for a binary classifier, or ``score_<class>`` columns, one per class, for a multiclass one) and
calibrate once on labelled reference rows holding the same columns — at creation
(``mltrail.monitor(ref, reference=df, label="churned")``) or later (``mon.calibrate(df, label="churned")``).
Reports then show accuracy, precision, recall, F1 and ROC AUC estimated per window with a confidence band,
beside the realized figures once labels arrive, and alert rules can watch ``estimated.accuracy`` etc.

The monitors live in the embedded store, or on a team server when ``server=`` or ``MLTRAIL_SERVER`` is set
(with ``MLTRAIL_API_KEY``): the same calls through a ``MonitorClient`` (``sdk/monitoring/client.py``).

``log`` converts the batch to Arrow and queues it; the writer thread merges queued batches and ingests them
every ``flush_interval`` seconds (or sooner past ``max_rows``), so serving never waits on profiling, the
store or the network. A batch that fails with ``StoreError`` (store busy, server unreachable or 5xx) stays
queued and is retried with backoff; a refused one (bad input, a role too low) is dropped, and ``flush()``
raises it.
"""

from __future__ import annotations

import atexit
import logging
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy.typing as npt
import pyarrow as pa

from mltrail.entities import Alert, AlertRule, Monitor
from mltrail.errors import ConflictError, InvalidInputError, NotFoundError
from mltrail.sdk.client.connection import connect
from mltrail.sdk.monitoring.client import (
    IngestOutcome,
    MonitorClient,
    PerformanceOutcome,
    WindowTarget,
)
from mltrail.sdk.monitoring.writer import PredictionWriter
from mltrail.services.accounts.audit import parse_time
from mltrail.services.container import Services
from mltrail.services.monitoring.drift_report import DriftReport, drift_report
from mltrail.services.monitoring.estimation import calibration_from_table, probability_columns
from mltrail.services.monitoring.inputs import ID_COLUMN, SCORE_COLUMN, TIME_COLUMN, to_table
from mltrail.services.registry.checks import parse_model_ref
from mltrail.settings import Settings
from mltrail.stats.profile import DatasetProfile

__all__ = ["DriftReport", "ModelMonitor", "drift_report", "monitor", "monitor_client"]

log = logging.getLogger(__name__)
_open: weakref.WeakSet[ModelMonitor] = weakref.WeakSet()
_GRANULARITY: dict[str | None, str | None] = {
    "1d": "day",
    "day": "day",
    "1h": "hour",
    "hour": "hour",
    None: None,
}


def _default_name(ref: str) -> str:
    return ref.replace("@", "-").replace(":", "-v")


def monitor_client(*, server: str | None = None, settings: Settings | None = None) -> MonitorClient:
    """Where monitors live: ``connect()``'s team server (``server``, ``MLTRAIL_SERVER``) or embedded store."""
    return connect(server, settings=settings).monitoring


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
    server: str | None = None,
    settings: Settings | None = None,
    flush_interval: float = 0.5,
    label: str | None = None,
) -> ModelMonitor:
    """The monitor of a registered model version (``churn@production``, ``churn:3``), created on first use.

    The reference is the profile of the training dataset the version's run logged (``reference=`` a
    DataFrame or table overrides it: profiled here, only the profile is stored or sent); the features are
    the signature's inputs unless given. ``server`` (or ``MLTRAIL_SERVER``) puts the monitor on a team
    server, else it lives in the embedded store of ``settings``. With ``label`` (the reference's column of
    true classes) and probability columns in the reference (``score``, or ``score_<class>`` per class), a
    new monitor is also calibrated for performance estimation before labels (``ModelMonitor.calibrate``);
    those columns are not profiled as features. For ``task="regression"``, ``label`` is the true value and
    the loss models of direct loss estimation are fitted instead.
    """
    client = monitor_client(server=server, settings=settings)
    monitor_name = name or _default_name(ref)
    try:
        try:
            entity = client.get(monitor_name)
        except NotFoundError:
            entity = _create(
                client,
                monitor_name,
                ref,
                reference,
                features,
                prediction,
                task,
                granularity,
                segments,
                drift,
                label,
            )
    except BaseException:
        client.close()
        raise
    return ModelMonitor(client, entity, flush_interval=flush_interval)


def _create(
    client: MonitorClient,
    name: str,
    ref: str,
    reference: Any,
    features: Sequence[str] | None,
    prediction: str,
    task: str,
    granularity: str,
    segments: Sequence[str],
    drift: dict[str, Any] | None,
    label: str | None = None,
) -> Monitor:
    from mltrail.services.monitoring.segments import profile_reference

    parse_model_ref(ref)
    table = None if reference is None else to_table(reference)
    calibration = None
    if table is not None and label is not None:
        inputs = features or [c for c in table.column_names if c not in (label, prediction)]
        calibration = calibration_from_table(
            table, label=label, prediction=prediction, task=task, features=inputs
        )
        table = table.drop_columns([label, *probability_columns(table.column_names)])
    # with each segment's own profile, so that segments are compared with the same segment of the reference
    ref_profile = None if table is None else profile_reference(table, segments)
    try:
        return client.create(
            name,
            ref,
            reference=ref_profile,
            features=features,
            prediction=prediction,
            task=task,
            granularity=granularity,
            segments=segments,
            drift=drift,
            calibration=calibration,
        )
    except ConflictError:
        return client.get(name)  # another serving process created it first


class ModelMonitor:
    """A monitor seen from a serving process."""

    def __init__(
        self,
        client: MonitorClient | Services,
        entity: Monitor,
        *,
        flush_interval: float = 0.5,
        max_rows: int = 200_000,
    ) -> None:
        if isinstance(client, Services):
            from mltrail.sdk.monitoring.embedded import InProcessMonitoring

            client = InProcessMonitoring(client)
        self.client: MonitorClient = client
        self.entity = entity
        self.writer = PredictionWriter(
            self.client, entity.name, flush_interval=flush_interval, max_rows=max_rows
        )
        _open.add(self)

    @property
    def name(self) -> str:
        return self.entity.name

    @property
    def rows_ingested(self) -> int:
        return self.writer.rows_ingested

    @property
    def rows_dropped(self) -> int:
        """Rows of batches the store or server refused (the last refusal is raised by ``flush``)."""
        return self.writer.rows_dropped

    # -- logging ----------------------------------------------------------------------------------------
    def log(
        self,
        features: Any,
        predictions: Any = None,
        *,
        ids: Sequence[Any] | npt.NDArray[Any] | None = None,
        scores: Sequence[float] | npt.NDArray[Any] | None = None,
        timestamps: Sequence[float] | npt.NDArray[Any] | None = None,
    ) -> None:
        """Queue a batch: the features (DataFrame, Arrow, dict of columns or rows), the model's outputs,
        request ids for delayed labels, the positive class's probability and the times (default now).
        A multiclass classifier's probabilities go in ``features`` as ``score_<class>`` columns."""
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
        self.writer.put(table)

    def calibrate(self, reference: Any, *, label: str, prediction: str | None = None) -> Monitor:
        """Calibrate performance estimation on labelled reference rows (a DataFrame, Arrow table, dict of
        columns or rows): ``label`` names the column of true classes, ``prediction`` the predicted class
        (default: the monitor's prediction column), and the probabilities are ``score`` (binary: the
        positive class's) or one ``score_<class>`` column per class (multiclass). Fitted here (only the
        fitted calibration is stored or sent); it replaces any before, and every window already stored is
        estimated under it. A regression monitor gets a loss model instead (direct loss estimation of MAE
        and RMSE from its numeric features and the prediction; needs scikit-learn), which applies to the
        batches logged after it."""
        doc = calibration_from_table(
            to_table(reference),
            label=label,
            prediction=prediction or self.entity.prediction,
            task=self.entity.task,
            features=self.entity.features,
        )
        self.entity = self.client.calibrate(self.name, doc)
        return self.entity

    def log_profile(
        self,
        profile: DatasetProfile,
        *,
        window_start: float,
        granularity: str | None = None,
        segment: str = "",
        key: str | None = None,
    ) -> IngestOutcome:
        """Merge a profile computed elsewhere — ``mltrail.spark.profile(df, window="day")`` in a nightly
        Spark job — into the window starting at ``window_start`` (epoch seconds of a UTC hour or day;
        ``granularity`` the profile's window, default the monitor's). Its segments' profiles go into their
        segment windows; ``segment`` names the segment when the whole profile is one segment's. Drift,
        validation (from the profile's counts) and alert rules then run as for logged rows; no raw rows
        are kept, so there is nothing for drill-down or the label join. Synchronous: what it did is
        returned. ``key``: an idempotency key (default: a new one), the same on a retry of this profile."""
        self.flush()
        window = WindowTarget(window_start, granularity, key or uuid.uuid4().hex)
        return self.client.log_profile(self.name, profile, window, segment)

    def log_performance(
        self,
        accumulators: Mapping[str, Mapping[str, Any]],
        *,
        window_start: float,
        granularity: str | None = None,
        key: str | None = None,
    ) -> PerformanceOutcome:
        """Merge performance accumulators computed elsewhere — ``mltrail.spark.performance(df, label=…)``
        gives ``{window start: {segment: accumulator}}`` — into the windows starting at ``window_start``,
        as delayed labels would (``""`` is all traffic). Log the window's profile first: a window never
        profiled is skipped. The starts of the monitor's windows it touched. ``key``: an idempotency key
        (default: a new one), the same on a retry of these accumulators, so a retry counts them once
        (``duplicate``)."""
        self.flush()
        window = WindowTarget(window_start, granularity, key or uuid.uuid4().hex)
        return self.client.log_performance(self.name, accumulators, window)

    def log_labels(self, ids: Sequence[Any], labels: Sequence[Any]) -> tuple[int, int]:
        """Attach ground truth to earlier predictions: (matched, unknown ids). Pending batches are written
        first, so labels for predictions logged just before are found."""
        self.flush()
        return self.client.log_labels(self.name, list(ids), list(labels))

    def flush(self, timeout: float = 60.0) -> None:
        """Wait until every queued batch is ingested; raise the last refused batch's error, or
        ``StoreError`` when rows are still queued after ``timeout`` seconds (they stay queued)."""
        self.writer.flush(timeout)
        self.client.flush()

    def close(self, timeout: float = 60.0) -> None:
        """Write what is queued (for at most ``timeout`` seconds) and stop the writer thread."""
        self.writer.close(timeout)
        self.client.close()
        _open.discard(self)

    def __enter__(self) -> ModelMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.flush()
        except BaseException:
            self.close(timeout=1.0)
            raise
        self.close()

    # -- reading ----------------------------------------------------------------------------------------
    def _period(
        self, window: str | None, last: str | None, until: float | None
    ) -> tuple[str | None, float | None]:
        granularity = _GRANULARITY.get(window, window)
        now = until if until is not None else time.time()
        return granularity, parse_time(last, now, field="last") if last else None

    def report(
        self, *, window: str | None = None, last: str | None = "30d", until: float | None = None
    ) -> dict[str, Any]:
        """Drift, missing values, validation and performance per window over the ``last`` period."""
        self.flush()
        granularity, since = self._period(window, last, until)
        return self.client.report(self.name, granularity=granularity, since=since, until=until)

    def report_html(
        self,
        path: str | Path,
        *,
        window: str | None = None,
        last: str | None = "30d",
        until: float | None = None,
    ) -> Path:
        """The report as one self-contained HTML page at ``path``."""
        self.flush()
        granularity, since = self._period(window, last, until)
        out = Path(path)
        page = self.client.report_html(self.name, granularity=granularity, since=since, until=until)
        out.write_text(page, encoding="utf-8")
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
        action: str | None = None,
    ) -> AlertRule:
        return self.client.add_rule(
            self.entity,
            metric=metric,
            feature=feature,
            segment=segment,
            above=above,
            below=below,
            for_windows=for_windows,
            notify=notify,
            action=action,
        )

    def alerts(self, state: str | None = None) -> list[Alert]:
        return self.client.alerts(self.entity, state)

    def set_reference(self, reference: Any = None, *, run: Any = None) -> Monitor:
        """Replace the reference the traffic is compared with, at any time: ``reference`` rows (a DataFrame,
        an Arrow table, or the path of a Parquet or CSV file), profiled here with each segment's own
        profile, or the dataset a ``run`` logged (a ``Run`` or its id or name; of its datasets holding the
        watched features, one with the model's output first). Every kept window figure is computed again
        against it, and the alert rules evaluated. Give the output column in it, else the output keeps
        being compared with the first whole day of traffic."""
        if (reference is None) == (run is None):
            raise InvalidInputError("give exactly one of reference and run", field="reference")
        self.flush()
        if run is not None:
            run_ref = str(getattr(run, "id", run))
            self.entity = self.client.set_reference(self.name, run=run_ref)
            return self.entity
        from mltrail.services.monitoring.segments import profile_reference

        source = None
        if isinstance(reference, str | Path):
            path = Path(reference).expanduser()
            source = f"file {path.name}"
            reference = _read_file(path)
        table = to_table(reference)
        source = source or f"{table.num_rows:,} rows given to set_reference"
        profile = profile_reference(table, self.entity.segments)
        self.entity = self.client.set_reference(self.name, reference=profile, reference_source=source)
        return self.entity


def _read_file(path: Path) -> pa.Table:
    """A Parquet or CSV file as a table (``InvalidInputError`` naming ``reference`` otherwise)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InvalidInputError(f"{path} is not a file", field="reference")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pq.read_table(path)
    if suffix in (".csv", ".tsv"):
        delimiter = "\t" if suffix == ".tsv" else ","
        return pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=delimiter))
    raise InvalidInputError(f"{path}: a Parquet (.parquet) or CSV (.csv) file", field="reference")


@atexit.register
def _flush_open_monitors() -> None:
    for mon in list(_open):
        try:
            mon.flush(timeout=10)
        except Exception:  # at exit there is no one left to raise to
            log.exception("monitor %s: could not flush at exit", mon.name)
        finally:
            mon.close(timeout=1.0)
