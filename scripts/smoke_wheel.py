"""Smoke test of an installed mltrail wheel with no extras: what a new user's training script and CLI touch.

Run by `make smoke` with the Python of a fresh venv that holds the wheel and its base dependencies only:

    build/smoke-venv/bin/python scripts/smoke_wheel.py

It works in an empty temporary folder (runs go to ./mltrail there), prints each check, and exits non-zero
at the first failure. Standard library, numpy and pyarrow only (both are base dependencies).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT = "smoke"
CHECKS: list[str] = []


class Threshold:
    """A plain Python model (no framework in a base install): 1 where the first feature is positive."""

    def predict(self, x: Any) -> Any:
        return (x[:, 0] > 0).astype(int)


def check(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Run the decorated function at once as one named check; the first failure ends the script."""

    def run(fn: Callable[[], Any]) -> Callable[[], Any]:
        started = time.perf_counter()
        try:
            detail = fn()
        except Exception:  # noqa: BLE001 - any failure fails the smoke test, with its traceback
            print(f"FAIL  {name}", flush=True)
            traceback.print_exc()
            sys.exit(1)
        took = time.perf_counter() - started
        print(f"ok    {name} ({took:.2f} s)" + (f": {detail}" if detail else ""), flush=True)
        CHECKS.append(name)
        return fn

    return run


def cli(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    """Run the installed `mltrail` command; fail with its output unless it exits with ``expect``."""
    exe = shutil.which("mltrail", path=str(Path(sys.executable).parent))
    if exe is None:
        raise AssertionError(f"no mltrail command beside {sys.executable}")
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    done = subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=60, check=False)
    if done.returncode != expect:
        raise AssertionError(
            f"`mltrail {' '.join(args)}` exited {done.returncode}, expected {expect}\n"
            f"--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
        )
    return done


