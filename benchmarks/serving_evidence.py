"""What the gateway's evidence costs a request: ``EvidenceCollector.request`` (counters and a latency
sketch under a lock, the one call the request path makes), beside what the gateway already does per
request for Prometheus (``GatewayMetrics.inc`` ×2 and ``observe_latency``), and a shadow's
``ShadowEvidence.answered`` for a one-row copy (on the shadow's thread, not the caller's).

    .venv/bin/python benchmarks/serving_evidence.py [--rounds 30] [--calls 20000]

Rounds interleave the three (A B C A B C …) so that a change in the machine's speed touches each alike;
prints the median and the spread of ns per call over the rounds, and the load average before and after.
No sends happen (the collector has no sink): sending is a thread of its own every 2 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

from mltrail.serving.evidence import EvidenceCollector
from mltrail.serving.metrics import GatewayMetrics


def _per_call(fn: Callable[[], None], calls: int) -> float:
    started = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - started) / calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    collector = EvidenceCollector("bench", 1, None)
    shadow = collector.for_shadow("shadow[0]", "churn:2")
    metrics = GatewayMetrics("bench")
    no_reasons: dict[int, str] = {}
    no_fired: list[list[str]] = [[]]

    def evidence() -> None:
        collector.request("primary", "churn:1", 1, no_reasons, no_reasons, no_fired, 0.00093)

    def prometheus() -> None:
        metrics.inc("mltrail_gateway_requests_total", variant="primary", status="200")
        metrics.inc("mltrail_gateway_rows_total", 1, variant="primary")
        metrics.observe_latency(0.00093, variant="primary")

    def shadow_answer() -> None:
        shadow.answered([1], [1], 0.0004)

    cases = {
        "evidence.request": evidence,
        "prometheus (existing)": prometheus,
        "shadow.answered": shadow_answer,
    }
    load_before = os.getloadavg()
    figures: dict[str, list[float]] = {name: [] for name in cases}
    for fn in cases.values():  # warm-up
        _per_call(fn, args.calls // 10)
    for _ in range(args.rounds):
        for name, fn in cases.items():
            figures[name].append(_per_call(fn, args.calls))
    load_after = os.getloadavg()
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores")
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f},"
        f" after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
    )
    print(f"{args.rounds} interleaved rounds of {args.calls:,} calls each; ns per call:")
    for name, values in figures.items():
        print(
            f"  {name:24s} median {statistics.median(values):7.0f}"
            f"  min {min(values):7.0f}  max {max(values):7.0f}"
        )


if __name__ == "__main__":
    main()
