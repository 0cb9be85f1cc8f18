"""How many points a training process that logs as fast as it can has made durable when it is SIGKILLed.

    .venv/bin/python benchmarks/sigkill_durability.py [--points 10000 100000 200000] [--repeat 3]

A child process logs ``run.log({"x": i}, step=i)`` in a tight loop (no sleep) into a fresh embedded store and
reports on stdout each time another 1,000 points have been returned by ``run.log``; the parent SIGKILLs it
as soon as N have been returned, then reads the run back and prints N, the points stored, the points lost
and how long before the kill the newest stored point was logged (the loss in time). The writer flushes
every 0.2 s: what is lost should be the last fraction of a second, at any rate of logging.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

CHILD = textwrap.dedent(
    """
    import sys, time, mltrail
    run = mltrail.init(project="kill", capture=False)
    print(run.id, flush=True)
    i = 0
    while True:
        run.log({"x": float(i)}, step=i)
        i += 1
        if i % 1000 == 0:
            print(i, time.time(), flush=True)
    """
)


def one(points: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        env = {**os.environ, "MLTRAIL_DIR": str(home), "MLTRAIL_CAPTURE": "0"}
        proc = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        started = time.time()
        logged_at: dict[int, float] = {}
        while True:
            line = proc.stdout.readline()
            n, at = line.split()
            logged_at[int(n)] = float(at)
            if int(n) >= points:
                break
        proc.send_signal(signal.SIGKILL)
        killed = time.time()
        proc.wait()
        from mltrail.sdk.client.connection import close_connections, embedded_transport
        from mltrail.settings import Settings

        stored = embedded_transport(Settings(home=home)).tracking.get_run(run_id).metrics
        count = stored["x"].count if "x" in stored else 0
        last = stored["x"].last_step if "x" in stored else -1
        close_connections()
        newest_logged = max((at for n, at in logged_at.items() if n <= last + 1), default=started)
        return {
            "returned": points,
            "stored": count,
            "lost": points - count,
            "loop_s": round(killed - started, 3),
            "loss_s": round(killed - newest_logged, 3),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, nargs="+", default=[10_000, 100_000, 200_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = [one(n) for n in args.points for _ in range(args.repeat)]
    for r in results:
        print(
            f"{r['returned']:>8,} returned by run.log in {r['loop_s']:.2f} s: {r['stored']:>8,} stored, "
            f"{r['lost']:>7,} lost (the last {r['loss_s']:.2f} s)"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