def main() -> None:
    # A clean slate: no settings from the caller's environment, an empty folder as the working directory.
    for key in [k for k in os.environ if k.startswith("MLTRAIL_")]:
        del os.environ[key]
    folder = Path(tempfile.mkdtemp(prefix="mltrail-smoke-"))
    os.chdir(folder)
    print(f"smoke test of the installed wheel in {Path.cwd()} with {sys.executable}", flush=True)
    started = time.perf_counter()
    state: dict[str, Any] = {}

    @check("mltrail is the installed wheel, with no extras")
    def _installed() -> str:
        import mltrail

        location = Path(mltrail.__file__).resolve()
        assert "site-packages" in location.parts, f"mltrail imported from {location}, not from a venv"
        assert (location.parent / "py.typed").is_file(), "py.typed is missing"
        migrations = location.parent / "store" / "migrations"
        assert (migrations / "script.py.mako").is_file(), "the Alembic script template is missing"
        assert list((migrations / "versions").glob("0001*.py")), "the Alembic versions are missing"
        extras = ("fastapi", "uvicorn", "scipy", "pandas", "sklearn", "psycopg")
        present = [m for m in extras if importlib.util.find_spec(m)]
        assert not present, f"expected a base install, found {present}"
        return f"{location.parent}; fastapi, scipy and pandas absent"

    @check("mltrail.init, run.log for 50 steps, summary, finish")
    def _track() -> str:
        import mltrail

        run = mltrail.init(project=PROJECT, config={"lr": 0.01, "model": {"depth": 3}}, tags=["smoke"])
        for step in range(50):
            run.log({"loss": 1.0 / (step + 1), "acc": step / 50}, step=step)
        run.summary["best_acc"] = 0.98
        state["run"] = run
        return f"run {run.id}"

    @check("run.log_dataset of a pyarrow table and a numpy array")
    def _dataset() -> str:
        import numpy as np
        import pyarrow as pa

        run = state["run"]
        table = pa.table(
            {"age": [31, 45, 27, 52], "city": ["Oslo", "Lyon", "Oslo", "Porto"], "y": [0, 1, 0, 1]}
        )
        link = run.log_dataset(table, name="customers", role="train")
        run.log_dataset(np.arange(12, dtype=np.float64).reshape(4, 3), name="features", role="validation")
        run.finish()
        return f"customers: {link.dataset.num_rows} rows, digest {link.dataset.digest[:12]}"

    @check("the run reads back finished, with its metrics and datasets")
    def _read_back() -> str:
        done = cli("runs", "show", state["run"].id, "--json")
        shown = json.loads(done.stdout)
        run = shown["run"]
        assert run["status"] == "finished", run["status"]
        assert run["params"]["model.depth"] == 3, run["params"]
        assert run["metrics"]["loss"]["last"] == 1.0 / 50, run["metrics"]
        names = sorted(d["dataset"]["name"] for d in shown["datasets"])
        assert names == ["customers", "features"], names
        return f"status {run['status']}, metrics {sorted(run['metrics'])}, datasets {names}"

    @check("mltrail.drift_report on two seeded tables finds the shifted column")
    def _drift() -> str:
        import numpy as np

        import mltrail

        rng = np.random.default_rng(7)
        n = 2_000
        reference = {
            "income": rng.normal(50_000, 8_000, n),
            "age": rng.integers(18, 80, n),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1]),
        }
        current = {
            "income": rng.normal(58_000, 8_000, n),  # shifted
            "age": rng.integers(18, 80, n),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1]),
        }
        report = mltrail.drift_report(reference, current, categorical=["plan"])
        assert "income" in report.drifted_columns, report.to_dict()
        assert "age" not in report.drifted_columns, report.to_dict()
        html = report.to_html("drift.html")
        size = Path("drift.html").stat().st_size
        assert "<svg" in html and size > 1000, size
        return f"drifted: {list(report.drifted_columns)}; HTML report {size:,} bytes"

    @check("mltrail.models.register a plain Python model, load it back; mltrail.monitor takes predictions")
    def _models_and_monitor() -> str:
        import numpy as np

        import mltrail

        rng = np.random.default_rng(11)
        train = {"x1": rng.normal(size=300), "x2": rng.normal(size=300)}
        with mltrail.init(project=f"{PROJECT}-models", capture=False) as run:
            run.log_dataset(np.column_stack([train["x1"], train["x2"]]), name="train")
            version = mltrail.models.register(
                "smoke-model", run=run, model=Threshold(), input_example=np.zeros((2, 2))
            )
        loaded = mltrail.models.load(f"smoke-model:{version.version}", trust=True)
        assert list(loaded.predict(np.array([[1.0, 0.0], [-1.0, 0.0]]))) == [1, 0]
        monitor = mltrail.monitor(f"smoke-model:{version.version}", reference=train, features=["x1", "x2"])
        current = {"x1": rng.normal(size=100), "x2": rng.normal(size=100)}
        monitor.log(current, predictions=Threshold().predict(np.column_stack([current["x1"], current["x2"]])))
        monitor.flush()
        report = monitor.report()
        monitor.close()
        assert report["current_rows"] == 100, report["current_rows"]
        return f"smoke-model:{version.version} ({version.flavor}), monitor saw {report['current_rows']} rows"

    @check("mltrail --help")
    def _help() -> None:
        out = cli("--help").stdout
        for command in ("runs", "projects", "models", "monitor", "server"):
            assert command in out, f"{command} missing from --help:\n{out}"

    @check(f"mltrail runs list {PROJECT} shows the run")
    def _list() -> None:
        out = cli("runs", "list", PROJECT).stdout
        assert state["run"].name in out and "finished" in out, out
        assert "1-1 of 1 runs" in out, out

    @check("mltrail runs show prints the run")
    def _show() -> None:
        out = cli("runs", "show", state["run"].id).stdout
        assert state["run"].id in out and "customers" in out, out

    @check("mltrail server without the server extra says how to get it")
    def _server() -> None:
        done = cli("server", expect=1)
        assert "pip install 'mltrail[server]'" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr, done.stderr

    print(f"smoke test passed: {len(CHECKS)} checks in {time.perf_counter() - started:.1f} s", flush=True)
    os.chdir(folder.parent)
    shutil.rmtree(folder, ignore_errors=True)  # kept when a check fails, to look at


if __name__ == "__main__":
    main()
