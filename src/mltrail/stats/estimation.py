"""Confidence-based performance estimation (CBPE): classifier metrics estimated from predicted
probabilities before labels arrive. Pure numpy, JSON in and out.

Per window we keep, for each probability column, two fixed-bin histograms of that probability
(``BINS`` equal bins over [0, 1]): one over the rows where that class was predicted, one over the rest.
Integer counts only, so windows merge exactly in any order. A calibration, fitted on a labelled reference,
maps each bin to the probability that the row truly is of that class (isotonic, pooled adjacent
violators over the reference's bins). The expected confusion counts of a window are then dot products of
its histograms with that map, so any window can be estimated under any calibration without its rows:

* binary (column ``score``: the positive class's probability): expected TP = Σ predicted-positive · cal,
  FP = Σ predicted-positive · (1 − cal), FN = Σ predicted-negative · cal, TN the rest; accuracy,
  precision, recall and F1 follow; ROC AUC from the bins ordered by score with expected positives
  ``count · cal`` and negatives ``count · (1 − cal)`` per bin (ties within a bin count half).
* multiclass (one column per class): per class the same with its own column, one-vs-rest; accuracy is
  Σ expected TP over rows; precision, recall, F1 and ROC AUC are macro averages over the classes.

The confidence band is NannyML's sampling-error band: each metric's standard deviation on the reference
scaled by the window's size (√n), ± ``BAND_SIGMAS`` standard errors; ROC AUC's standard error is
Hanley & McNeil's (1982). It says how far realized performance may fall from the estimate by sampling
alone when the relation between probabilities and labels is as on the reference; it does not cover a
change of that relation (concept drift), which only labels reveal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "BAND_SIGMAS",
    "BINS",
    "ESTIMATED_METRICS",
    "POSITIVE_LABELS",
    "Histograms",
    "bin_counts",
    "estimate",
    "fit_calibration",
    "merge_histograms",
    "validate_calibration",
]

BINS = 200
BAND_SIGMAS = 3.0
ESTIMATED_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
# Class labels read as the positive class of a binary classifier (as the realized metrics read them).
POSITIVE_LABELS = ("1", "true", "True", "1.0", "yes")
CALIBRATION_VERSION = 1

# {probability column: {"predicted": [[bin, ...], [count, ...]], "other": [[...], [...]]}}: the non-empty
# bins ascending and their counts (sparse: an hour window of a segment fills few bins).
Histograms = dict[str, dict[str, list[list[int]]]]
FloatArray = npt.NDArray[np.float64]


def _bins(probabilities: FloatArray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Each value's bin, and which values are probabilities at all (finite, within [0, 1])."""
    ok = np.isfinite(probabilities) & (probabilities >= 0.0) & (probabilities <= 1.0)
    index = np.minimum((np.where(ok, probabilities, 0.0) * BINS).astype(np.int64), BINS - 1)
    return index, ok


def _sparse(counts: npt.NDArray[np.int64]) -> list[list[int]]:
    filled = np.flatnonzero(counts)
    return [filled.tolist(), counts[filled].tolist()]


def dense(part: Sequence[Sequence[int]] | None) -> FloatArray:
    """A sparse histogram ``[bins, counts]`` as BINS counts."""
    out = np.zeros(BINS, dtype=np.float64)
    if part and len(part[0]):
        np.add.at(out, np.asarray(part[0], dtype=np.int64), np.asarray(part[1], dtype=np.float64))
    return out


def bin_counts(probabilities: FloatArray, predicted: npt.NDArray[np.bool_]) -> dict[str, list[list[int]]]:
    """One column's two histograms: over the rows where its class was predicted, and over the rest."""
    index, ok = _bins(np.asarray(probabilities, dtype=np.float64))
    hit = np.bincount(index[ok & predicted], minlength=BINS)
    miss = np.bincount(index[ok & ~predicted], minlength=BINS)
    return {"predicted": _sparse(hit), "other": _sparse(miss)}


def merge_histograms(a: Mapping[str, Any], b: Mapping[str, Any]) -> Histograms:
    """The sum of two windows' histograms (exact, so the order of merges never changes a figure)."""
    out: Histograms = {col: dict(parts) for col, parts in a.items()}
    for column, parts in b.items():
        mine = out.setdefault(column, {})
        for part, counts in parts.items():
            total = dense(mine.get(part)) + dense(counts)  # counts below 2**53: exact in float64
            mine[part] = _sparse(total.astype(np.int64))
    return out


# -- calibration ---------------------------------------------------------------------------------------


