"""The data of benchmarks/ui_speed.py, the same for mltrail and MLflow: standard library only, fixed seeds.

Imported by ``ui_speed.py`` (mltrail's venv) and by ``ui_speed_mlflow.py`` (run by MLflow's throwaway venv),
so both tools get the very same runs.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

TABLE_PROJECT = "ui-10k"
CHARTS_PROJECT = "ui-charts"
START = 1.7e9  # run i starts at START + 60 i: the newest run is the last one seeded

PARAMS = [
    "lr",
    "optimizer",
    "batch_size",
    "epochs",
    "dropout",
    "model",
    "weight_decay",
    "seed",
    "augment",
    "warmup_steps",
]
METRICS = [
    "train/loss",
    "val/loss",
    "val/acc",
    "val/f1",
    "val/auc",
    "val/precision",
    "val/recall",
    "test/acc",
    "lr_now",
    "grad_norm",
    "throughput",
    "epoch_time",
]
TAGS = ["team", "stage", "owner", "dataset", "branch", "host", "framework", "priority"]
STEPS = 5  # points per metric of a table run
# The table's 30 columns: 10 params, 12 metrics (last value), 8 tags.
COLUMNS = len(PARAMS) + len(METRICS) + len(TAGS)

BIG_METRIC = "loss"
BIG_POINTS = 1_000_000
OVERLAY_RUNS = 20
OVERLAY_METRICS = ["loss", "val/acc"]
OVERLAY_POINTS = 50_000  # per metric of an overlay run


@dataclass(frozen=True)
class RunSpec:
    """One run of the 10,000: what both tools store."""

    name: str
    user: str
    start_time: float
    end_time: float | None  # None: still running
    failed: bool
    params: dict[str, float | int | str | bool]
    tags: dict[str, str]
    # metric key -> values at steps 0..STEPS-1
    metrics: dict[str, list[float]]


def table_run(i: int) -> RunSpec:
    """Run number ``i`` of the table project (seeded by ``i``)."""
    rng = random.Random(i)
    params: dict[str, float | int | str | bool] = {
        "lr": rng.choice([0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03]),
        "optimizer": rng.choice(["adam", "adamw", "sgd"]),
        "batch_size": rng.choice([16, 32, 64, 128, 256]),
        "epochs": rng.randint(1, 100),
        "dropout": round(rng.random() * 0.5, 3),
        "model": rng.choice(["resnet18", "resnet50", "vit-b", "bert-base"]),
        "weight_decay": rng.choice([0.0, 1e-4, 1e-2]),
        "seed": i,
        "augment": rng.random() < 0.5,
        "warmup_steps": rng.choice([0, 100, 1000]),
    }
    owner = f"user{rng.randint(1, 40)}"
    tags = {
        "team": rng.choice(["vision", "nlp", "speech", "revision-tools"]),
        "stage": rng.choice(["dev", "prod"]),
        "owner": owner,
        "dataset": rng.choice(["imagenet-1k", "cifar10", "squad-v2", "librispeech"]),
        "branch": rng.choice(["main", "exp/vit", "fix/loader"]),
        "host": f"gpu-{rng.randint(1, 12):02d}",
        "framework": rng.choice(["torch", "jax", "tensorflow"]),
        "priority": rng.choice(["low", "normal", "high"]),
    }
    metrics = {key: [round(rng.random(), 6) for _ in range(STEPS)] for key in METRICS}
    start = START + i * 60
    roll = rng.random()
    ended = roll < 0.95
    return RunSpec(
        name=f"run-{i:05d}",
        user=owner,
        start_time=start,
        end_time=start + 60 + rng.random() * 3600 if ended else None,
        failed=roll < 0.04,
        params=params,
        tags=tags,
        metrics=metrics,
    )


def curve(points: int, seed: int, spikes: int = 20) -> list[float]:
    """A noisy decaying loss curve with ``spikes`` outliers (what a min/max downsampling must keep)."""
    rng = random.Random(seed)
    out = []
    for s in range(points):
        base = 2.0 * math.exp(-s / (points / 5)) + 0.05
        out.append(base + rng.gauss(0.0, 0.02))
    for _ in range(spikes):
        out[rng.randrange(points)] += 5.0 + rng.random()
    return out


def accuracy(points: int, seed: int) -> list[float]:
    """A noisy rising accuracy curve."""
    rng = random.Random(seed)
    return [
        min(1.0, 0.5 + 0.45 * (1 - math.exp(-s / (points / 4))) + rng.gauss(0.0, 0.01)) for s in range(points)
    ]
