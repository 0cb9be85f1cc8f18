"""The gateway's throughput: single-row JSON requests, ``mltrail serve --workers 2`` (issue 15), then a
count of the rows its monitor ingested.

    .venv/bin/python benchmarks/gateway_throughput.py [--duration 10] [--connections 16] [--workers 2]
        [--mlflow-python /tmp/mlflow-venv/bin/python | --mlflow-url http://127.0.0.1:5001]

Seeds a temp store (``gateway_setup``), starts ``mltrail serve iris-plain --workers N`` (primary and a
monitor, embedded SQLite store: both workers write to it) and drives it with ``wrk`` (Debian's package:
``apt-get install -y wrk``) on one thread and ``--connections`` keep-alive connections for
``--duration`` seconds, every request a single row with its own id. wrk runs on the same 2 cores as the
workers: its CPU is taken from them. Then it stops the gateway (each worker writes what it still holds)
and counts the monitor's rows: every answered request must be there. Requests still in flight when wrk
stops may have been answered and recorded without wrk counting them, so the check is
``answered ≤ rows ≤ answered + connections``; fewer rows than answers would be a lost request.
With ``--mlflow-python`` (a venv with mlflow and scikit-learn) or ``--mlflow-url``, the same load goes to
``mlflow models serve -w N`` of the same model (``POST /invocations``; it keeps no monitor).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from gateway_setup import ROW, load_average, mlflow_server, monitored_rows, seed, serving

import mltrail

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
local prefix = tostring(math.random(1, 1000000000))
request = function()
  counter = counter + 1
  local body = %(body)s
  return wrk.format(nil, "%(path)s", nil, body)
end
"""


def wrk(url: str, path: str, body: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Run wrk against ``url + path`` with ``body`` (a Lua expression: it may use ``prefix`` and
    ``counter``); its requests/s, answers, errors and latency percentiles (ms)."""
    script = tmp / f"load-{time.monotonic_ns()}.lua"
    script.write_text(LUA % {"body": body, "path": path})
    cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", str(script), url]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    answered = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    latency = {q: _ms(re.search(rf"\s{q}%\s+(\S+)", out).group(1)) for q in ("50", "99")}  # type: ignore[union-attr]
    return {
        "rps": float(re.search(r"Requests/sec:\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "answered": answered,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "none",
        "p50_ms": latency["50"],
        "p99_ms": latency["99"],
    }


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--deployment", default="iris-plain", help="iris-plain, iris-shadow or iris-budget")
    parser.add_argument("--mlflow-python", help="python of a venv with mlflow + scikit-learn")
    parser.add_argument("--mlflow-url", help="an mlflow models serve already running, same model")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    row = "{" + ", ".join(f'"{k}": {v}' for k, v in ROW.items()) + "}"
    ours = f"""'{{"rows": [{row}], "ids": ["' .. prefix .. '-' .. counter .. '"]}}'"""
    theirs = f"""'{{"dataframe_records": [{row}]}}'"""
    print(f"before: {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "mltrail"
        settings = seed(home)
        monitor = str(mltrail.deployments.get(args.deployment, settings=settings).spec.monitor)
        path = f"/v1/deployments/{args.deployment}/predict"
        with serving(home, args.deployment, "--workers", str(args.workers)) as (url, _):
            warm = argparse.Namespace(**{**vars(args), "duration": 2})
            warmup = wrk(url, path, ours, warm, Path(tmp))
            result = wrk(url, path, ours, args, Path(tmp))
            during = load_average()
        # the gateway has stopped: every worker has handed its rows to the monitor and written them
        rows = monitored_rows(settings, monitor)
        expected_low = warmup["answered"] + result["answered"]
        print(f"during: {during}")
        print(
            f"mltrail serve {args.deployment} --workers {args.workers}: {result['rps']:,.0f} req/s over "
            f"{args.duration} s, {args.connections} connections (wrk -t1); latency p50 "
            f"{result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms; non-2xx {result['non_2xx']}, "
            f"socket errors {result['socket_errors']}"
        )
        lost = rows < expected_low
        print(
            f"monitor {monitor}: {rows:,} rows for {expected_low:,} answered requests (warm-up included; "
            f"at most {2 * args.connections} more were in flight at the stops): "
            + ("ROWS LOST" if lost else "every answered request is there")
        )
        mlflow_url = args.mlflow_url
        if args.mlflow_python or mlflow_url:
            if args.mlflow_python:
                with mlflow_server(args.mlflow_python, workers=args.workers) as (mlflow_url, _):
                    wrk(mlflow_url, "/invocations", theirs, warm, Path(tmp))
                    other = wrk(mlflow_url, "/invocations", theirs, args, Path(tmp))
            else:
                assert mlflow_url is not None
                other = wrk(mlflow_url, "/invocations", theirs, args, Path(tmp))
            print(
                f"mlflow models serve -w {args.workers}: {other['rps']:,.0f} req/s; latency p50 "
                f"{other['p50_ms']:.2f} ms, p99 {other['p99_ms']:.2f} ms; non-2xx {other['non_2xx']}, "
                f"socket errors {other['socket_errors']}"
            )
    print(f"after:  {load_average()}")
    if lost:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
