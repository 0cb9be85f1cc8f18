"""The serving tests' world, apart from their fixture (``conftest.py``): its models, the ``Home`` of
their store, and ``mltrail serve`` processes (``serve``). A module of its own, with a name no other test
folder uses, so that ``from gateway_world import …`` finds it whichever folders pytest is given."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

import mltrail
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
