"""Rich media (issue 17): what ``run.log_image`` costs in the caller, embedded and against a server, and
how fast the Media tab's reads answer.

    .venv/bin/python benchmarks/media_logging.py [--images 300]

Embedded store in a temp folder, then a real server (``mltrail server``) on 127.0.0.1 with its own temp
folder: logs ``--images`` 64×64 grayscale images (distinct, with a box and a mask) to one name, plus one
512×512 RGB float image a few times (PNG written by hand with zlib), and times ``run.finish`` (through the
server that includes the journal's delivery). Then times ``GET /runs/{run}/media`` (names and steps),
``GET …/media/{name}?step=`` and ``…/files/image``. Prints medians and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

import mltrail
from mltrail.settings import Settings

BOX = [{"x": 8, "y": 8, "w": 40, "h": 30, "label": "digit", "score": 0.9}]


def _log(settings: Settings, count: int) -> tuple[str, list[float], float, list[float]]:
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, (count, 64, 64), dtype=np.uint8)
    mask = (images[0] > 128).astype(np.uint8)
    big = rng.random((512, 512, 3))
    per_image, per_big = [], []
    with mltrail.init(project="bench-media", capture=False, settings=settings) as run:
        for k in range(count):
            started = time.perf_counter()
            run.log_image("sample", images[k], step=k, boxes=BOX, masks=(mask, {1: "ink"}))
            per_image.append(time.perf_counter() - started)
        for k in range(5):
            started = time.perf_counter()
            run.log_image("big", big, step=k)
            per_big.append(time.perf_counter() - started)
        finishing = time.perf_counter()
    return run.id, per_image, time.perf_counter() - finishing, per_big


def _ms(values: list[float]) -> str:
    low, high = min(values) * 1e3, max(values) * 1e3
    return f"median {statistics.median(values) * 1e3:.2f} ms (min {low:.2f}, max {high:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _, per, finish, big = _log(Settings(home=root / "embedded", flush_interval=0.2), args.images)
        print(f"embedded   log_image 64x64 + box + mask: {_ms(per)}; finish {finish * 1e3:.0f} ms")
        print(f"embedded   log_image 512x512x3 float:    {_ms(big)}")
        port = 18_000 + os.getpid() % 1000
        env = {**os.environ, "MLTRAIL_DIR": str(root / "server")}
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("mltrail")), "server", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            client = Settings(home=root / "client", journal_dir=root / "journal", flush_interval=0.2)
            client = client.with_server(url, None, source="bench")
            run_id, per, finish, big = _log(client, args.images)
            print(
                f"server     log_image 64x64 + box + mask: {_ms(per)}; "
                f"finish (delivered) {finish * 1e3:.0f} ms",
            )
            print(f"server     log_image 512x512x3 float:    {_ms(big)}")
            with httpx.Client(base_url=f"{url}/api/v1") as http:
                reads: dict[str, list[float]] = {"names": [], "item": [], "file": []}
                for k in range(30):
                    for key, path, params in (
                        ("names", f"/runs/{run_id}/media", None),
                        ("item", f"/runs/{run_id}/media/sample", {"step": k}),
                        ("file", f"/runs/{run_id}/media/sample/files/image", {"step": k}),
                    ):
                        started = time.perf_counter()
                        http.get(path, params=params).raise_for_status()
                        reads[key].append(time.perf_counter() - started)
            for key, values in reads.items():
                print(f"server     GET {key:5} ({args.images} steps): {_ms(values)}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
