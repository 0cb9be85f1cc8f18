"""``Run``: the handle a training script logs through. Logging never blocks on the store."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mltrail.entities import Artifact, DatasetLink, RunMedia, RunStatus, RunTable
from mltrail.errors import InvalidInputError, MltrailError, RunFinishedError, StoreError
from mltrail.sdk.tracking.transport import Transport
from mltrail.sdk.tracking.writer import BackgroundWriter
from mltrail.services.tracking.validation import metric_float, to_value, validate_key

if TYPE_CHECKING:
    from mltrail.sdk.client.connection import Connection
    from mltrail.sdk.tracking.journal_transport import JournalingTransport

__all__ = ["Run", "Summary"]

log = logging.getLogger("mltrail")
_time = time.time


class Summary(MutableMapping[str, Any]):
    """``run.summary["best_acc"] = 0.93``: final values of a run, written through in the background."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._values: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        raise InvalidInputError("summary values cannot be deleted; overwrite them instead", field="summary")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def update(self, *args: Any, **kwargs: Any) -> None:
        values = dict(*args, **kwargs)
        clean = {validate_key(k, "summary"): to_value(v) for k, v in values.items()}
        self._run._ensure_open()
        self._values.update(clean)
        run = self._run
        run._writer.submit("summary", lambda: run._transport.set_summary(run.id, clean))

    def __repr__(self) -> str:
        return f"Summary({self._values!r})"


