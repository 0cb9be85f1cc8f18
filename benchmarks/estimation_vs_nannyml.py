"""Performance estimated before labels (mltrail's CBPE and DLE) against the truth and against NannyML's
CBPE and DLE, on the same generated data with known labels.

Two classifiers whose probabilities are miscalibrated (so both estimators must calibrate), a binary one
and a three-class one, and a regression whose errors grow with one input (direct loss estimation). A
labelled reference of 20,000 rows, then 8 windows of 5,000 rows whose inputs shift (covariate shift
only: P(y | x) is fixed), which moves true performance up and down. For every
window the script prints the true metric (from the labels, which neither estimator sees), mltrail's
estimate, NannyML's, and at the end each one's mean absolute estimation error per metric, and how often
the truth fell inside each one's confidence band.

NannyML is never a project dependency: it runs in a throwaway virtual environment, given by --nannyml
(default /tmp/nannyml-venv/bin/python; `python3.11 -m venv /tmp/nannyml-venv &&
/tmp/nannyml-venv/bin/pip install nannyml statsmodels`). Without it the NannyML columns are left out.

    .venv/bin/python benchmarks/estimation_vs_nannyml.py [--nannyml PYTHON] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from mltrail.services.monitoring.estimation import calibration_from_table, estimation_histograms
from mltrail.services.monitoring.loss_model import loss_inputs
from mltrail.stats.estimation import ESTIMATED_METRICS, estimate
from mltrail.stats.loss_estimation import LOSS_METRICS, estimate_losses, loss_sums

REFERENCE_ROWS = 20_000
WINDOW_ROWS = 5_000
SHIFTS = (0.0, 0.0, 0.5, 1.0, 1.5, -0.5, -1.0, -1.5)
CLASSES = ("a", "b", "c")

_NANNYML = r"""
import json, sys, warnings
warnings.filterwarnings("ignore")
import pandas as pd, nannyml as nml
spec = json.loads(sys.argv[1])
reference = pd.read_csv(spec["reference"])
analysis = pd.read_csv(spec["analysis"])
if spec["kind"] == "regression":
    est = nml.DLE(feature_column_names=["x1", "x2"], y_pred="prediction", y_true="label",
                  metrics=spec["metrics"], chunk_size=spec["chunk"])
elif spec["kind"] == "binary":
    kw = dict(problem_type="classification_binary", y_pred_proba="score")
else:
    for df in (reference, analysis):
        df["prediction"] = df["prediction"].astype(str); df["label"] = df["label"].astype(str)
    kw = dict(problem_type="classification_multiclass",
              y_pred_proba={c: f"score_{c}" for c in spec["classes"]})
if spec["kind"] != "regression":
    est = nml.CBPE(y_pred="prediction", y_true="label", metrics=spec["metrics"],
                   chunk_size=spec["chunk"], **kw)
est.fit(reference)
df = est.estimate(analysis.drop(columns=["label"])).filter(period="analysis").to_df()
out = {m: {"value": df[(m, "value")].tolist(),
           "lower": df[(m, "lower_confidence_boundary")].tolist(),
           "upper": df[(m, "upper_confidence_boundary")].tolist()} for m in spec["metrics"]}
print(json.dumps(out))
"""


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1 / (1 + np.exp(-z))
    return out


def binary_frame(n: int, shift: float, seed: int) -> pd.DataFrame:
    """True P(y=1 | x) = σ(2·x1 − x2); the model says σ(1.1·x1 − 0.5·x2 + 0.3) (too flat, biased)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(shift, 1.0, n), rng.normal(0.0, 1.0, n)
    label = (rng.random(n) < _sigmoid(2 * x1 - x2)).astype(np.int64)
    score = _sigmoid(1.1 * x1 - 0.5 * x2 + 0.3)
    return pd.DataFrame(
        {"x1": x1, "x2": x2, "score": score, "prediction": (score >= 0.5).astype(np.int64), "label": label}
    )


