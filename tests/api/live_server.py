"""Servers for tests: a real ``mltrail server`` process on 127.0.0.1 and a free port; FastAPI's TestClient."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette asks for its httpx fork in TestClient; the httpx we ship still works and is what we use.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

__all__ = ["MLTRAIL", "LiveServer", "TestClient", "free_port", "restart_server", "start_server"]

MLTRAIL = str(Path(sys.executable).parent / "mltrail")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    home: Path
    process: subprocess.Popen[bytes]
    log: Path
    args: tuple[str, ...] = ()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush — as when the machine or the OOM killer takes the server down."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_server(home: Path, *args: str, timeout: float = 30.0, port: int | None = None) -> LiveServer:
    """Start ``mltrail --dir HOME server --port P ARGS`` and wait until /api/v1/health answers.

    ``port`` defaults to a free one; give the old one to bring a stopped server back at the same address.
    """
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = home / f"server-{port}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [MLTRAIL, "--dir", str(home), "server", "--port", str(port), "--log-level", "warning", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", home, process, log, args)
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}: {log.read_text()}")
            try:
                if client.get(f"{server.url}/api/v1/health").status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"the server did not become ready in {timeout} s: {log.read_text()}")


def restart_server(server: LiveServer, timeout: float = 30.0) -> LiveServer:
    """The same server (port, folder, options) started again after ``kill`` or ``stop``."""
    server.stop()
    return start_server(server.home, *server.args, timeout=timeout, port=server.port)
