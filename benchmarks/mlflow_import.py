"""``mltrail import mlflow`` over an MLflow file store of 1,000 runs and 1,000,000 metric points.

    .venv/bin/python benchmarks/mlflow_import.py [--runs 1000] [--points 1000]

Writes the store in MLflow's ``FileStore`` layout (``mlruns/<experiment>/<run>/{meta.yaml,params,tags,
metrics}``: the same files MLflow's client writes, made directly so the benchmark needs no MLflow), then
times ``mltrail --dir TMP import mlflow --from mlruns`` in a fresh process, then again (everything skipped).
Prints the load average beside the figures. Target (issue 16): ≤ 30 s for 1,000 runs and 1,000,000 points.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MLTRAIL = str(Path(sys.executable).parent / "mltrail")


def write_store(root: Path, runs: int, points: int) -> None:
    rng = random.Random(16)
    experiment = root / "1"
    experiment.mkdir(parents=True)
    (experiment / "meta.yaml").write_text(
        f"artifact_location: file://{experiment}\nexperiment_id: '1'\nlifecycle_stage: active\nname: bench\n"
    )
    (root / "0").mkdir()
    (root / "0" / "meta.yaml").write_text("experiment_id: '0'\nlifecycle_stage: active\nname: Default\n")
    start = 1_700_000_000_000
    for i in range(runs):
        run_id = f"{i:032x}"
        folder = experiment / run_id
        for sub in ("params", "tags", "metrics", "artifacts"):
            (folder / sub).mkdir(parents=True)
        (folder / "meta.yaml").write_text(
            f"artifact_uri: file://{folder}/artifacts\nend_time: {start + 60_000}\nexperiment_id: '1'\n"
            f"lifecycle_stage: active\nrun_id: {run_id}\nrun_name: run-{i}\nstart_time: {start}\nstatus: 3\n"
            "user_id: bench\n"
        )
        (folder / "params" / "lr").write_text(str(rng.choice([0.1, 0.01, 0.001])))
        (folder / "tags" / "mlflow.runName").write_text(f"run-{i}")
        per_key = points // 2
        for key in ("loss", "acc"):
            lines = [f"{start + s} {rng.random()} {s}\n" for s in range(per_key)]
            (folder / "metrics" / key).write_text("".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1000, help="metric points per run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mlruns = Path(tmp) / "mlruns"
        write_store(mlruns, args.runs, args.points)
        env = {**os.environ, "MLTRAIL_DIR": str(Path(tmp) / "mltrail")}
        command = [MLTRAIL, "import", "mlflow", "--from", str(mlruns)]
        for label in ("first import", "second import (all skipped)"):
            load = os.getloadavg()
            began = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            seconds = time.perf_counter() - began
            print(f"{label}: {seconds:.1f} s  ({args.runs} runs, {args.runs * args.points:,} points)")
            print(f"  {done.stdout.strip()}")
            print(f"  load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