def multiclass_frame(n: int, shift: float, seed: int) -> pd.DataFrame:
    """True class probabilities softmax(2·x1, 2·x2, −x1 − x2); the model's softmax at temperature 1/0.6."""
    rng = np.random.default_rng(seed)
    x = rng.normal([shift, 0.0], 1.0, (n, 2))
    logits = np.stack([2 * x[:, 0], 2 * x[:, 1], -x[:, 0] - x[:, 1]], axis=1)

    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        out: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return out

    truth = softmax(logits)
    label = (rng.random((n, 1)) > np.cumsum(truth, axis=1)).sum(axis=1)
    model = softmax(0.6 * logits)
    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1]})
    for i, c in enumerate(CLASSES):
        frame[f"score_{c}"] = model[:, i]
    frame["prediction"] = np.array(CLASSES)[model.argmax(axis=1)]
    frame["label"] = np.array(CLASSES)[label]
    return frame


def regression_frame(n: int, shift: float, seed: int) -> pd.DataFrame:
    """y = 2·x1 + noise whose spread is 0.2 + |x2|; the model predicts 2·x1, so moving x2 moves its
    errors (a shift past the reference's range of x2 is extrapolation for both estimators' trees)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(0, 1, n), rng.normal(shift, 1, n)
    label = 2 * x1 + rng.normal(0, 1, n) * (0.2 + np.abs(x2))
    return pd.DataFrame({"x1": x1, "x2": x2, "prediction": 2 * x1, "label": label})


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    order = np.argsort(p, kind="stable")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    pos = int(y.sum())
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * (len(y) - pos)))


def _class_truth(y: np.ndarray, pred: np.ndarray, p: np.ndarray) -> dict[str, float]:
    tp = float((y & pred).sum())
    precision = tp / pred.sum() if pred.sum() else 0.0
    recall = tp / y.sum() if y.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "roc_auc": _auc(y, p)}


def truth(frame: pd.DataFrame, kind: str) -> dict[str, float]:
    """The realized metrics from the labels (binary: the positive class's; multiclass: macro)."""
    if kind == "regression":
        error = (frame["label"] - frame["prediction"]).to_numpy()
        return {"mae": float(np.abs(error).mean()), "rmse": float(np.sqrt((error**2).mean()))}
    out = {"accuracy": float((frame["prediction"].astype(str) == frame["label"].astype(str)).mean())}
    if kind == "binary":
        y, pred = frame["label"].to_numpy() == 1, frame["prediction"].to_numpy() == 1
        return out | _class_truth(y, pred, frame["score"].to_numpy())
    per = [
        _class_truth(
            (frame["label"] == c).to_numpy(),
            (frame["prediction"] == c).to_numpy(),
            frame[f"score_{c}"].to_numpy(),
        )
        for c in CLASSES
    ]
    return out | {m: float(np.mean([p[m] for p in per])) for m in ("precision", "recall", "f1", "roc_auc")}


def ours(
    kind: str, reference: pd.DataFrame, windows: list[pd.DataFrame]
) -> tuple[list[dict[str, Any]], float]:
    started = time.perf_counter()
    table = pa.Table.from_pandas(reference, preserve_index=False)
    task = "regression" if kind == "regression" else "classification"
    calibration = calibration_from_table(
        table, label="label", prediction="prediction", task=task, features=["x1", "x2"]
    )
    results = []
    if kind == "regression":
        for window in windows:
            x = loss_inputs(pa.Table.from_pandas(window, preserve_index=False), calibration["inputs"])
            results.append(estimate_losses(loss_sums(calibration, x), calibration))
        return results, time.perf_counter() - started
    for window in windows:
        unlabelled = pa.Table.from_pandas(window.drop(columns=["label"]), preserve_index=False)
        histograms = estimation_histograms(unlabelled, "prediction")
        assert histograms is not None
        results.append(estimate(histograms, calibration))
    return results, time.perf_counter() - started


def nannyml(
    python: str, kind: str, reference: pd.DataFrame, windows: list[pd.DataFrame]
) -> tuple[dict[str, Any] | None, float]:
    if not Path(python).exists():
        return None, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        ref_path, ana_path = Path(tmp) / "reference.csv", Path(tmp) / "analysis.csv"
        reference.to_csv(ref_path, index=False)
        pd.concat(windows, ignore_index=True).to_csv(ana_path, index=False)
        spec = {
            "kind": kind,
            "reference": str(ref_path),
            "analysis": str(ana_path),
            "metrics": list(LOSS_METRICS if kind == "regression" else ESTIMATED_METRICS),
            "chunk": WINDOW_ROWS,
            "classes": list(CLASSES),
        }
        started = time.perf_counter()
        done = subprocess.run(
            [python, "-c", _NANNYML, json.dumps(spec)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        elapsed = time.perf_counter() - started  # includes NannyML's import (several seconds)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result, elapsed


def run(kind: str, python: str) -> dict[str, Any]:
    make = {"binary": binary_frame, "multiclass": multiclass_frame, "regression": regression_frame}[kind]
    metrics = LOSS_METRICS if kind == "regression" else ESTIMATED_METRICS
    reference = make(REFERENCE_ROWS, 0.0, 1)
    windows = [make(WINDOW_ROWS, shift, 100 + i) for i, shift in enumerate(SHIFTS)]
    true = [truth(w, kind) for w in windows]
    mine, my_seconds = ours(kind, reference, windows)
    theirs, their_seconds = nannyml(python, kind, reference, windows)
    print(f"\n## {kind}: reference {REFERENCE_ROWS:,} rows, {len(windows)} windows of {WINDOW_ROWS:,}\n")
    header = "| window | shift | metric | true | mltrail | NannyML |"
    print(header + "\n|---:|---:|---|---:|---:|---:|")
    errors: dict[str, dict[str, list[float]]] = {m: {"mltrail": [], "nannyml": []} for m in metrics}
    covered: dict[str, dict[str, int]] = {m: {"mltrail": 0, "nannyml": 0} for m in metrics}
    for i, shift in enumerate(SHIFTS):
        for metric in metrics:
            t = true[i][metric]
            m = mine[i][metric]
            errors[metric]["mltrail"].append(abs(m["value"] - t))
            covered[metric]["mltrail"] += int(m["lower"] <= t <= m["upper"])
            cell = "—"
            if theirs is not None:
                n = theirs[metric]
                errors[metric]["nannyml"].append(abs(n["value"][i] - t))
                covered[metric]["nannyml"] += int(n["lower"][i] <= t <= n["upper"][i])
                cell = f"{n['value'][i]:.4f}"
            print(f"| {i} | {shift:+.1f} | {metric} | {t:.4f} | {m['value']:.4f} | {cell} |")
    print(
        "\n| metric | mltrail MAE | NannyML MAE | mltrail max | NannyML max"
        " | truth in band (mltrail / NannyML) |"
    )
    print("|---|---:|---:|---:|---:|---|")
    summary: dict[str, Any] = {}
    for metric in metrics:
        mine_e, their_e = errors[metric]["mltrail"], errors[metric]["nannyml"]
        summary[metric] = {
            "mltrail_mae": float(np.mean(mine_e)),
            "nannyml_mae": float(np.mean(their_e)) if their_e else None,
            "mltrail_max": float(np.max(mine_e)),
            "nannyml_max": float(np.max(their_e)) if their_e else None,
            "mltrail_in_band": covered[metric]["mltrail"],
            "nannyml_in_band": covered[metric]["nannyml"] if their_e else None,
        }
        s = summary[metric]
        their_mae = f"{s['nannyml_mae']:.4f}" if their_e else "—"
        their_max = f"{s['nannyml_max']:.4f}" if their_e else "—"
        their_band = f"{s['nannyml_in_band']}/{len(SHIFTS)}" if their_e else "—"
        print(
            f"| {metric} | {s['mltrail_mae']:.4f} | {their_mae} | {s['mltrail_max']:.4f} | {their_max} |"
            f" {s['mltrail_in_band']}/{len(SHIFTS)} / {their_band} |"
        )
    print(
        f"\ntime: mltrail {my_seconds:.2f} s (fit + {len(windows)} windows, in process);"
        f" NannyML {their_seconds:.2f} s (subprocess, including its import)"
    )
    return {"kind": kind, "summary": summary, "truth": true, "mltrail": mine, "nannyml": theirs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nannyml", default="/tmp/nannyml-venv/bin/python", help="python with nannyml")
    parser.add_argument("--json", type=Path, help="write every figure here too")
    args = parser.parse_args()
    print(f"# estimation vs NannyML · python {sys.version.split()[0]} · {os.cpu_count()} CPUs")
    results = [run(kind, args.nannyml) for kind in ("binary", "multiclass", "regression")]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
