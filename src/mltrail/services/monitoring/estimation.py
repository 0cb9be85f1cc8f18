"""Performance estimated before labels arrive: CBPE for classifiers (``stats/estimation.py``) and direct
loss estimation for regression (``stats/loss_estimation.py``, ``loss_model.py``) — what a batch adds to its
windows, the calibration fitted on a labelled reference, and the estimates a report and alert rules read.

Probability columns of a batch: ``score`` is a binary classifier's probability of the positive class
(``1``, ``true``, ``yes``); ``score_<class>`` (one per class, e.g. ``score_cat``, ``score_dog``) are a
multiclass classifier's. The predicted class is the monitor's prediction column. Windows keep the
histograms whether or not the monitor is calibrated yet, so a calibration fitted later (or replaced)
estimates every stored window at once, from the histograms, without re-reading rows.

A regression monitor's "calibration" is its loss model (``method`` dle): each batch ingested while it is kept
adds its rows' predicted absolute and squared errors to the window (key ``loss``). Windows ingested before
it have no such sums; a new model applies to the batches after it (the trees need the rows' features).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mltrail.entities import Monitor, MonitorWindow
from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.inputs import SCORE_COLUMN
from mltrail.services.monitoring.loss_model import fit_loss_model, window_loss_sums
from mltrail.stats.estimation import (
    BAND_SIGMAS,
    ESTIMATED_METRICS,
    POSITIVE_LABELS,
    bin_counts,
    estimate,
    fit_calibration,
    merge_histograms,
    validate_calibration,
)
from mltrail.stats.loss_estimation import (
    LOSS_METRICS,
    estimate_losses,
    merge_loss_sums,
    validate_loss_model,
)

__all__ = [
    "BAND_NOTE",
    "SCORE_PREFIX",
    "calibration_from_table",
    "check_calibration",
    "estimation_delta",
    "estimation_histograms",
    "estimation_section",
    "merge_estimation",
    "probability_columns",
    "window_estimate",
]

SCORE_PREFIX = "score_"
BAND_NOTE = (
    f"The band is ± {BAND_SIGMAS:g} standard errors of sampling: the reference's spread of each metric scaled"
    " by the window's size. Realized performance falls outside it by chance about 3 times in 1,000 while"
    " the relation between probabilities and outcomes stays as on the reference; a change in that relation"
    " (concept drift) is not covered, and shows only once labels arrive."
)


def probability_columns(names: Sequence[str]) -> list[str]:
    """The columns holding predicted probabilities: ``score`` (binary) and ``score_<class>``."""
    return [n for n in names if n == SCORE_COLUMN or (n.startswith(SCORE_PREFIX) and len(n) > 6)]


def _texts(column: pa.ChunkedArray) -> npt.NDArray[Any]:
    """Class labels as text, as ``inputs.label_text`` writes them (True → ``1``, 2.0 → ``2``), vectorized;
    None where missing."""
    kind = column.type
    if pa.types.is_boolean(kind):
        column = pc.cast(column, pa.int8())
    elif pa.types.is_floating(kind):
        values = column.to_numpy(zero_copy_only=False).astype(np.float64)
        whole = np.isfinite(values) & (values == np.floor(values))
        out = np.where(whole, np.where(whole, values, 0).astype(np.int64).astype(str), values.astype(str))
        texts: npt.NDArray[Any] = out.astype(object)
        texts[np.isnan(values)] = None
        return texts
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        try:
            column = pc.cast(column, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return np.array([None if v is None else str(v) for v in column.to_pylist()], dtype=object)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)


def _probabilities(column: pa.ChunkedArray) -> npt.NDArray[np.float64] | None:
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        return None  # not numbers: no histogram (the raw rows keep what was sent)
    values: npt.NDArray[np.float64] = (
        pc.fill_null(pc.cast(column, pa.float64()), math.nan).to_numpy(zero_copy_only=False)
    ).astype(np.float64)
    return values


def _positive(column: pa.ChunkedArray) -> npt.NDArray[np.bool_]:
    """Which predictions are the positive class (``1``, ``true``, ``yes``), without text for numbers."""
    kind = column.type
    if pa.types.is_boolean(kind):
        flags = column
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        flags = pc.equal(column, 1)
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        flags = pc.is_in(column, value_set=pa.array(POSITIVE_LABELS, type=kind))
    else:
        return np.isin(_texts(column), POSITIVE_LABELS)
    out: npt.NDArray[np.bool_] = pc.fill_null(flags, False).to_numpy(zero_copy_only=False).astype(bool)
    return out


def estimation_histograms(
    table: pa.Table, prediction: str, features: Sequence[str] = ()
) -> dict[str, Any] | None:
    """What a batch (or one window's part of it) adds to its window's estimation accumulator: per
    probability column, its histograms over the rows predicted as that class and over the rest. None
    when the batch has no probability columns or no prediction column. A watched feature that happens to
    be named ``score…`` is an input, not a probability."""
    columns = [c for c in probability_columns(table.column_names) if c not in features]
    if not columns or prediction not in table.column_names or table.num_rows == 0:
        return None
    predicted = table.column(prediction)
    texts = None
    out: dict[str, Any] = {}
    for name in columns:
        values = _probabilities(table.column(name))
        if values is None:
            continue
        if name == SCORE_COLUMN:
            flags = _positive(predicted)
        else:
            texts = _texts(predicted) if texts is None else texts
            flags = texts == name[len(SCORE_PREFIX) :]
        out[name] = bin_counts(values, flags)
    return out or None


def estimation_delta(table: pa.Table, monitor: Monitor) -> dict[str, Any] | None:
    """What a batch (or one window's part of it) adds to its window's ``estimation``: a classifier's
    probability histograms, or a regression's loss sums under its loss model."""
    if monitor.task == "regression":
        sums = window_loss_sums(table, monitor.calibration)
        return None if sums is None else {"loss": sums}
    return estimation_histograms(table, monitor.prediction, monitor.features)


def merge_estimation(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    loss = [part["loss"] for part in (a, b) if "loss" in part]
    out: dict[str, Any] = merge_histograms(
        {k: v for k, v in a.items() if k != "loss"}, {k: v for k, v in b.items() if k != "loss"}
    )
    if loss:
        out["loss"] = merge_loss_sums(loss[0], loss[1]) if len(loss) == 2 else dict(loss[0])
    return out


def calibration_from_table(
    table: pa.Table, *, label: str, prediction: str, task: str, features: Sequence[str] = ()
) -> dict[str, Any]:
    """The calibration fitted on a labelled reference table: its ``label`` column (the truth), the
    ``prediction`` column (the predicted class) and its probability columns (``score``, or one
    ``score_<class>`` per class). For a regression, the loss model (DLE) of its numeric ``features`` and
    the prediction (scikit-learn needed)."""
    if task == "regression":
        return fit_loss_model(table, label=label, prediction=prediction, features=features)
    if task != "classification":
        raise InvalidInputError("task must be classification or regression", field="task")
    for column, what in ((label, "label"), (prediction, "prediction")):
        if column not in table.column_names:
            raise InvalidInputError(f"the reference has no {what} column {column!r}", field=what)
    columns = probability_columns(table.column_names)
    labels = _texts(table.column(label))
    if SCORE_COLUMN in columns:
        seen = set(labels.tolist())
        classes = {SCORE_COLUMN: next((p for p in POSITIVE_LABELS if p in seen), POSITIVE_LABELS[0])}
    else:
        classes = {c: c[len(SCORE_PREFIX) :] for c in columns}
        if len(classes) < 2:
            raise InvalidInputError(
                "the reference needs predicted probabilities: a score column (the positive class's,"
                " binary) or one score_<class> column per class (multiclass)",
                field="score",
            )
    known = np.array([v is not None for v in labels], dtype=bool)
    if not known.any():
        raise InvalidInputError(f"the label column {label!r} has no values", field="label")
    predicted = _texts(table.column(prediction))[known]
    probabilities = {}
    for column in classes:
        values = _probabilities(table.column(column))
        if values is None:
            raise InvalidInputError(f"{column} must hold numbers (probabilities)", field=column)
        probabilities[column] = values[known]
    try:
        return fit_calibration(list(labels[known]), list(predicted), probabilities, classes)
    except ValueError as exc:
        raise InvalidInputError(str(exc), field="score") from None


def validated_calibration(doc: Any, *, task: str, features: Sequence[str], prediction: str) -> dict[str, Any]:
    """A calibration document checked for a monitor of ``task`` before it is kept (InvalidInputError):
    CBPE's for a classifier, a loss model reading only watched columns for a regression."""
    try:
        if task == "regression":
            return validate_loss_model(doc, [*features, prediction])
        return validate_calibration(doc)
    except ValueError as exc:
        raise InvalidInputError(f"calibration: {exc}", field="calibration") from None


def check_calibration(doc: Any, monitor: Monitor) -> dict[str, Any]:
    """A calibration document sent by a client for ``monitor``, checked before it is kept."""
    return validated_calibration(
        doc, task=monitor.task, features=monitor.features, prediction=monitor.prediction
    )


def _estimate(estimation: Mapping[str, Any], calibration: Mapping[str, Any]) -> dict[str, Any]:
    if calibration.get("method") == "dle":
        loss = estimation.get("loss")
        return estimate_losses(loss, calibration) if loss else {}
    return estimate(estimation, calibration)


def window_estimate(window: MonitorWindow, monitor: Monitor) -> dict[str, Any]:
    """A window's estimated metrics (each ``{value, lower, upper}``, plus ``rows``); empty before the
    monitor is calibrated or without probabilities (loss sums for a regression)."""
    if not monitor.calibration or not window.estimation:
        return {}
    return _estimate(window.estimation, monitor.calibration)


def estimation_section(
    monitor: Monitor, windows: Sequence[MonitorWindow], rows: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The report's ``estimation``: whether and how the monitor is calibrated, the period's estimate
    from the merged histograms, what the band means, and — for windows with labels too — how far the
    estimate was from realized performance (mean absolute error, windows within the band)."""
    calibration = monitor.calibration
    regression = monitor.task == "regression"
    metrics = LOSS_METRICS if regression else ESTIMATED_METRICS
    section: dict[str, Any] = {
        "calibrated": bool(calibration),
        "method": "DLE" if regression else "CBPE",
        "metrics": list(metrics),
        "band": BAND_NOTE,
    }
    if not calibration:
        what = "inputs, predictions and labels" if regression else "labels and probabilities"
        section["note"] = f"not calibrated: give a reference with {what} (mltrail monitor calibrate)"
        return section
    section["kind"] = "regression" if regression else calibration.get("kind")
    section["reference_rows"] = calibration.get("rows")
    if regression:
        section["inputs"] = list(calibration.get("inputs", []))
    else:
        section["classes"] = [c.get("class") for c in calibration.get("classes", [])]
    merged: dict[str, Any] = {}
    for window in windows:
        merged = merge_estimation(merged, window.estimation)
    section["overall"] = _estimate(merged, calibration) if merged else {}
    error: dict[str, Any] = {}
    for metric in metrics:
        gaps, inside = [], 0
        for row in rows:
            est = row.get("estimated", {}).get(metric)
            real = row.get("performance", {}).get(metric)
            if est is None or real is None:
                continue
            gaps.append(abs(est["value"] - real))
            lower, upper = est.get("lower"), est.get("upper")
            inside += lower is not None and upper is not None and lower <= real <= upper
        if gaps:
            error[metric] = {"mae": sum(gaps) / len(gaps), "windows": len(gaps), "within_band": inside}
    section["error"] = error
    return section
