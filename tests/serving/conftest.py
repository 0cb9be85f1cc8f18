"""A store with registered models, monitors and deployments, and ``mltrail serve`` processes over it.

Models (project ``shop``): ``churn`` (scikit-learn logistic regression; v1 @production, v2 @challenger,
trained on other data so their answers differ), ``broken`` (raises), ``slow`` (hangs 30 s), ``steady``
(always 7). The broken and slow ones are pickles of ``faulty_models`` classes, so the server process gets
this folder on its PYTHONPATH and ``--trust``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

import mltrail
from mltrail.entities import ApprovalPolicy
from mltrail.settings import Settings

linear = pytest.importorskip("sklearn.linear_model")
HERE = Path(__file__).parent
MLTRAIL = str(Path(sys.executable).parent / "mltrail")


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"tenure": rng.normal(24, 12, n), "spend": rng.gamma(2.0, 50.0, n)})


@dataclass
class Home:
    settings: Settings
    path: Path


@pytest.fixture(scope="package")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    import faulty_models

    path = tmp_path_factory.mktemp("gateway") / "mltrail"
    settings = Settings(home=path, flush_interval=0.05, user="ana")
    train = frame(2000, 1)
    x = train[["tenure", "spend"]]
    with mltrail.init(project="shop", capture=False, settings=settings) as run:
        run.log_dataset(train, name="churn-train", role="train")
        first = linear.LogisticRegression().fit(x, (train["tenure"] < 20).astype(int))
        second = linear.LogisticRegression().fit(x, (train["spend"] > 80).astype(int))
        reg = mltrail.models.register
        reg("churn", run=run, model=first, input_example=x.head(5), path="m1", settings=settings)
        reg("churn", run=run, model=second, input_example=x.head(5), path="m2", settings=settings)
        for name, model in {
            "broken": faulty_models.Raising(),
            "slow": faulty_models.Hanging(),
            "steady": faulty_models.Constant(7),
        }.items():
            reg(
                name,
                run=run,
                model=model,
                input_example=x.head(5),
                path=name,
                format="pickle",
                settings=settings,
            )
    # No approvals in these tests: production and aliases move at once.
    open_policy = ApprovalPolicy(protected_stages=(), protected_aliases=())
    mltrail.models.client(settings=settings).set_policy("churn", open_policy)
    mltrail.models.transition("churn", 1, to="production", settings=settings)
    mltrail.models.transition("churn", 2, to="challenger", settings=settings)
    for monitor in ("churn-main", "churn-shadow"):
        mltrail.monitor("churn@production", name=monitor, settings=settings).close()
    yield Home(settings, path)
    from mltrail.sdk.client.connection import close_connections

    close_connections()


@dataclass
class Gateway:
    url: str
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def predict(self, body: Any, **kw: Any) -> httpx.Response:
        return httpx.post(f"{self.url}/v1/deployments/{self.name}/predict", json=body, timeout=30, **kw)

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=10).text

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(home: Home, name: str, spec: dict[str, Any], *args: str, ready_timeout: float = 60.0) -> Gateway:
    """Create (or replace) the deployment, then start ``mltrail serve`` and wait for /readyz."""
    try:
        mltrail.deployments.get(name, settings=home.settings)
        mltrail.deployments.update(name, spec, settings=home.settings)
    except mltrail.NotFoundError:
        mltrail.deployments.create(name, spec, settings=home.settings)
    port = free_port()
    log = home.path.parent / f"serve-{name}-{port}.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [MLTRAIL, "--dir", str(home.path), "serve", name, "--port", str(port), "--trust", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    gateway = Gateway(f"http://127.0.0.1:{port}", name, process, log)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mltrail serve exited with {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{gateway.url}/readyz", timeout=2).status_code == 200:
                return gateway
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    gateway.stop()
    raise RuntimeError(f"mltrail serve did not become ready: {log.read_text()}")
