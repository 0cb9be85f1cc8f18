"""The gateway's overhead over the model's own ``predict``: single-row JSON, one worker (issue 15).

    .venv/bin/python benchmarks/gateway_overhead.py [--n 2000] [--warmup 300]
        [--mlflow-python /tmp/mlflow-venv/bin/python | --mlflow-url http://127.0.0.1:5001]
        [--baseline ../main/.venv/bin/mltrail]

Seeds a temp store (``gateway_setup``: a logistic regression on iris), starts ``mltrail serve`` for
``iris-plain`` (primary + monitor), ``iris-shadow`` (+ a shadow model) and ``iris-budget`` (+ a 1 s
budget), one worker each, and times in one interleaved loop, request by request:

- ``predict``: ``LoadedModel.predict`` on a prebuilt one-row DataFrame, in this process (the model alone);
- ``frame+predict``: building that DataFrame from the row dict, then predicting (what a caller's code does);
- ``predict(array)``: the float-array call the gateway makes for this model (``serving.inputs``);
- ``healthz``: ``GET /healthz`` round trip (the HTTP stack's floor: client, loopback, uvicorn, routing);
- one ``POST /v1/deployments/NAME/predict`` round trip per deployment, single-row JSON.

The client is ``http.client`` on one keep-alive connection per server; its own cost is in every round trip
(and in ``healthz``). Overhead = round-trip percentile − ``predict`` median. ``server CPU`` is each server
process's CPU time (user + system, its threads and children included: the monitor's writer too) over
the timed requests, per request: unlike the round trips it barely moves with the machine's load.
With ``--mlflow-python`` (a venv with mlflow and scikit-learn, never a project dependency) the same
model is fitted there, saved with ``mlflow.sklearn`` and served by ``mlflow models serve -w 1``;
``--mlflow-url`` times a server already running (``POST /invocations`` with ``dataframe_records``).
``--baseline`` times another install's gateway (e.g. main's) in the same loop. Prints the load average
beside the figures: timings on a loaded machine are not the machine's speed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from gateway_setup import COLUMNS, ROW, SPECS, cpu_seconds, load_average, mlflow_server, seed, serving

import mltrail
from mltrail.serving.inputs import to_array
from mltrail.serving.variants import load_variant


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)

    def at(q: float) -> float:
        return ms[min(len(ms) - 1, int(q * len(ms)))]

    return {"p50": statistics.median(ms), "p95": at(0.95), "p99": at(0.99), "max": ms[-1]}


class Endpoint:
    """One keep-alive connection; ``__call__`` sends one request and reads the whole answer."""

    def __init__(self, url: str, method: str, path: str, body: bytes | None, check: bytes) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        self.method, self.path, self.body, self.check = method, path, body, check
        self.headers = {"Content-Type": "application/json"} if body is not None else {}

    def __call__(self) -> None:
        self.connection.request(self.method, self.path, body=self.body, headers=self.headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status != 200 or self.check not in data:
            raise RuntimeError(f"{self.method} {self.path}: {response.status} {data[:300]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=300, help="untimed requests per case first")
    parser.add_argument("--mlflow-python", help="python of a venv with mlflow + scikit-learn")
    parser.add_argument("--mlflow-url", help="an mlflow models serve already running, same model")
    parser.add_argument(
        "--baseline",
        help="another install's mltrail executable (e.g. main's .venv/bin/mltrail): its gateway for "
        "iris-plain is timed in the same loop, as baseline:iris-plain",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    print(f"before: {load_average()}")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        home = Path(tmp) / "mltrail"
        settings = seed(home)
        import pandas as pd

        model = mltrail.models.load("iris:1", settings=settings)
        frame = pd.DataFrame([ROW], columns=list(COLUMNS))
        body = orjson.dumps({"rows": [ROW]})
        cases: dict[str, Callable[[], object]] = {
            "predict": lambda: model.predict(frame),
            "frame+predict": lambda: model.predict(pd.DataFrame([ROW], columns=list(COLUMNS))),
        }
        variant = load_variant("iris:1", settings)
        if variant.array_model is not None:  # what the gateway calls for this model
            array = to_array([ROW], COLUMNS)
            cases["predict(array)"] = lambda: variant.array_model.predict(array)
        servers = {name: stack.enter_context(serving(home, name)) for name in SPECS}
        # healthz goes to a server of its own: its CPU per request is then the HTTP stack's alone
        servers["healthz"] = stack.enter_context(serving(home, "iris-plain"))
        cases["healthz"] = Endpoint(servers["healthz"].url, "GET", "/healthz", None, b"ok")
        for name in SPECS:
            path = f"/v1/deployments/{name}/predict"
            cases[name] = Endpoint(servers[name].url, "POST", path, body, b"predictions")
        if args.baseline:
            baseline = servers["baseline:iris-plain"] = stack.enter_context(
                serving(home, "iris-plain", mltrail_cli=args.baseline)
            )
            path = "/v1/deployments/iris-plain/predict"
            cases["baseline:iris-plain"] = Endpoint(baseline.url, "POST", path, body, b"predictions")
        mlflow_url = args.mlflow_url
        if args.mlflow_python:
            servers["mlflow"] = stack.enter_context(mlflow_server(args.mlflow_python))
            mlflow_url = servers["mlflow"].url
        if mlflow_url:
            records = orjson.dumps({"dataframe_records": [ROW]})
            cases["mlflow"] = Endpoint(mlflow_url, "POST", "/invocations", records, b"predictions")
        times: dict[str, list[float]] = {name: [] for name in cases}
        cpu_before: dict[str, float] = {}
        for i in range(args.warmup + args.n):
            if i == args.warmup:
                cpu_before = {name: cpu_seconds(server.pid) for name, server in servers.items()}
            for name, call in cases.items():
                started = time.perf_counter()
                call()
                elapsed = time.perf_counter() - started
                if i >= args.warmup:
                    times[name].append(elapsed)
        cpu = {name: (cpu_seconds(servers[name].pid) - cpu_before[name]) / args.n for name in cpu_before}
        load = load_average()
    figures = {name: percentiles(values) for name, values in times.items()}
    for name, seconds in cpu.items():  # the server's CPU per request: little moved by the machine's load
        figures[name]["server_cpu_ms"] = seconds * 1000
    base = figures["predict"]["p50"]
    print(f"after:  {load}")
    print(f"{args.n} timed calls per case after {args.warmup} warm-up, interleaved; milliseconds")
    print(
        f"{'case':<21}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>9}{'server CPU':>12}"
        "   overhead p50 / p99 (− predict p50)"
    )
    for name, row in figures.items():
        extra = ""
        if name not in ("predict", "frame+predict", "predict(array)"):
            extra = f"   {row['p50'] - base:6.3f} / {row['p99'] - base:6.3f}"
        server = f"{row['server_cpu_ms']:12.3f}" if "server_cpu_ms" in row else " " * 12
        print(
            f"{name:<21}{row['p50']:8.3f}{row['p95']:8.3f}{row['p99']:8.3f}{row['max']:9.3f}{server}{extra}"
        )
    shadow_cost = figures["iris-shadow"]["p50"] - figures["iris-plain"]["p50"]
    print(f"shadow: the caller's p50 grows by {shadow_cost:.3f} ms (iris-shadow − iris-plain)")
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "load": load, "n": args.n}, indent=2))


if __name__ == "__main__":
    main()
