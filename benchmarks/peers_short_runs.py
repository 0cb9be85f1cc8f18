"""Many short runs in one process, mltrail against MLflow, each in its own process on a fresh SQLite store.

    .venv/bin/python benchmarks/peers_short_runs.py [--runs 1000] [--params 20] [--steps 100] [--metrics 5]
                                                    [--skip-install]

Every tool creates ``runs`` runs one after another, each with ``params`` params and ``steps`` × ``metrics``
points, and ends it; the figure is the seconds from the first run created to the last one ended, and the
process's CPU seconds. The store is read back afterwards (runs, params and points counted).

- mltrail: ``mltrail.init(config=…, capture=False)``, ``run.log`` per step, ``finish()`` (embedded SQLite).
- MLflow (SQLite tracking store ``sqlite:///<tmp>/mlflow.db``), batched, its fastest way: per run
  ``MlflowClient.create_run``, one ``log_batch`` with every param and point, ``set_terminated``.

MLflow lives in the throwaway venv ``.bench-venv`` (never a project dependency), created and filled as
``peers_log_overhead.py`` does it (same pinned version).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers_log_overhead import BENCH_PYTHON, PEER_ENV, PROJECT_PYTHON, prepare_peers


def worker_mltrail(tmp: Path, runs: int, params: int, steps: int, metrics: int) -> dict[str, Any]:
    import mltrail
    from mltrail.sdk.client.connection import embedded_transport

    settings = mltrail.Settings(home=tmp / "store")
    config = {f"param_{i:02d}": i * 0.5 for i in range(params)}
    names = [f"metric_{k}" for k in range(metrics)]
    ids = []
    start, cpu = time.perf_counter(), time.process_time()
    for r in range(runs):
        run = mltrail.init(project="short", config=config, capture=False, settings=settings)
        for step in range(steps):
            run.log({name: step * 0.01 + k + r for k, name in enumerate(names)}, step=step)
        run.finish()
        ids.append(run.id)
    result = {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}
    store = embedded_transport(settings).tracking.store
    last = store.get_run(ids[-1])
    result["check"] = {
        "runs": store.search_runs("short", limit=1).total,
        "params_of_last": len(last.params),
        "points_of_last": sum(m.count for m in last.metrics.values()),
    }
    return result


def worker_mlflow(tmp: Path, runs: int, params: int, steps: int, metrics: int) -> dict[str, Any]:
    import mlflow
    from mlflow.entities import Metric, Param

    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    experiment = client.create_experiment("short")
    names = [f"metric_{k}" for k in range(metrics)]
    start, cpu = time.perf_counter(), time.process_time()
    last = ""
    for r in range(runs):
        run = client.create_run(experiment)
        now = int(time.time() * 1000)
        points = [
            Metric(name, step * 0.01 + k + r, now, step)
            for step in range(steps)
            for k, name in enumerate(names)
        ]
        client.log_batch(
            run.info.run_id,
            metrics=points,
            params=[Param(f"param_{i:02d}", str(i * 0.5)) for i in range(params)],
        )
        client.set_terminated(run.info.run_id)
        last = run.info.run_id
    result: dict[str, Any] = {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
    }
    found = client.get_run(last)
    history = sum(len(client.get_metric_history(last, name)) for name in names)
    result["check"] = {
        "runs": len(client.search_runs([experiment], max_results=runs + 1)),
        "params_of_last": len(found.data.params),
        "points_of_last": history,
    }
    result["version"] = mlflow.__version__
    return result


WORKERS = {"mltrail": worker_mltrail, "mlflow": worker_mlflow}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--params", type=int, default=20)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--metrics", type=int, default=5)
    parser.add_argument("--skip-install", action="store_true", help="use .bench-venv as it is")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    shape = (args.runs, args.params, args.steps, args.metrics)
    if args.worker:
        with tempfile.TemporaryDirectory() as tmp:
            result = WORKERS[args.worker](Path(tmp), *shape)
        args.out.write_text(json.dumps(result))
        return
    versions = prepare_peers(["mlflow"], args.skip_install)
    plan = [("mltrail", PROJECT_PYTHON, dict(os.environ))]
    if "mlflow" in versions:
        plan.append(("mlflow", BENCH_PYTHON, {**os.environ, **PEER_ENV}))
    results: dict[str, Any] = {}
    for kind, python, env in plan:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            cmd = [str(python), __file__, "--worker", kind, "--out", str(out)]
            cmd += ["--runs", str(args.runs), "--params", str(args.params)]
            cmd += ["--steps", str(args.steps), "--metrics", str(args.metrics)]
            print(f"{kind}: running ...", flush=True)
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                results[kind] = {"error": done.stderr.strip().splitlines()[-1:] or done.returncode}
                continue
            results[kind] = json.loads(out.read_text())
    base = results.get("mltrail", {}).get("seconds")
    print(
        f"{args.runs} runs x ({args.params} params, {args.steps} steps x {args.metrics} metrics),"
        f" load average {os.getloadavg()[0]:.2f}"
    )
    for kind, result in results.items():
        if "error" in result:
            print(f"  {kind}: FAILED {result['error']}")
            continue
        ratio = f" ({result['seconds'] / base:.1f}x mltrail)" if base and kind != "mltrail" else ""
        print(
            f"  {kind} {result.get('version', '')}: {result['seconds']:.2f} s"
            f" ({result['seconds'] / args.runs * 1000:.1f} ms/run), CPU {result['cpu_seconds']:.2f} s{ratio};"
            f" read back {result['check']}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
