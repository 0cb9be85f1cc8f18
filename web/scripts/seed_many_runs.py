"""Seed a project with many runs for trying the runs table at scale (10,000 runs by default).

    .venv/bin/python web/scripts/seed_many_runs.py --dir /tmp/mltrail-scale [--runs 10000] [--steps 10]

Each run gets 20 params, 10 metrics logged for ``--steps`` steps, a summary, tags, a git commit in its
context, a user among six and a start time spread over the last eight weeks; about 4% fail. Writes go
straight to the store (as benchmarks/store_queries.py does), so 10,000 runs take a minute or two.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from pathlib import Path

from mltrail.entities import MetricsBatch, RunStatus
from mltrail.services.tracking import TrackingService
from mltrail.settings import Settings
from mltrail.store.factory import open_store

USERS = ["ana", "bob", "chen", "dara", "emil", "fatou"]
METRICS = [
    "train/loss",
    "val/loss",
    "val/acc",
    "val/f1",
    "val/auc",
    "lr",
    "grad_norm",
    "sys/cpu_percent",
    "sys/rss_mb",
    "throughput",
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", default="", help="store folder (default: MLTRAIL_DIR or ./mltrail)")
    parser.add_argument("--project", default="scale-10k")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    settings = Settings.from_env()
    home = Path(args.dir) if args.dir else settings.home
    home.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{home / 'mltrail.db'}")
    tracking = TrackingService(store)
    rng = random.Random(14)  # noqa: S311 - test data, not secrets
    now = time.time()
    commits = [uuid.uuid4().hex + uuid.uuid4().hex[:8] for _ in range(40)]
    started = time.perf_counter()
    for r in range(args.runs):
        run_id = uuid.uuid4().hex
        start = now - rng.uniform(0, 56 * 86400)
        lr = rng.choice([1e-4, 3e-4, 1e-3, 3e-3, 1e-2])
        config = {
            "model": {
                "type": rng.choice(["resnet18", "resnet50", "vit-s", "mlp"]),
                "depth": rng.randint(2, 24),
            },
            "optim": {
                "name": rng.choice(["adam", "adamw", "sgd"]),
                "lr": lr,
                "wd": rng.choice([0.0, 1e-4, 1e-2]),
            },
            "data": {"batch_size": rng.choice([32, 64, 128, 256]), "augment": rng.random() < 0.5, "seed": r},
            **{f"h{k:02d}": round(rng.random(), 4) for k in range(13)},
        }
        user = rng.choice(USERS)
        git = {
            "commit": rng.choice(commits),
            "branch": rng.choice(["main", "exp/vit", "fix/loader"]),
            "dirty": rng.random() < 0.3,
        }
        tracking.start_run(
            run_id=run_id,
            project=args.project,
            name=f"run-{r:05d}",
            user=user,
            config=config,
            tags={"team": rng.choice(["vision", "nlp"]), "sweep": f"s{r // 500}"},
            context={"git": git, "environment": {"hostname": f"gpu-{rng.randint(1, 12):02d}"}},
            start_time=start,
        )
        quality = rng.random()
        keys, steps, values, walls = [], [], [], []
        for step in range(args.steps):
            t = (step + 1) / args.steps
            for key in METRICS:
                if key.endswith("loss"):
                    v = (1.5 - quality) * (1 - 0.7 * t) + rng.random() * 0.05
                elif key.startswith("val/"):
                    v = min(1.0, 0.5 + 0.45 * quality * t + rng.random() * 0.02)
                else:
                    v = rng.random() * 100
                keys.append(key)
                steps.append(step)
                values.append(v)
                walls.append(start + step * 30)
        tracking.log_metrics(run_id, MetricsBatch(keys=keys, steps=steps, values=values, wall_times=walls))
        best = max(v for k, v in zip(keys, values, strict=True) if k == "val/acc")
        tracking.set_summary(run_id, {"best_val_acc": best, "epochs": args.steps})
        failed = rng.random() < 0.04
        tracking.finish_run(
            run_id,
            status=RunStatus.FAILED if failed else RunStatus.FINISHED,
            error={"type": "RuntimeError", "message": "CUDA out of memory"} if failed else None,
            end_time=start + args.steps * 30 + rng.uniform(60, 7200),
        )
        if (r + 1) % 1000 == 0:
            print(f"{r + 1:,} runs in {time.perf_counter() - started:.0f} s", flush=True)
    store.close()
    print(f"seeded {args.runs:,} runs into project {args.project} at {home}")


if __name__ == "__main__":
    main()