class Run:
    """A live run. Create it with ``mltrail.init``; use it as a context manager or call ``finish()``."""

    # The connection ``init`` made the run through (its registry and monitors are the run's); None for a
    # run built on a transport of its own.
    _connection: Connection | None = None
    _user: str | None = None  # who the run is recorded as: who acts for it in the registry too

    def __init__(
        self,
        *,
        transport: Transport,
        run_id: str,
        project: str,
        name: str,
        config: Mapping[str, Any],
        flush_interval: float,
        heartbeat_interval: float,
        max_pending_points: int = 200_000,
        sync_timeout: float = 30.0,
    ) -> None:
        self.id = run_id
        self.project = project
        self.name = name
        self.config: dict[str, Any] = dict(config)
        self._transport = transport
        self._writer = BackgroundWriter(
            transport,
            run_id,
            flush_interval=flush_interval,
            heartbeat_interval=heartbeat_interval,
            max_pending_points=max_pending_points,
        )
        self.summary = Summary(self)
        self.status = RunStatus.RUNNING
        self._finished = False
        self._finish_lock = threading.Lock()
        self._next_step = 0
        self._known_keys: set[str] = set()
        self._sync_timeout = sync_timeout
        self._system_step = 0
        # Called at finish, before the writer closes (console log upload, sampler stop…), set by init.
        self._finalizers: list[Callable[[], object]] = []
        self._writer.start()

    def __repr__(self) -> str:
        return f"<Run {self.project}/{self.name} id={self.id} {self.status.value}>"

    # -- metrics: the hot path ---------------------------------------------------------------------------
    def log(self, data: Mapping[str, Any], step: int | None = None) -> None:
        """Queue metric values at ``step`` (default: one past the last step) and return at once.

        Values must be real numbers (ints, floats, numpy scalars, one-element tensors); anything else raises
        ``TypeError`` here, in the caller. NaN and ±inf are kept. Logging the same key at the same step
        again keeps the last value.
        """
        if self._finished:
            raise RunFinishedError(f"run {self.id} has finished; start a new run to log more")
        if step is None:
            step = self._next_step
        elif type(step) is not int or step < 0:
            step = self._check_step(step)
        if step >= self._next_step:
            self._next_step = step + 1
        known = self._known_keys
        values: dict[str, float] = {}
        for key, value in data.items():
            if key not in known:
                validate_key(key, "metrics")
                known.add(key)
            values[key] = value if type(value) is float else metric_float(key, value)
        writer = self._writer
        if writer.produced - writer.consumed >= writer.pending_limit and not writer.wait_for_room():
            writer.dropped += len(values)
            return
        writer.points.append((step, _time(), values))
        writer.produced += len(values)

    @staticmethod
    def _check_step(step: Any) -> int:
        if isinstance(step, bool) or not hasattr(step, "__index__"):
            raise TypeError(f"step must be an int, got {type(step).__name__}: {step!r}")
        value = int(step.__index__())
        if value < 0:
            raise InvalidInputError(f"step must be ≥ 0, got {value}", field="step")
        return value

    def _log_system(self, values: dict[str, float], wall_time: float) -> None:
        """System metrics (``sys/…``) have their own step: the sample number."""
        if self._finished:
            return
        self._writer.points.append((self._system_step, wall_time, dict(values)))
        self._writer.produced += len(values)
        self._system_step += 1

    # -- everything else ---------------------------------------------------------------------------------
    def set_tags(self, tags: Mapping[str, Any] | None = None, **more: Any) -> None:
        merged = {**(tags or {}), **more}
        clean = {validate_key(k, "tags"): "" if v is None else str(v) for k, v in merged.items()}
        self._ensure_open()
        self._writer.submit("tags", lambda: self._transport.set_tags(self.id, clean))

    def set_notes(self, notes: str) -> None:
        self._ensure_open()
        self._writer.submit("notes", lambda: self._transport.set_notes(self.id, notes))

    def update_config(self, config: Mapping[str, Any]) -> None:
        """Add params after start (e.g. values chosen by a tuner). Nested dicts are flattened with dots."""
        self._ensure_open()
        self.config.update(config)
        snapshot = dict(config)
        self._writer.submit("params", lambda: self._transport.set_params(self.id, snapshot))

    def log_dataset(self, data: Any, name: str | None = None, role: str = "train") -> DatasetLink:
        """Record the version of a file, folder, DataFrame, numpy array or Arrow table this run used.

        The digest is computed here (streamed for files); the same data logged again is the same version.
        """
        self._ensure_open()
        from mltrail.services.tracking.fingerprint import fingerprint  # numpy and pyarrow: only when used

        fp = fingerprint(data, name=name)
        return self._transport.log_dataset(self.id, fp, role)

    def log_artifact(self, path: str | os.PathLike[str], name: str | None = None) -> list[Artifact]:
        """Store a file or a folder as artifacts (content-addressed, deduplicated); ``name`` renames it."""
        self._ensure_open()
        return self._transport.log_artifact(self.id, Path(path), name)

    def log_text(self, path: str, text: str) -> Artifact:
        self._ensure_open()
        return self._transport.log_artifact_bytes(self.id, path, text.encode("utf-8"))

    def log_table(self, name: str, data: Any, step: int | None = None) -> RunTable:
        """Store ``data`` (a pandas or polars DataFrame, an Arrow table, a dict of columns or a list of row
        dicts) as the table ``name`` at ``step`` (default: one past the table's last step), as Parquet.

        Read it back a page at a time, filtered and sorted (``mltrail runs table RUN NAME``, the API)."""
        self._ensure_open()
        from mltrail.services.tracking.table_data import to_arrow, to_parquet, validate_table_name

        validate_table_name(name)
        checked = None if step is None else self._check_step(step)
        return self._transport.log_table(self.id, name, to_parquet(to_arrow(data)), checked, "table")

    def log_predictions(
        self,
        name: str,
        ids: Any,
        y_true: Any,
        y_pred: Any,
        proba: Any = None,
        features: Any = None,
        *,
        step: int | None = None,
        task: str | None = None,
    ) -> RunTable:
        """Store a model's predictions on a set of samples as the table ``name``: one row per unique id, with
        the truth, the prediction, optionally the probabilities (a binary classifier's positive class as one
        array, or an ``(n, classes)`` array in sorted class order, or a dict ``{class: array}``) and feature
        columns (a DataFrame or dict) to slice by. The confusion matrix, per-class precision, recall and F1,
        ROC and PR curves (or residual figures for a regression) are computed and kept with it.

        ``task`` is ``"classification"`` or ``"regression"`` (default: guessed from ``y_true``, see
        docs/TABLES.md). ``mltrail runs samples A B --table NAME`` compares two runs' tables row by row."""
        self._ensure_open()
        from mltrail.services.tracking.table_data import (
            PREDICTION_GROUP_ROWS,
            predictions_table,
            to_parquet,
            validate_table_name,
        )

        validate_table_name(name)
        checked = None if step is None else self._check_step(step)
        table = predictions_table(ids, y_true, y_pred, proba, features, task)
        data = to_parquet(table, PREDICTION_GROUP_ROWS)
        return self._transport.log_table(self.id, name, data, checked, "predictions")

    # -- rich media (docs/MEDIA.md) ----------------------------------------------------------------------
    def log_image(
        self,
        name: str,
        image: Any,
        step: int | None = None,
        boxes: Any = None,
        masks: Any = None,
        caption: str | None = None,
    ) -> RunMedia:
        """Store an image as ``name`` at ``step`` (default: one past the name's last step).

        ``image``: a numpy array (H×W, H×W×3 or H×W×4; uint8, or floats in 0..1), a PIL image, PNG or JPEG
        bytes, or a file path; arrays become PNG. ``boxes``: ``[{x, y, w, h, label, score?}, …]`` in pixels
        from the top-left corner. ``masks``: an H×W array of class numbers, or ``(array, {class: label})``.
        Bytes that are not an image are refused (``InvalidInputError`` naming the field). Through a server the
        item is journaled and the ``RunMedia`` returned is a receipt (step −1 if the server picks it)."""
        self._ensure_open()
        from mltrail.sdk.tracking.media_inputs import image_files

        files, meta = image_files(image, boxes, masks, caption)
        return self._log_media(name, "image", files, meta, step)

    def log_histogram(self, name: str, values: Any, step: int | None = None, bins: int = 64) -> RunMedia:
        """Store a histogram of ``values`` (``bins`` equal bins over their finite range) or of a given
        ``(counts, edges)`` pair as ``name`` at ``step``."""
        self._ensure_open()
        from mltrail.sdk.tracking.media_inputs import histogram_meta

        return self._log_media(name, "histogram", {}, histogram_meta(values, bins), step)

    def log_figure(
        self, name: str, fig: Any, step: int | None = None, caption: str | None = None
    ) -> RunMedia:
        """Store a matplotlib figure (as SVG and PNG) or a plotly figure (as its JSON) as ``name`` at
        ``step``. Neither library is needed unless a figure of it is passed."""
        self._ensure_open()
        from mltrail.sdk.tracking.media_inputs import figure_files

        files, meta = figure_files(fig)
        return self._log_media(name, "figure", files, {**meta, "caption": caption}, step)

    def _log_media(
        self, name: str, kind: str, files: dict[str, bytes], meta: dict[str, Any], step: int | None
    ) -> RunMedia:
        from mltrail.services.tracking.media_check import check_media, encode_bundle, validate_media_name

        validate_media_name(name)
        checked = None if step is None else self._check_step(step)
        clean = check_media(kind, files, meta)  # refused here, before anything is sent or journaled
        bundle = encode_bundle(kind, {role: data for role, (data, _) in clean.files.items()}, clean.meta)
        return self._transport.log_media(self.id, name, bundle, checked)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every point queued so far is in the store (useful before reading it back).

        Through a server, that means acknowledged by it (at most ``timeout`` seconds in all)."""
        deadline = time.monotonic() + timeout
        while (self._writer.pending_points or self._writer.ops) and time.monotonic() < deadline:
            if not self._writer.flush():  # sent from this thread; a failing store ends the wait
                break
        journal = _journaling(self._transport)
        if journal is not None:
            journal.wait_delivered(self.id, max(0.0, deadline - time.monotonic()))

    # -- ending ------------------------------------------------------------------------------------------
    def _ensure_open(self) -> None:
        if self._finished:
            raise RunFinishedError(f"run {self.id} has finished")

    def finish(
        self, status: RunStatus | str = RunStatus.FINISHED, error: BaseException | None = None
    ) -> None:
        """End the run: flush every queued point, then record status, end time and the error if any.

        Raises ``StoreError`` if queued data could not be written — never silently. Through a server, the
        data is journaled on disk first; ``finish`` waits up to ``MLTRAIL_SYNC_TIMEOUT`` for the server to
        acknowledge it and otherwise warns (the background sender and ``mltrail sync`` deliver the rest).
        """
        with self._finish_lock:
            if self._finished:
                return
            final = RunStatus(status)
            for finalizer in self._finalizers:
                try:
                    finalizer()
                except (MltrailError, OSError) as exc:
                    log.warning("mltrail: %s while finishing run %s", exc, self.id)
            self._finished = True
            self.status = final
            err = _describe(error) if error is not None else None
            write_error: StoreError | None = None
            try:
                self._writer.close()
            except StoreError as exc:
                write_error = exc
            self._transport.finish_run(self.id, final, err)
            journal = _journaling(self._transport)
            if journal is not None:
                journal.settle(self.id, self._sync_timeout)
            if write_error is not None:
                raise write_error

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.finish()
        else:
            self.finish(RunStatus.FAILED, error=exc)


def _journaling(transport: Transport) -> JournalingTransport | None:
    """The transport if it journals; the journal module is not imported for that (if it was never
    imported, no transport of this process journals)."""
    module = sys.modules.get("mltrail.sdk.tracking.journal_transport")
    if module is None or not isinstance(transport, module.JournalingTransport):
        return None
    journal: JournalingTransport = transport
    return journal


def _describe(exc: BaseException) -> dict[str, str]:
    return {
        "type": type(exc).__qualname__,
        "message": str(exc)[:10_000],
        "traceback": "".join(traceback.format_exception(exc))[-50_000:],
    }
