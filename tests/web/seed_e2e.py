"""Seed a store for the web UI's end-to-end test through the public SDK (run as a script, MLTRAIL_DIR set).

Run from inside a git repository with an uncommitted change, so each run stores ``code/diff.patch``.
Writes: project ``e2e`` with four runs (params, 20-step curves, a dataset), model ``e2e-model`` v1 from the
best run with a pending request to production, ``e2e-challenger`` v1 from the second run, monitor
``e2e-monitor`` on v1 with ten days of traffic that drifts from day six and an alert rule that fires on it,
and deployment ``e2e-deploy`` (two spec versions, written by ``admin``).
"""

from __future__ import annotations

import json
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import mltrail

DAY = 86400.0


def _png(width: int, height: int) -> bytes:
    """A small gradient PNG, written by hand so the seed needs no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixel = bytearray()
    for y in range(height):
        pixel.append(0)  # filter type of the row: none
        for x in range(width):
            pixel.extend((x * 255 // width, y * 255 // height, 160))
    rows = bytes(pixel)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def deploy(deployments: Any) -> None:
    """Deployment ``e2e-deploy`` at v2: e2e-model:1 with e2e-challenger:1 as shadow, then a canary, a
    fallback chain and a budget added."""
    first = {"primary": "e2e-model:1", "shadow": ["e2e-challenger:1"], "monitor": "e2e-monitor"}
    deployments.create("e2e-deploy", first, comment="shadow first")
    second = {
        **first,
        "canary": {"ref": "e2e-challenger:1", "percent": 10},
        "fallback": [
            {"model": "e2e-challenger:1"},
            {"rule": "threshold", "feature": "age", "threshold": 50, "above": 1, "below": 0},
        ],
        "timeout_ms": 100,
    }
    deployments.update("e2e-deploy", second, comment="canary 10% and a fallback")


def main() -> None:
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {"age": rng.normal(40, 10, n), "income": rng.normal(50, 15, n), "score": rng.normal(0, 1, n)}
    )
    frame["target"] = ((frame["age"] / 10 + frame["score"]) > 4).astype(int)
    features = ["age", "income", "score"]
    best: tuple[float, str] = (-1.0, "")
    model = None
    for i, (lr, c) in enumerate([(0.1, 1.0), (0.01, 0.5), (0.05, 2.0), (0.2, 0.1)]):
        with mltrail.init(
            project="e2e",
            name=f"e2e-run-{i}",
            config={"lr": lr, "C": c, "opt": "adam" if i % 2 else "sgd"},
            tags={"suite": "e2e"},
        ) as run:
            run.log_dataset(frame, name="e2e-train", role="train")
            for step in range(20):
                run.log(
                    {"loss": (1.0 / (step + 1)) * (1 + i * 0.1), "acc": 0.5 + 0.02 * step * (1 - i * 0.1)},
                    step=step,
                )
            fitted = LogisticRegression(C=c, max_iter=200).fit(frame[features], frame["target"])
            acc = float((fitted.predict(frame[features]) == frame["target"]).mean())
            run.summary["final_acc"] = acc
            print(f"run {i}: acc {acc}", file=sys.stderr)
            if acc > best[0]:
                best, model = (acc, run.id), fitted
            if i == 0:
                run.log_text("eval/confusion.csv", "label,predicted_0,predicted_1\n0,180,4\n1,3,213\n")
                with tempfile.TemporaryDirectory() as tmp:
                    image = Path(tmp) / "curve.png"
                    image.write_bytes(_png(64, 32))
                    run.log_artifact(image, name="plots/curve.png")
                mltrail.models.register(
                    "e2e-model", run=run, model=fitted, input_example=frame[features].head(5)
                )
            if i == 1:  # the deployment's challenger (canary, shadow, fallback model)
                mltrail.models.register(
                    "e2e-challenger", run=run, model=fitted, input_example=frame[features].head(5)
                )
    _version, request = mltrail.models.transition("e2e-model", 1, to="production", comment="ready for prod")
    assert request is not None, "production should be protected"
    assert model is not None
    reference = frame[features].assign(prediction=model.predict(frame[features]))
    mon = mltrail.monitor("e2e-model:1", name="e2e-monitor", reference=reference, drift={"small_sample": 0})
    mon.add_alert("drift.score", feature="*", above=0.1)
    start = (time.time() // DAY - 10) * DAY
    for day in range(10):
        batch = frame[features].sample(300, replace=True, random_state=day).reset_index(drop=True)
        if day >= 6:
            batch["age"] += 25.0
        mon.log(
            batch, model.predict(batch), timestamps=start + day * DAY + rng.uniform(0, DAY - 1, len(batch))
        )
    mon.flush()
    opened = mon.alerts("open")
    mon.close()
    deploy(mltrail.connect().deployments("admin"))
    print(json.dumps({"request": request.id, "alerts": len(opened), "best_run": best[1]}))


if __name__ == "__main__":
    main()
