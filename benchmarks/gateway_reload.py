"""Reloads under load: a gateway answering ~500 requests/s while its alias moves and its spec changes.

    .venv/bin/python benchmarks/gateway_reload.py [--rate 500] [--changes 6] [--every 4] [--poll 0.5]
                                                  [--workers 1]

Builds an embedded store in a temp folder with three scikit-learn versions of ``churn`` (each answering a
different model version), a monitor and a deployment on ``churn@live``, and starts ``mltrail serve`` on
127.0.0.1. An open-loop client (32 threads with a keep-alive connection each, requests sent on a fixed
schedule whatever the answers take; those sent late are counted) sends single-row JSON requests while,
every ``--every`` seconds, the deployment changes in a way that changes the model answering: the alias
moves, or the spec is edited (pinned version, then back to the alias). Prints the failed requests
(transport errors, non-200 answers, answers from a fallback: target 0), the time from each change until
the first answer from the new model, the latency p50/p99 overall, in the windows from each change to its
first new answer plus one second, and outside them, the rows in the monitor against the requests
answered, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import mltrail
from mltrail.entities import ApprovalPolicy
from mltrail.sdk.client.connection import close_connections
from mltrail.settings import Settings

ROW = {"tenure": 12.0, "spend": 40.0}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(settings: Settings) -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"tenure": rng.normal(24, 12, 2000), "spend": rng.gamma(2.0, 50.0, 2000)})
    with mltrail.init(project="bench", capture=False, settings=settings) as run:
        run.log_dataset(train, name="train", role="train")
        for i, cut in enumerate((20, 30, 40)):
            model = LogisticRegression().fit(train, (train["tenure"] < cut).astype(int))
            mltrail.models.register(
                "churn", run=run, model=model, input_example=train.head(5), path=f"m{i}", settings=settings
            )
    mltrail.models.client(settings=settings).set_policy("churn", ApprovalPolicy((), ()))
    mltrail.models.transition("churn", 1, to="production", settings=settings)
    mltrail.models.transition("churn", 1, to="live", settings=settings)
    mltrail.monitor("churn@production", name="bench-mon", settings=settings).close()
    mltrail.deployments.create("bench", {"primary": "churn@live", "monitor": "bench-mon"}, settings=settings)


@dataclass
class Sample:
    sent: float
    latency: float
    ok: bool
    model: str | None


@dataclass
class Load:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    late: int = 0  # requests sent more than 10 ms after their turn (the client could not keep up)


def drive(url: str, rate: float, seconds: float, load: Load, threads: int = 32) -> None:
    """Open loop: thread ``i`` sends request ``k`` at ``start + (k * threads + i) / rate`` (at once when it
    is late, counted); the latency is measured from the moment the request is sent."""
    body = {"rows": [ROW]}
    start = time.perf_counter() + 0.1
    lock = threading.Lock()

    def worker(i: int) -> None:
        samples: list[Sample] = []
        errors: list[str] = []
        late = 0
        with httpx.Client(timeout=30) as client:
            k = 0
            while True:
                due = start + (k * threads + i) / rate
                if due - start >= seconds:
                    break
                now = time.perf_counter()
                if now < due:
                    time.sleep(due - now)
                elif now - due > 0.01:
                    late += 1
                sent = time.perf_counter()
                try:
                    response = client.post(url, json=body)
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                    samples.append(Sample(sent, time.perf_counter() - sent, False, None))
                    k += 1
                    continue
                latency = time.perf_counter() - sent
                data = response.json() if response.status_code == 200 else {}
                ok = response.status_code == 200 and "fallback" not in data
                if not ok:
                    errors.append(f"{response.status_code} {response.text[:200]}")
                samples.append(Sample(sent, latency, ok, data.get("model")))
                k += 1
        with lock:
            load.samples += samples
            load.errors += errors
            load.late += late

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


CHANGES = [  # (what, the model that should answer afterwards)
    ("alias live → churn:2", "churn:2"),
    ("spec primary churn:3", "churn:3"),
    ("spec primary churn@live", "churn:2"),
    ("alias live → churn:1", "churn:1"),
    ("spec primary churn:3", "churn:3"),
    ("spec primary churn@live", "churn:1"),
]


def change(settings: Settings, i: int) -> None:
    what = CHANGES[i % len(CHANGES)][0]
    if what.startswith("alias"):
        mltrail.models.transition("churn", int(what[-1]), to="live", settings=settings)
    else:
        primary = what.rsplit(" ", 1)[1]
        mltrail.deployments.update("bench", {"primary": primary, "monitor": "bench-mon"}, settings=settings)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--changes", type=int, default=6)
    parser.add_argument("--every", type=float, default=4.0)
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="mltrail-reload-") as tmp:
        home = Path(tmp) / "mltrail"
        settings = Settings(home=home, flush_interval=0.05, user="bench")
        prepare(settings)
        port = free_port()
        cli = str(Path(sys.executable).with_name("mltrail"))
        log = open(Path(tmp) / "serve.log", "wb")  # noqa: SIM115 - closed below
        process = subprocess.Popen(
            [
                cli,
                "--dir",
                str(home),
                "serve",
                "bench",
                "--port",
                str(port),
                "--poll",
                str(args.poll),
                "--workers",
                str(args.workers),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit((Path(tmp) / "serve.log").read_text())
                time.sleep(0.2)
            load = Load()
            seconds = args.every * (args.changes + 1)
            changed: list[tuple[float, str, str]] = []

            driver = threading.Thread(
                target=drive, args=(f"{base}/v1/deployments/bench/predict", args.rate, seconds, load)
            )
            driver.start()
            for i in range(args.changes):
                time.sleep(args.every)
                at = time.perf_counter()
                change(settings, i)
                changed.append((at, *CHANGES[i % len(CHANGES)]))
            driver.join()
            time.sleep(2.0)  # the gateway's recorder and writer catch up
            mon = mltrail.monitor("churn@production", name="bench-mon", settings=settings)
            rows = mon.report(last="1d")["current_rows"]
            mon.close()
        finally:
            process.terminate()
            process.wait(30)
            log.close()
            close_connections()
    report(args, load, changed, rows)


def report(args: argparse.Namespace, load: Load, changed: list[tuple[float, str, str]], rows: int) -> None:
    samples = sorted(load.samples, key=lambda s: s.sent)
    answered = [s for s in samples if s.ok]
    span = samples[-1].sent - samples[0].sent if samples else 0.0
    print(
        f"requests {len(samples)} over {span:.1f} s ({len(samples) / span:.0f}/s sent; target {args.rate:g}),"
        f" workers {args.workers}, poll {args.poll:g} s"
    )
    print(f"sent more than 10 ms after their turn (the client behind): {load.late}")
    print(
        f"failed requests: {len(samples) - len(answered)}"
        + (f" — first: {load.errors[:3]}" if load.errors else "")
    )
    windows = []
    for n, (at, what, model) in enumerate(changed):
        until = changed[n + 1][0] if n + 1 < len(changed) else float("inf")
        first = next((s for s in samples if s.sent >= at and s.model == model), None)
        took = None if first is None else first.sent + first.latency - at
        windows.append((at, at + (took or 0.0) + 1.0))
        after = first.sent if first else at
        old = [s for s in samples if after < s.sent < until and s.model != model and s.ok]
        shown = "never" if took is None else f"{took:.2f} s"
        print(
            f"  {what:<26} → {model}: first answer from it after {shown};"
            f" later answers from others: {len(old)}"
        )
    inside = [s.latency for s in answered if any(a <= s.sent <= b for a, b in windows)]
    outside = [s.latency for s in answered if not any(a <= s.sent <= b for a, b in windows)]
    every = [s.latency for s in answered]
    print(
        f"latency ms p50/p99: all {pct(every, 50):.2f}/{pct(every, 99):.2f},"
        f" during switches {pct(inside, 50):.2f}/{pct(inside, 99):.2f} ({len(inside)} requests),"
        f" otherwise {pct(outside, 50):.2f}/{pct(outside, 99):.2f}"
    )
    took = [b - a - 1.0 for a, b in windows]
    if took:
        print(
            f"time until the new version answers: median {statistics.median(took):.2f} s,"
            f" max {max(took):.2f} s"
        )
    print(f"monitor rows {rows} for {len(answered)} answered requests")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