def _isotonic(values: FloatArray, weights: FloatArray) -> FloatArray:
    """Non-decreasing least-squares fit (pool adjacent violators) of ``values`` weighted by ``weights``."""
    blocks: list[list[float]] = []  # [weighted mean, weight, points]
    for v, w in zip(values.tolist(), weights.tolist(), strict=True):
        blocks.append([v, w, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    return np.repeat([b[0] for b in blocks], [int(b[2]) for b in blocks]).astype(np.float64)


def _calibration_map(probabilities: FloatArray, truth: npt.NDArray[np.bool_]) -> list[float]:
    """Per bin, the isotonic estimate of P(class | probability in bin) from the reference. Bins the
    reference left empty take the value interpolated between their neighbours (held flat at the ends)."""
    index, ok = _bins(probabilities)
    counts = np.bincount(index[ok], minlength=BINS).astype(np.float64)
    hits = np.bincount(index[ok & truth], minlength=BINS).astype(np.float64)
    filled = np.flatnonzero(counts)
    if not filled.size:
        return [float(x) for x in (np.arange(BINS) + 0.5) / BINS]
    fitted = _isotonic(hits[filled] / counts[filled], counts[filled])
    values = np.interp(np.arange(BINS), filled, fitted)
    return [round(float(v), 12) for v in values]


def _sd(flags: npt.NDArray[np.bool_]) -> float:
    return float(np.std(flags)) if flags.size else 0.0


def fit_calibration(
    labels: Sequence[str],
    predicted: Sequence[str],
    probabilities: Mapping[str, FloatArray],
    classes: Mapping[str, str],
) -> dict[str, Any]:
    """The calibration document (JSON) fitted on a labelled reference: for each probability column
    (``classes`` maps it to the class it is the probability of; one column, ``score``, for a binary
    classifier), its bin map and the reference's standard deviations behind the confidence band.

    ``labels`` and ``predicted`` are class labels as text; rows whose probability is missing count only
    where it is not needed."""
    y = np.asarray(labels, dtype=object)
    yhat = np.asarray(predicted, dtype=object)
    if y.size == 0:
        raise ValueError("the reference has no labelled rows")
    binary = len(classes) == 1
    entries = []
    for column, cls in classes.items():
        p = np.asarray(probabilities[column], dtype=np.float64)
        if binary:
            truth = np.isin(y, POSITIVE_LABELS)
            pred = np.isin(yhat, POSITIVE_LABELS)
        else:
            truth, pred = y == cls, yhat == cls
        ok = np.isfinite(p) & (p >= 0) & (p <= 1)
        if not ok.any():
            raise ValueError(f"{column} has no probabilities between 0 and 1")
        tp, fp, fn = truth & pred, ~truth & pred, truth & ~pred
        entries.append(
            {
                "column": column,
                "class": cls,
                "map": _calibration_map(p[ok], truth[ok]),
                "sd": {
                    "precision": _sd(tp[pred]),
                    "recall": _sd(tp[truth]),
                    "f1": _sd(tp[tp | fp | fn]),
                },
                "reference_rate": float(truth.mean()),
            }
        )
    correct = np.isin(y, POSITIVE_LABELS) == np.isin(yhat, POSITIVE_LABELS) if binary else (y == yhat)
    return {
        "method": "cbpe",
        "version": CALIBRATION_VERSION,
        "kind": "binary" if binary else "multiclass",
        "bins": BINS,
        "rows": int(y.size),
        "sd": {"accuracy": _sd(correct)},
        "classes": entries,
    }


def validate_calibration(doc: Any) -> dict[str, Any]:
    """The calibration document checked (shape, finite probabilities); ValueError naming what is wrong."""
    if not isinstance(doc, Mapping) or doc.get("method") != "cbpe":
        raise ValueError("a calibration is a mapping with method 'cbpe'")
    if doc.get("version") != CALIBRATION_VERSION or doc.get("bins") != BINS:
        raise ValueError(f"calibration version must be {CALIBRATION_VERSION} with {BINS} bins")
    entries = doc.get("classes")
    if not isinstance(entries, list) or not entries:
        raise ValueError("calibration classes must be a non-empty list")
    for entry in entries:
        cal = entry.get("map") if isinstance(entry, Mapping) else None
        if not isinstance(cal, list) or len(cal) != BINS or not isinstance(entry.get("column"), str):
            raise ValueError(f"each calibration class needs a column and a map of {BINS} probabilities")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0 for v in cal):
            raise ValueError("calibration maps hold probabilities between 0 and 1")
        sd = entry.get("sd")
        if not isinstance(sd, Mapping) or not all(
            isinstance(sd.get(k), int | float) and math.isfinite(sd[k]) for k in ("precision", "recall", "f1")
        ):
            raise ValueError("each calibration class needs finite sd.precision, sd.recall and sd.f1")
    sd = doc.get("sd")
    accuracy_sd = sd.get("accuracy") if isinstance(sd, Mapping) else None
    if not isinstance(accuracy_sd, int | float) or not math.isfinite(accuracy_sd):
        raise ValueError("a calibration needs a finite sd.accuracy")
    kind = "binary" if len(entries) == 1 else "multiclass"
    if doc.get("kind") != kind:
        raise ValueError(f"a calibration with {len(entries)} classes is {kind}")
    return dict(doc)


# -- estimation ----------------------------------------------------------------------------------------


def _auc(pos: FloatArray, neg: FloatArray) -> float | None:
    n_pos, n_neg = float(pos.sum()), float(neg.sum())
    if n_pos <= 0 or n_neg <= 0:
        return None
    below = np.concatenate([[0.0], np.cumsum(neg)[:-1]])
    return float(np.sum(pos * (below + 0.5 * neg)) / (n_pos * n_neg))


def _auc_se(auc: float, n_pos: float, n_neg: float) -> float:
    """Hanley & McNeil's standard error of an AUC over n_pos positives and n_neg negatives."""
    if n_pos < 1 or n_neg < 1:
        return math.inf
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _se(sd: float, n: float) -> float:
    return sd / math.sqrt(n) if n > 0 else math.inf


def _class_figures(entry: Mapping[str, Any], parts: Mapping[str, Any]) -> dict[str, Any]:
    cal = np.asarray(entry["map"], dtype=np.float64)
    hit, miss = dense(parts.get("predicted")), dense(parts.get("other"))
    tp, fp, fn = float(hit @ cal), float(hit @ (1 - cal)), float(miss @ cal)
    n_pred, n_actual = float(hit.sum()), tp + fn
    n = n_pred + float(miss.sum())
    sd = entry["sd"]
    out: dict[str, Any] = {"n": n, "tp": tp, "tn": float(miss @ (1 - cal)), "metrics": {}}
    precision, recall = _ratio(tp, n_pred), _ratio(tp, n_actual)
    errors = tp + fp + fn
    if precision is not None:
        out["metrics"]["precision"] = (precision, _se(sd["precision"], n_pred))
    if recall is not None:
        out["metrics"]["recall"] = (recall, _se(sd["recall"], n_actual))
    if errors > 0:
        f1, x = 2 * tp / (tp + errors), tp / errors
        # F1 = 2x / (1 + x) with x = TP / (TP + FP + FN): the band of x carried through dF1/dx.
        out["metrics"]["f1"] = (f1, 2 / (1 + x) ** 2 * _se(sd["f1"], errors))
    rows = hit + miss
    auc = _auc(rows * cal, rows * (1 - cal))
    if auc is not None:
        out["metrics"]["roc_auc"] = (auc, _auc_se(auc, float(rows @ cal), float(rows @ (1 - cal))))
    return out


def _band(value: float, se: float) -> dict[str, float | None]:
    if not math.isfinite(se):
        return {"value": value, "lower": None, "upper": None}
    return {
        "value": value,
        "lower": max(0.0, value - BAND_SIGMAS * se),
        "upper": min(1.0, value + BAND_SIGMAS * se),
    }


def estimate(histograms: Mapping[str, Any], calibration: Mapping[str, Any]) -> dict[str, Any]:
    """The estimated metrics of a window (or a merged period) under ``calibration``: each metric as
    ``{"value", "lower", "upper"}`` plus ``rows`` (the rows with probabilities); empty without them."""
    entries = calibration["classes"]
    per_class = [_class_figures(e, histograms[e["column"]]) for e in entries if e["column"] in histograms]
    if len(per_class) != len(entries) or not per_class or per_class[0]["n"] <= 0:
        return {}  # a window without every probability column the calibration reads
    n = per_class[0]["n"]
    out: dict[str, Any] = {"rows": n}
    if calibration["kind"] == "binary":
        only = per_class[0]
        accuracy = (only["tp"] + only["tn"]) / n
        out["accuracy"] = _band(accuracy, _se(calibration["sd"]["accuracy"], n))
        for metric, (value, se) in only["metrics"].items():
            out[metric] = _band(value, se)
        return out
    accuracy = sum(c["tp"] for c in per_class) / n
    out["accuracy"] = _band(accuracy, _se(calibration["sd"]["accuracy"], n))
    for metric in ("precision", "recall", "f1", "roc_auc"):
        found = [c["metrics"].get(metric) for c in per_class]
        if any(f is None for f in found):
            continue
        values = [f[0] for f in found if f is not None]
        errors = [f[1] for f in found if f is not None]
        # Macro average; the classes' standard errors taken as independent.
        se = math.sqrt(sum(e * e for e in errors)) / len(errors)
        out[metric] = _band(sum(values) / len(values), se)
    return out
