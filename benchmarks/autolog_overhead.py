"""What autologging adds to training time: a 100-tree XGBoost model and a 3-epoch Lightning run.

    .venv/bin/python benchmarks/autolog_overhead.py [--repeats 5] [--rows 50000]

Each case runs alternately without mltrail and with it (interleaved, so load changes hit both alike),
``--repeats`` times, in one process, against the embedded SQLite store in a temp folder (capture off, as a
CI job would set it; system metrics and git capture have their own benchmarks). The time with mltrail is
the whole call as the training script sees it: the run started, every round's metrics, the feature
importance, the model saved and logged, the training metrics, and the run finished and durable.

- XGBoost: ``xgboost.train`` with 100 rounds, depth 6, on ``--rows`` × 20 generated features, an
  evaluation set of a fifth of that (so per-round metrics are logged), with ``mltrail.xgboost.autolog()``.
- Lightning: 3 epochs of a 2-layer MLP on ``--rows`` × 20 generated rows (batch 256, a validation loader),
  ``logger=False`` against ``logger=MltrailLogger(log_model=True)`` (checkpoints logged).

Prints, for each, the median and min of the wall time and of the process's CPU time (all threads:
XGBoost's, torch's and mltrail's writer), the overhead of the medians in %, and the load average around
the run. On a loaded machine the wall times swing by tens of % between repeats; CPU time is the steadier
measure of the work autologging adds.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _xgboost_case(rows: int) -> tuple[Callable[[], None], Callable[[], None]]:
    import xgboost as xgb

    import mltrail

    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows + rows // 5, 20)).astype("float32")
    y = (x[:, 0] + x[:, 1] * x[:, 2] + rng.normal(scale=0.5, size=len(x)) > 0).astype("int32")
    dtrain = xgb.DMatrix(x[:rows], label=y[:rows])
    dval = xgb.DMatrix(x[rows:], label=y[rows:])
    params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "nthread": 2, "seed": 0}

    def train() -> None:
        xgb.train(params, dtrain, 100, evals=[(dval, "val")], verbose_eval=False)

    def plain() -> None:
        mltrail.autolog(disable=True)
        train()

    def logged() -> None:
        mltrail.xgboost.autolog()
        train()
        mltrail.xgboost.autolog(disable=True)

    return plain, logged


def _lightning_case(rows: int, root: Path) -> tuple[Callable[[], None], Callable[[], None]]:
    import lightning.pytorch as pl
    import torch

    from mltrail.lightning import MltrailLogger

    torch.set_num_threads(2)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(rows, 20, generator=generator)
    y = (x[:, :5].sum(dim=1, keepdim=True) > 0).float()
    data = torch.utils.data.TensorDataset(x, y)
    val = torch.utils.data.TensorDataset(x[: rows // 5], y[: rows // 5])

    class Mlp(pl.LightningModule):  # type: ignore[misc]
        def __init__(self, hidden: int = 64) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(20, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
            )

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(self.net(batch[0]), batch[1])
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(self.net(batch[0]), batch[1])
            self.log("val_loss", loss)

        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    def fit(logger: Any, folder: str) -> None:
        torch.manual_seed(0)
        trainer = pl.Trainer(
            max_epochs=3,
            logger=logger,
            accelerator="cpu",
            devices=1,
            enable_progress_bar=False,
            enable_model_summary=False,
            log_every_n_steps=10,
            default_root_dir=str(root / folder),
        )
        trainer.fit(
            Mlp(),
            torch.utils.data.DataLoader(data, batch_size=256, shuffle=True, generator=generator),
            torch.utils.data.DataLoader(val, batch_size=1024),
        )

    counter = iter(range(10**6))
    return (
        lambda: fit(False, f"plain-{next(counter)}"),
        lambda: fit(MltrailLogger(log_model=True), f"logged-{next(counter)}"),
    )


def _interleaved(name: str, plain: Callable[[], None], logged: Callable[[], None], repeats: int) -> None:
    plain()  # warm-up of both: imports, first store, first DMatrix use
    logged()
    wall: dict[str, list[float]] = {"without": [], "with": []}
    cpu: dict[str, list[float]] = {"without": [], "with": []}
    load_before = os.getloadavg()
    for _ in range(repeats):
        for label, call in (("without", plain), ("with", logged)):
            started, started_cpu = time.perf_counter(), time.process_time()
            call()
            wall[label].append(time.perf_counter() - started)
            cpu[label].append(time.process_time() - started_cpu)
    load_after = os.getloadavg()
    for what, times in (("wall", wall), ("cpu", cpu)):
        without, with_ = statistics.median(times["without"]), statistics.median(times["with"])
        least, least_with = min(times["without"]), min(times["with"])
        print(
            f"{name} [{what}]: without mltrail median {without:.3f} s (min {least:.3f}); "
            f"with autolog median {with_:.3f} s (min {least_with:.3f}); "
            f"overhead {100 * (with_ - without) / without:+.1f} % of the median "
            f"({100 * (least_with - least) / least:+.1f} % of the min)"
        )
    print(f"{name}: load average {load_before[0]:.2f} -> {load_after[0]:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--case", choices=["xgboost", "lightning", "all"], default="all")
    args = parser.parse_args()
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="mltrail-bench-autolog-") as tmp:
        os.environ["MLTRAIL_DIR"] = str(Path(tmp) / "mltrail")
        os.environ["MLTRAIL_PROJECT"] = "autolog-bench"
        os.environ["MLTRAIL_CAPTURE"] = "0"
        print(f"load average at start: {os.getloadavg()}")
        if args.case in ("xgboost", "all"):
            _interleaved("xgboost 100 rounds", *_xgboost_case(args.rows), args.repeats)
        if args.case in ("lightning", "all"):
            _interleaved("lightning 3 epochs", *_lightning_case(args.rows, Path(tmp)), args.repeats)


if __name__ == "__main__":
    main()
