"""What the gateway benchmarks share: a seeded store with a small scikit-learn model, its deployments, and
``mltrail serve`` started as a real process on 127.0.0.1.

The model is a logistic regression on scikit-learn's bundled iris data (4 numeric columns), registered
with an input example so the gateway knows its columns; ``iris:2`` (a more regularised fit) is the shadow.
Deployments: ``iris-plain`` (primary and monitor), ``iris-shadow`` (the same plus ``iris:2`` as a
shadow), each with its own monitor, and ``iris-budget`` (``iris-plain`` with ``timeout_ms: 1000``).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpx

import mltrail
from mltrail.entities import ApprovalPolicy
from mltrail.settings import Settings

MLTRAIL = str(Path(sys.executable).with_name("mltrail"))
COLUMNS = ("sepal_length", "sepal_width", "petal_length", "petal_width")
ROW = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
SPECS: dict[str, dict[str, Any]] = {
    "iris-plain": {"primary": "iris@production", "monitor": "iris-plain"},
    "iris-shadow": {"primary": "iris@production", "shadow": ["iris:2"], "monitor": "iris-shadow"},
    "iris-budget": {"primary": "iris@production", "timeout_ms": 1000, "monitor": "iris-budget"},
}


MLFLOW_SCRIPT = """
import sys
import mlflow.sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
data = load_iris(as_frame=True)
x = data.frame[data.feature_names]
x.columns = {columns!r}
model = LogisticRegression(max_iter=1000).fit(x, data.frame["target"])
mlflow.sklearn.save_model(model, sys.argv[1], input_example=x.head(5))
"""


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def training_frame() -> Any:
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    return data.frame.rename(columns=dict(zip(data.feature_names, COLUMNS, strict=True)))


def seed(home: Path) -> Settings:
    """A store in ``home`` with ``iris`` v1 @production, v2, and the deployments of ``SPECS``."""
    from sklearn.linear_model import LogisticRegression

    settings = Settings(home=home, flush_interval=0.05, user="bench")
    train = training_frame()
    x, y = train[list(COLUMNS)], train["target"]
    with mltrail.init(project="bench", capture=False, settings=settings) as run:
        run.log_dataset(train, name="iris-train", role="train")
        first = LogisticRegression(max_iter=1000).fit(x, y)
        second = LogisticRegression(C=0.05, max_iter=1000).fit(x, y)
        register = mltrail.models.register
        register("iris", run=run, model=first, input_example=x.head(5), path="m1", settings=settings)
        register("iris", run=run, model=second, input_example=x.head(5), path="m2", settings=settings)
    open_policy = ApprovalPolicy(protected_stages=(), protected_aliases=())
    mltrail.models.client(settings=settings).set_policy("iris", open_policy)
    mltrail.models.transition("iris", 1, to="production", settings=settings)
    for name, spec in SPECS.items():
        mltrail.monitor("iris@production", name=str(spec["monitor"]), settings=settings).close()
        mltrail.deployments.create(name, spec, settings=settings)
    return settings


class Served(NamedTuple):
    url: str
    pid: int  # the server's process: its CPU, and its children's, is what it spent


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and every process below it, from /proc (Linux)."""
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        parents[int(entry.name)] = int(fields[1])
        spent[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for child in spent:
        node = child
        while node > 1 and node != pid:
            node = parents.get(node, 0)
        if node == pid:
            total += spent[child]
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    home: Path, deployment: str, *args: str, log: Path | None = None, mltrail_cli: str = MLTRAIL
) -> Iterator[Served]:
    """``mltrail serve DEPLOYMENT`` on a free port until the block ends; yields its base URL.
    ``mltrail_cli``: another install's ``mltrail`` (a baseline checkout's venv) over the same store."""
    port = free_port()
    log = log or home.parent / f"serve-{deployment}-{port}.log"
    out = open(log, "ab")  # noqa: SIM115 - closed below, after the process
    process = subprocess.Popen(
        [mltrail_cli, "--dir", str(home), "serve", deployment, "--port", str(port), *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "MLTRAIL_CAPTURE": "0"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"mltrail serve {deployment} exited: {log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"mltrail serve {deployment} not ready in 90 s: {log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield Served(url, process.pid)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        out.close()


def monitored_rows(settings: Settings, monitor: str) -> int:
    """Rows the monitor holds in the last day (every row the benchmark sent, once ingested)."""
    watched = mltrail.monitor("iris@production", name=monitor, settings=settings)
    try:
        return int(watched.report(last="1d")["current_rows"])
    finally:
        watched.close()


@contextmanager
def mlflow_server(python: str, workers: int = 1) -> Iterator[Served]:
    """``mlflow models serve`` of the same model, fitted and saved by ``python`` (a throwaway venv)."""
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = str(Path(tmp) / "model")
        script = MLFLOW_SCRIPT.format(columns=list(COLUMNS))
        subprocess.run([python, "-c", script, model_dir], check=True, capture_output=True)
        port = free_port()
        cmd = [python, "-m", "mlflow", "models", "serve", "-m", model_dir, "--env-manager", "local"]
        cmd += ["-h", "127.0.0.1", "-p", str(port), "-w", str(workers)]
        log = open(Path(tmp) / "mlflow.log", "ab")  # noqa: SIM115 - closed below
        # mlflow starts `uvicorn` from PATH: the venv's own
        env = {**os.environ, "PATH": os.pathsep.join([str(Path(python).parent), os.environ["PATH"]])}
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    text = (Path(tmp) / "mlflow.log").read_text()
                    raise RuntimeError(f"mlflow models serve exited: {text}")
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    connection.request("GET", "/ping")
                    if connection.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("mlflow models serve was not ready within 120 s")
                time.sleep(0.2)
            yield Served(url, process.pid)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # its own group: the server and its workers
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)
            log.close()
