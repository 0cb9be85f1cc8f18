"""MLflow's UI on the runs of benchmarks/ui_speed.py: seeding (run by MLflow's throwaway venv) and measuring.

    /tmp/mlflow-venv/bin/python benchmarks/ui_speed_mlflow.py seed DB_PATH RUNS   (called by ui_speed.py)

Seeding goes through MLflow's own client on its SQLite tracking store (``sqlite:///…/mlflow.db``), its
fastest documented way: per run ``MlflowClient.create_run`` (name, start time, the 8 tags and the user),
one ``log_batch`` with the 10 params and the 12 metrics × 5 steps, ``set_terminated``; the 1M-point metric
in ``log_batch`` calls of 1,000 points (MLflow's limit per batch). MLflow lives in ``/tmp/mlflow-venv``
(``python3 -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/pip install mlflow``), never a project
dependency.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ui_speed_data as data

MLFLOW_VENV = Path("/tmp/mlflow-venv")
PEER_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
BATCH = 1_000


def seed(db_path: str, runs: int) -> None:
    """Runs in MLflow's venv: the table experiment, then the run with the 1M-point metric."""
    from mlflow.entities import Metric, Param, RunStatus, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{db_path}")
    table = client.create_experiment(data.TABLE_PROJECT)
    t0 = time.perf_counter()
    for i in range(runs):
        spec = data.table_run(i)
        start_ms = int(spec.start_time * 1000)
        run = client.create_run(
            table,
            start_time=start_ms,
            tags={**spec.tags, "mlflow.user": spec.user},
            run_name=spec.name,
        )
        rid = run.info.run_id
        metrics = [
            Metric(key, value, start_ms + step * 1000, step)
            for key, values in spec.metrics.items()
            for step, value in enumerate(values)
        ]
        params = [Param(k, str(v)) for k, v in spec.params.items()]
        client.log_batch(rid, metrics=metrics, params=params, tags=[RunTag("seed", str(i))])
        if spec.end_time is not None:
            status = RunStatus.to_string(RunStatus.FAILED if spec.failed else RunStatus.FINISHED)
            client.set_terminated(rid, status=status, end_time=int(spec.end_time * 1000))
        if i % 1000 == 999:
            print(f"  mlflow: {i + 1} runs in {time.perf_counter() - t0:.0f} s", flush=True)
    charts = client.create_experiment(data.CHARTS_PROJECT)
    big = client.create_run(charts, start_time=int(data.START * 1000), run_name="metric-1m").info.run_id
    values = data.curve(data.BIG_POINTS, seed=1)
    t1 = time.perf_counter()
    for b in range(0, len(values), BATCH):
        client.log_batch(
            big,
            metrics=[
                Metric(data.BIG_METRIC, values[s], int((data.START + s * 0.01) * 1000), s)
                for s in range(b, min(len(values), b + BATCH))
            ],
        )
    client.set_terminated(big, status="FINISHED")
    print(f"  mlflow: 1M points in {time.perf_counter() - t1:.0f} s", flush=True)
    print(json.dumps({"runs": runs, "table": table, "charts": charts, "big": big}))


def _serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    cmd = [
        str(MLFLOW_VENV / "bin" / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{db}",
        "--default-artifact-root",
        str(db.parent / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    # Its own process group: `mlflow server` starts uvicorn as a child, and both are stopped together.
    return subprocess.Popen(cmd, env={**os.environ, **PEER_ENV}, start_new_session=True)


def measure(home: Path, runs: int, expect: dict[str, object], repeat: int) -> list[Any]:
    """Seed (once; reused from ``home``), start ``mlflow server`` and measure its UI like ours."""
    import ui_mlflow_pages

    home.mkdir(parents=True, exist_ok=True)
    db = home / "mlflow.db"
    mark = home / "seeded.json"
    if not (mark.exists() and json.loads(mark.read_text())["runs"] == runs):
        db.unlink(missing_ok=True)
        t0 = time.perf_counter()
        out = subprocess.run(
            [str(MLFLOW_VENV / "bin" / "python"), __file__, "seed", str(db), str(runs)],
            env={**os.environ, **PEER_ENV},
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"MLflow seeding failed:\n{out.stderr[-3000:]}")
        mark.write_text(out.stdout.strip().splitlines()[-1])
        print(f"MLflow: seeded in {time.perf_counter() - t0:.0f} s (MlflowClient.log_batch)")
    seeded = json.loads(mark.read_text())
    return ui_mlflow_pages.measure(home, seeded, expect, repeat, _serve)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "seed":
        seed(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit(__doc__)
