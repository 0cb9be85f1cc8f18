"""The same metric-logging loop in mltrail, MLflow and Aim, measured in one run, with peer/mltrail ratios.

    cd <repo> && .venv/bin/python benchmarks/peers_log_overhead.py
    options: [--n 100000] [--skip-install] [--only mltrail,aim,mlflow]

(The driver needs only the standard library, so any Python 3.11 runs it; it prints the table with rich
when it can import it, as plain text otherwise.)

What it measures, each tool writing to a local store in a fresh temp folder, each case in its own
subprocess (mltrail with the project's ``.venv/bin/python``; the peers with ``.bench-venv/bin/python``):

- mltrail: ``run.log({"loss": x}, step=i)`` N times, then ``run.finish()`` (every point durable).
- MLflow (SQLite tracking store, ``sqlite:///<tmp>/mlflow.db``):
  - synchronous ``mlflow.log_metric("loss", x, step=i)``: 2,000 calls; the time for N is extrapolated;
  - asynchronous ``log_metric(..., synchronous=False)``: 10,000 calls, then ``end_run()``; with MLflow's
    defaults (``MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS`` unset) each call is queued as its own batch;
  - ``MlflowClient().log_batch`` with 1,000 metrics per call (its best case): N points in N/1,000 calls.
- Aim: ``aim.Run(repo=tmp)`` and ``run.track(x, name="loss", step=i)`` N times (fewer if the loop passes
  60 s), then ``run.close()``. Aim's system-metrics sampler and terminal capture are switched off, as
  mltrail's capture is (``capture=False``); MLflow does neither by default.

For each case: per-call cost as the loop sees it (median and p99 of ``perf_counter_ns`` around each call,
so ~50 ns of timer overhead is included; mean = loop time / calls), and the time from the first call until
the run is finished/closed and the data durable. Creating the run and importing the tool are not timed.
Garbage collection is off during the loop in every case. After the timing, each worker reads the points
back from its store to check they are all there. The table gives per-point costs and the ratio
peer/mltrail; the last line printed is one JSON object with every figure.

The peers are never project dependencies: they go into a throwaway venv ``.bench-venv`` beside the repo
(in .gitignore), created on first use (that takes minutes); ``--skip-install`` uses it as it is. A peer
that cannot be installed or fails to run is reported as such, and the others still run.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PROJECT_PYTHON = REPO / ".venv" / "bin" / "python"
BENCH_VENV = REPO / ".bench-venv"
BENCH_PYTHON = BENCH_VENV / "bin" / "python"
# The versions the issue names (MLflow 3.17, Aim 3.29), at their newest patch on PyPI when this was written.
PINS = {"mlflow": "3.17.2", "aim": "3.29.1"}
TOOLS = ("mltrail", "aim", "mlflow")
MLFLOW_SYNC_CALLS = 2_000
MLFLOW_ASYNC_CALLS = 10_000
MLFLOW_BATCH = 1_000
AIM_BUDGET_S = 60.0
WORKER_TIMEOUT_S = 1_800.0
# Peers must not try to phone home during the measurement (there is no network here anyway).
PEER_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


# ---------------------------------------------------------------------------------------------------------
# Workers: each runs alone in a subprocess, imports only its own tool, and writes one JSON file.
# ---------------------------------------------------------------------------------------------------------


def _summary(costs: list[int], points: int, loop_s: float, durable_s: float) -> dict[str, Any]:
    """Figures shared by every case; ``costs`` are the per-call nanoseconds of the calls that ran."""
    calls = len(costs)
    costs = sorted(costs)
    return {
        "calls": calls,
        "points": points,
        "median_us": statistics.median(costs) / 1000,
        "p99_us": costs[min(int(calls * 0.99), calls - 1)] / 1000,
        "mean_us": loop_s / calls * 1e6,
        "per_point_mean_us": loop_s / points * 1e6,
        "loop_s": loop_s,
        "first_call_to_durable_s": durable_s,
        "per_point_durable_us": durable_s / points * 1e6,
    }


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def worker_mltrail(n: int, tmp: Path) -> dict[str, Any]:
    import mltrail
    from mltrail.sdk.client.connection import close_embedded_transports

    settings = mltrail.Settings(home=tmp / "store")
    run = mltrail.init(project="bench", capture=False, settings=settings)
    costs = [0] * n
    clock = time.perf_counter_ns
    log = run.log
    with _no_gc():
        first = time.perf_counter()
        for i in range(n):
            t0 = clock()
            log({"loss": 1.0 / (i + 1)}, step=i)
            costs[i] = clock() - t0
        loop = time.perf_counter() - first
        run.finish()
        durable = time.perf_counter() - first
    result = _summary(costs, n, loop, durable)
    result["version"] = mltrail.__version__
    close_embedded_transports()
    try:
        from mltrail.store.factory import open_store

        store = open_store(settings.db_url)
        result["verified_points"] = len(store.get_metric_history(run.id, "loss").steps)
        store.close()
    except Exception as exc:  # noqa: BLE001 - the check is best effort; the figures stand without it
        result["verify_error"] = repr(exc)
    return result


def _mlflow_start(tmp: Path) -> Any:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    mlflow.set_experiment("bench")
    return mlflow.start_run()


def _mlflow_verify(result: dict[str, Any], run_id: str) -> None:
    from mlflow import MlflowClient

    try:
        result["verified_points"] = len(MlflowClient().get_metric_history(run_id, "loss"))
    except Exception as exc:  # noqa: BLE001 - best effort
        result["verify_error"] = repr(exc)


def worker_mlflow_sync(n: int, tmp: Path) -> dict[str, Any]:
    import mlflow

    run = _mlflow_start(tmp)
    costs = [0] * n
    clock = time.perf_counter_ns
    log = mlflow.log_metric
    with _no_gc():
        first = time.perf_counter()
        for i in range(n):
            t0 = clock()
            log("loss", 1.0 / (i + 1), step=i, synchronous=True)
            costs[i] = clock() - t0
        loop = time.perf_counter() - first
        mlflow.end_run()
        durable = time.perf_counter() - first
    result = _summary(costs, n, loop, durable)
    result["version"] = mlflow.__version__
    _mlflow_verify(result, run.info.run_id)
    return result


def worker_mlflow_async(n: int, tmp: Path) -> dict[str, Any]:
    import mlflow

    run = _mlflow_start(tmp)
    costs = [0] * n
    clock = time.perf_counter_ns
    log = mlflow.log_metric
    with _no_gc():
        first = time.perf_counter()
        for i in range(n):
            t0 = clock()
            log("loss", 1.0 / (i + 1), step=i, synchronous=False)
            costs[i] = clock() - t0
        loop = time.perf_counter() - first
        # end_run waits for the async queue too; flushing first makes that explicit whatever the version.
        mlflow.flush_async_logging()
        mlflow.end_run()
        durable = time.perf_counter() - first
    result = _summary(costs, n, loop, durable)
    result["version"] = mlflow.__version__
    _mlflow_verify(result, run.info.run_id)
    return result


def worker_mlflow_batch(n: int, tmp: Path) -> dict[str, Any]:
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    run_id = _mlflow_start(tmp).info.run_id
    client = MlflowClient()
    calls = max(1, n // MLFLOW_BATCH)
    costs = [0] * calls
    clock = time.perf_counter_ns
    log_batch = client.log_batch
    with _no_gc():
        first = time.perf_counter()
        for b in range(calls):
            t0 = clock()
            base = b * MLFLOW_BATCH
            stamp = int(time.time() * 1000)
            metrics = [Metric("loss", 1.0 / (s + 1), stamp, s) for s in range(base, base + MLFLOW_BATCH)]
            log_batch(run_id, metrics=metrics)
            costs[b] = clock() - t0
        loop = time.perf_counter() - first
        mlflow.end_run()
        durable = time.perf_counter() - first
    result = _summary(costs, calls * MLFLOW_BATCH, loop, durable)
    result["version"] = mlflow.__version__
    _mlflow_verify(result, run_id)
    return result


def worker_aim(n: int, tmp: Path, budget_s: float = AIM_BUDGET_S) -> dict[str, Any]:
    import importlib.metadata

    import aim
    from aim.storage.context import Context

    run = aim.Run(
        repo=str(tmp), experiment="bench", system_tracking_interval=None, capture_terminal_logs=False
    )
    run_hash = run.hash
    costs = [0] * n
    clock = time.perf_counter_ns
    track = run.track
    done = n
    with _no_gc():
        first = time.perf_counter()
        for i in range(n):
            t0 = clock()
            track(1.0 / (i + 1), name="loss", step=i)
            costs[i] = clock() - t0
            if i % 1000 == 999 and time.perf_counter() - first > budget_s:
                done = i + 1
                break
        loop = time.perf_counter() - first
        run.close()
        durable = time.perf_counter() - first
    result = _summary(costs[:done], done, loop, durable)
    result["version"] = importlib.metadata.version("aim")
    if done < n:
        result["note"] = f"stopped after {done:,} of {n:,} calls: the loop passed {budget_s:.0f} s"
    try:
        from aim.sdk.index_manager import RepoIndexManager

        # A closed run is read through Aim's index, which its UI server builds; build it here instead.
        repo = aim.Repo.from_path(str(tmp))
        RepoIndexManager(repo).index(run_hash)
        metric = repo.get_run(run_hash).get_metric("loss", Context({}))
        result["verified_points"] = len(metric.values.values_list())
    except Exception as exc:  # noqa: BLE001 - best effort
        result["verify_error"] = repr(exc)
    return result


WORKERS: dict[str, Callable[[int, Path], dict[str, Any]]] = {
    "mltrail": worker_mltrail,
    "mlflow_sync": worker_mlflow_sync,
    "mlflow_async": worker_mlflow_async,
    "mlflow_batch": worker_mlflow_batch,
    "aim": worker_aim,
}


def run_worker(kind: str, n: int, out: Path) -> None:
    """Entry point of a worker subprocess: measure, then write the figures as JSON to ``out``."""
    tmp = Path.cwd()
    result = WORKERS[kind](n, tmp)
    result["python"] = platform.python_version()
    out.write_text(json.dumps(result))


# ---------------------------------------------------------------------------------------------------------
# The driver: bench venv, one subprocess per case, table and JSON.
# ---------------------------------------------------------------------------------------------------------


def _installed_version(package: str) -> str | None:
    if not BENCH_PYTHON.exists():
        return None
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    proc = subprocess.run([str(BENCH_PYTHON), "-c", code], capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _pip_install(spec: str, log_path: Path) -> tuple[bool, str]:
    """Install one requirement into the bench venv, echoing pip's main steps; (ok, last lines of output)."""
    cmd = [str(BENCH_PYTHON), "-m", "pip", "install", "--progress-bar", "off", spec]
    tail: list[str] = []
    with (
        log_path.open("w") as log,
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            tail = [*tail[-19:], line.rstrip()]
            if line.startswith(
                ("Collecting ", "Building wheel", "Installing collected", "Successfully", "ERROR")
            ):
                print(f"    pip: {line.rstrip()[:150]}", flush=True)
        code = proc.wait()
    return code == 0, "\n".join(tail)


def prepare_peers(peers: list[str], skip_install: bool) -> dict[str, str]:
    """The peers usable in the bench venv, as name → version; prints why any is missing."""
    if not skip_install and not BENCH_PYTHON.exists():
        print(f"creating the bench venv {BENCH_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    versions: dict[str, str] = {}
    wanted = [*peers, "rich"] if peers else []
    for package in wanted:
        pin = PINS.get(package)
        have = _installed_version(package)
        if have is not None and (pin is None or have == pin):
            print(f"bench venv: {package} {have} already installed", flush=True)
        elif skip_install:
            why = "no bench venv" if not BENCH_PYTHON.exists() else f"installed: {have}, wanted: {pin}"
            print(f"bench venv: {package} not usable with --skip-install ({why})", flush=True)
            if have is None:
                continue
        else:
            spec = f"{package}=={pin}" if pin else package
            print(f"bench venv: installing {spec} (this can take minutes) ...", flush=True)
            started = time.perf_counter()
            ok, tail = _pip_install(spec, BENCH_VENV / f"install-{package}.log")
            if not ok:
                print(
                    f"bench venv: could not install {spec}; the last lines pip printed:\n{tail}", flush=True
                )
                continue
            have = _installed_version(package)
            print(
                f"bench venv: {package} {have} installed in {time.perf_counter() - started:.0f} s", flush=True
            )
        if have is not None and package in peers:
            versions[package] = have
    return versions


def run_case(label: str, kind: str, python: Path, n: int, env: dict[str, str]) -> dict[str, Any]:
    """Run one worker subprocess in a fresh temp folder; its figures, or ``{"error": why}``."""
    print(f"running {label}: {n:,} {'points' if kind == 'mlflow_batch' else 'calls'} ...", flush=True)
    with tempfile.TemporaryDirectory(prefix=f"peers-{kind}-") as tmp:
        out = Path(tmp) / "result.json"
        work = Path(tmp) / "work"
        work.mkdir()
        cmd = [str(python), str(Path(__file__).resolve()), "--worker", kind, "--n", str(n), "--out", str(out)]
        try:
            proc = subprocess.run(
                cmd, cwd=work, env=env, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {WORKER_TIMEOUT_S:.0f} s"}
        if proc.returncode != 0 or not out.exists():
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            return {"error": f"exit {proc.returncode}: " + " | ".join(lines[-3:])}
        result: dict[str, Any] = json.loads(out.read_text())
    check = result.get("verified_points")
    print(
        f"    {result['calls']:,} calls, {result['points']:,} points: median {result['median_us']:.2f} µs, "
        f"p99 {result['p99_us']:.2f} µs, mean {result['mean_us']:.2f} µs per call; first call → durable "
        f"{result['first_call_to_durable_s']:.3f} s; read back: "
        + (f"{check:,} points" if check is not None else f"not checked ({result.get('verify_error')})"),
        flush=True,
    )
    if "note" in result:
        print(f"    note: {result['note']}", flush=True)
    return result


def _machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
    }


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def add_ratios(cases: dict[str, dict[str, Any]], n: int) -> None:
    """Add to each case its peer/mltrail ratios and the seconds N points take (extrapolated if fewer ran)."""
    base = cases.get("mltrail", {})
    for result in cases.values():
        if "error" in result:
            continue
        for name, key in (("loop", "per_point_mean_us"), ("durable", "per_point_durable_us")):
            result[f"x_mltrail_{name}"] = result[key] / base[key] if key in base else None
        result["s_for_n"] = result["per_point_durable_us"] * n / 1e6
        result["s_for_n_extrapolated"] = result["points"] != n


def render(cases: dict[str, dict[str, Any]], labels: dict[str, str], n: int) -> None:
    """Print the per-point table with peer/mltrail ratios (rich when importable, plain text otherwise)."""
    header = [
        "case",
        "calls",
        "points",
        "median µs/call",
        "p99 µs/call",
        "mean µs/call",
        "mean µs/point",
        "× mltrail (loop)",
        "durable µs/point",
        "× mltrail (durable)",
        f"s for {n:,} points",
    ]
    rows: list[list[str]] = []
    for kind, result in cases.items():
        if "error" in result:
            rows.append([labels[kind], "failed", *[""] * (len(header) - 2)])
            continue
        rows.append(
            [
                labels[kind],
                f"{result['calls']:,}",
                f"{result['points']:,}",
                _fmt(result["median_us"]),
                _fmt(result["p99_us"]),
                _fmt(result["mean_us"]),
                _fmt(result["per_point_mean_us"], 3),
                _fmt(result["x_mltrail_loop"], 1),
                _fmt(result["per_point_durable_us"], 3),
                _fmt(result["x_mltrail_durable"], 1),
                _fmt(result["s_for_n"], 2) + (" (extrapolated)" if result["s_for_n_extrapolated"] else ""),
            ]
        )
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, ["-" * w for w in widths], *rows]:
            print(
                "  ".join(
                    cell.rjust(w) if i else cell.ljust(w)
                    for i, (cell, w) in enumerate(zip(row, widths, strict=True))
                )
            )
        return
    table = Table(title="Logging one metric: cost per point, and peer / mltrail")
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, default=100_000, help="calls for mltrail and Aim; points for log_batch"
    )
    parser.add_argument("--skip-install", action="store_true", help="use .bench-venv as it is")
    parser.add_argument(
        "--only", default=",".join(TOOLS), help="comma-separated subset of mltrail,aim,mlflow"
    )
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.n, args.out)
        return

    only = [tool.strip() for tool in args.only.split(",") if tool.strip()]
    unknown = sorted(set(only) - set(TOOLS))
    if unknown:
        parser.error(f"--only: unknown tool(s) {', '.join(unknown)}; choose from {', '.join(TOOLS)}")
    machine = _machine()
    print(f"machine: {machine['cpu']}, {machine['nproc']} CPUs, {machine['os']} {machine['machine']}")
    versions = prepare_peers([tool for tool in only if tool != "mltrail"], args.skip_install)
    print("peer versions used: " + (", ".join(f"{k} {v}" for k, v in versions.items()) or "none"))

    n = args.n
    peer_env = {**os.environ, **PEER_ENV}
    # (case, label, interpreter, calls, environment); the peers' figures are per call, not per run.
    plan: list[tuple[str, str, Path, int, dict[str, str]]] = []
    if "mltrail" in only:
        plan.append(("mltrail", "mltrail run.log", PROJECT_PYTHON, n, dict(os.environ)))
    if "mlflow" in versions:
        mlflow = f"MLflow {versions['mlflow']}"
        plan.append(
            ("mlflow_sync", f"{mlflow} log_metric sync", BENCH_PYTHON, min(n, MLFLOW_SYNC_CALLS), peer_env)
        )
        plan.append(
            ("mlflow_async", f"{mlflow} log_metric async", BENCH_PYTHON, min(n, MLFLOW_ASYNC_CALLS), peer_env)
        )
        plan.append(("mlflow_batch", f"{mlflow} log_batch ×{MLFLOW_BATCH:,}", BENCH_PYTHON, n, peer_env))
    if "aim" in versions:
        plan.append(("aim", f"Aim {versions['aim']} run.track", BENCH_PYTHON, n, peer_env))

    cases: dict[str, dict[str, Any]] = {}
    labels: dict[str, str] = {}
    for kind, label, python, calls, env in plan:
        labels[kind] = label
        cases[kind] = run_case(label, kind, python, calls, env)
        if "error" in cases[kind]:
            print(f"    FAILED: {cases[kind]['error']}", flush=True)

    print()
    add_ratios(cases, n)
    render(cases, labels, n)
    for kind, result in cases.items():
        if "error" not in result and result["points"] != n:
            print(
                f"EXTRAPOLATED: {labels[kind]} measured {result['points']:,} points, not {n:,}; its "
                f"'s for {n:,} points' is durable µs/point x {n:,}, a linear extrapolation."
            )
    print(
        "µs/point = loop time / points (the training loop's cost); durable = from the first call until the "
        "run is finished/closed. × mltrail = peer figure / mltrail figure (higher is slower than mltrail)."
    )
    print(
        json.dumps(
            {
                "benchmark": "peers_log_overhead",
                "n": n,
                "machine": machine,
                "versions": {
                    "mltrail": cases.get("mltrail", {}).get("version"),
                    **versions,
                },
                "peer_env": PEER_ENV,
                "cases": {kind: {"label": labels[kind], **result} for kind, result in cases.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
