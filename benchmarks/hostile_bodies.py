"""Peak memory of a team server receiving hostile bodies (hardening issue), each above the idle server.

    .venv/bin/python benchmarks/hostile_bodies.py

Starts ``mltrail server --auth`` on a fresh store (an admin, a run and a monitor of a registered model),
then, one at a time, sends: a 150 MiB JSON body without an API key, 150 MiB of ``notes`` with a key, a
200 KiB gzip prediction batch that inflates to 200 MiB, and a 375 KiB Parquet batch of 30,000,000 rows.
The server's resident memory is sampled every 5 ms (psutil) while each request runs; printed: the status,
the time, and the peak RSS above the idle server. The issue's bound is 300 MB for each.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

MIB = 1 << 20
HEAD = b'{"project": "p", "name": "r", "notes": "'
LENGTH = len(HEAD) + 150 * MIB + 2
MLTRAIL = str(Path(sys.executable).parent / "mltrail")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(home: Path) -> tuple[str, str]:
    """An admin key, a run with a registered model, and a monitor of it: (key, run id)."""
    env = {**os.environ, "MLTRAIL_DIR": str(home), "MLTRAIL_CAPTURE": "0"}
    code = """
import json, numpy as np, mltrail
from mltrail.sdk.client.connection import embedded_transport
from mltrail.settings import Settings
from sklearn.linear_model import LogisticRegression
x = np.random.default_rng(0).normal(size=(200, 3)); y = (x[:, 0] > 0).astype(int)
import pyarrow as pa
with mltrail.init(project="p") as run:
    table = pa.table({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "prediction": y})
    run.log_dataset(table, name="train", role="train")
    mltrail.models.register("m", run=run, model=LogisticRegression().fit(x, y))
mltrail.monitor("m:1", name="mon", features=["a", "b", "c"]).close()
print(run.id)
"""
    run_id = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    made = subprocess.run(
        [MLTRAIL, "--dir", str(home), "users", "create", "ana", "--role", "admin"],
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.split()[0], run_id.stdout.strip().splitlines()[-1]


def measure(proc: psutil.Process, send: Callable[[], httpx.Response | _Answer]) -> tuple[int, float, float]:
    idle = proc.memory_info().rss
    peak = idle
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    response = send()
    elapsed = time.perf_counter() - started
    time.sleep(0.2)
    done.set()
    sampler.join()
    return response.status_code, elapsed, (peak - idle) / MIB


class _Answer:
    """The status line of a response read off a raw socket (httpx gives up when the server answers a body
    it refuses before the client has sent it all, which is the point here)."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def raw_post(port: int, path: str, length: int) -> _Answer:
    """POST a body of ``length`` bytes (a JSON run with huge notes), sending it while the server lets us."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head)
        try:
            for chunk in zeros(length - len(HEAD) - 2, HEAD, b'"}'):
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed: what it said is below
        answer = sock.recv(4096)
    return _Answer(int(answer.split(b" ", 2)[1]))


def zeros(total: int, head: bytes, tail: bytes) -> Iterator[bytes]:
    yield head
    chunk = b"x" * MIB
    left = total
    while left > 0:
        yield chunk[: min(MIB, left)]
        left -= MIB
    yield tail


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        key, run_id = seed(home)
        port = free_port()
        server = subprocess.Popen(
            [MLTRAIL, "--dir", str(home), "server", "--port", str(port), "--auth", "--log-level", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/api/v1"
        try:
            with httpx.Client(timeout=120) as client:
                for _ in range(200):
                    try:
                        if client.get(f"{url}/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                proc = psutil.Process(server.pid)
                auth = {"Authorization": f"Bearer {key}"}
                bomb = gzip.compress(b'{"rows": [' + b" " * (200 * MIB) + b"]}", compresslevel=9)
                many = io.BytesIO()
                pq.write_table(pa.table({"a": np.zeros(30_000_000)}), many, compression="zstd")
                cases: list[tuple[str, Callable[[], httpx.Response | _Answer]]] = [
                    ("150 MiB JSON body, no API key", lambda: raw_post(port, "/api/v1/runs", LENGTH)),
                    (
                        "150 MiB of notes, with a key",
                        lambda: client.patch(
                            f"{url}/runs/{run_id}",
                            content=zeros(150 * MIB, b'{"notes": "', b'"}'),
                            headers={**auth, "Content-Type": "application/json"},
                        ),
                    ),
                    (
                        f"{len(bomb) // 1024} KiB gzip inflating to 200 MiB (JSON predictions)",
                        lambda: client.post(
                            f"{url}/monitors/mon/predictions",
                            content=bomb,
                            headers={**auth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
                        ),
                    ),
                    (
                        f"{len(many.getvalue()) // 1024} KiB Parquet of 30,000,000 rows",
                        lambda: client.post(
                            f"{url}/monitors/mon/predictions",
                            content=many.getvalue(),
                            headers={**auth, "Content-Type": "application/vnd.apache.parquet"},
                        ),
                    ),
                ]
                results = []
                for name, send in cases:
                    try:
                        status, seconds, peak = measure(proc, send)
                    except (httpx.HTTPError, Exception) as exc:  # noqa: BLE001 - answered before reading it all
                        status, seconds, peak = -1, 0.0, 0.0
                        name = f"{name} ({type(exc).__name__})"
                    results.append(
                        {"case": name, "status": status, "seconds": round(seconds, 2), "peak_mb": peak}
                    )
                    print(f"{name:55s} {status:>4}  {seconds:6.2f} s  peak +{peak:7.1f} MiB")
                print(json.dumps(results))
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
