"""The demo's rich media: a digits classifier (scikit-learn's 8×8 load_digits) whose run logs, per epoch, a
few test digits upscaled to 64×64 with a box around the ink labelled with the prediction, an ink mask, a
histogram of the weights, and at the end a confusion-matrix figure (matplotlib, if installed) and a plotly
curve (if installed). Seen in the UI on the run page's Media tab."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from rich.console import Console
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split

import mltrail

__all__ = ["log_media_demo"]

PROJECT = "demo-digits"
SCALE = 8  # 8×8 → 64×64
SHOWN = 4


def _digit_image(pixels: np.ndarray) -> np.ndarray:
    """A digit (0..16 ink) as a 64×64 uint8 image, dark ink on white."""
    ink = np.kron(pixels.reshape(8, 8), np.ones((SCALE, SCALE)))
    return (255 - ink / 16.0 * 255).astype(np.uint8)


def _ink_box(pixels: np.ndarray, label: str, score: float) -> dict[str, Any]:
    rows, cols = np.nonzero(pixels.reshape(8, 8) > 0)
    y, x = int(rows.min()) * SCALE, int(cols.min()) * SCALE
    h, w = (int(rows.max()) + 1) * SCALE - y, (int(cols.max()) + 1) * SCALE - x
    return {"x": x, "y": y, "w": w, "h": h, "label": label, "score": round(score, 3)}


def _figures(run: Any, truth: np.ndarray, pred: np.ndarray, accuracy: list[float], console: Console) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        console.print(
            "(matplotlib is not installed: no confusion-matrix figure; pip install 'mltrail[media]')"
        )
    else:
        matrix = confusion_matrix(truth, pred)
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.imshow(matrix, cmap="Blues")
        for (i, j), n in np.ndenumerate(matrix):
            ax.text(j, i, str(n), ha="center", va="center", fontsize=7)
        ax.set(
            xlabel="predicted", ylabel="true", title="confusion (test)", xticks=range(10), yticks=range(10)
        )
        run.log_figure("confusion", fig, caption="test split, last epoch")
        plt.close(fig)
    try:
        import plotly.graph_objects as go
    except ImportError:
        return
    curve = go.Figure(
        go.Scatter(x=list(range(len(accuracy))), y=accuracy, mode="lines+markers", name="val/acc")
    )
    curve.update_layout(title="validation accuracy by epoch")
    run.log_figure("accuracy_curve", curve)


def log_media_demo(console: Console, epochs: int = 5) -> str:
    """Train the digits classifier for ``epochs`` epochs in one run of ``demo-digits``; its id."""
    digits = load_digits()
    xtr, xte, ytr, yte = train_test_split(digits.data, digits.target, test_size=0.3, random_state=7)
    model = SGDClassifier(loss="log_loss", alpha=1e-3, random_state=7)
    classes = np.arange(10)
    accuracy: list[float] = []
    tags = {"demo": "true", "dataset": "digits"}
    with mltrail.init(project=PROJECT, name="digits-sgd", tags=tags, capture={"console": False}) as run:
        for epoch in range(epochs):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.partial_fit(xtr / 16.0, ytr, classes=classes)
            proba = model.predict_proba(xte / 16.0)
            pred = proba.argmax(axis=1)
            accuracy.append(float((pred == yte).mean()))
            run.log({"val/acc": accuracy[-1]}, step=epoch)
            for k in range(SHOWN):
                pixels = xte[k]
                box = _ink_box(pixels, f"pred {pred[k]}", float(proba[k].max()))
                mask = (pixels.reshape(8, 8) > 4).astype(np.uint8).repeat(SCALE, 0).repeat(SCALE, 1)
                run.log_image(
                    f"digit_{k}",
                    _digit_image(pixels),
                    step=epoch,
                    boxes=[box],
                    masks=(mask, {0: "paper", 1: "ink"}),
                    caption=f"true {yte[k]}",
                )
            run.log_histogram("weights", model.coef_.ravel(), step=epoch, bins=40)
        _figures(run, yte, pred, accuracy, console)
    console.print(f"digits run {run.id}: {SHOWN} images × {epochs} epochs, weights histograms, figures")
    return run.id
