"""Prometheus text-format metrics of one gateway process: counters and a latency histogram, thread-safe.

Each worker process keeps its own (``--workers N``: scrape each, or sum them; the monitor holds every
request whatever the worker).
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

__all__ = ["LATENCY_BUCKETS", "GatewayMetrics"]

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Labels = tuple[tuple[str, str], ...]

_HELP = {
    "mltrail_gateway_requests_total": "Prediction requests answered, by variant and HTTP status.",
    "mltrail_gateway_rows_total": "Rows answered, by the variant that answered them.",
    "mltrail_gateway_fallback_total": "Rows answered by a fallback step, by step and reason.",
    "mltrail_gateway_guard_total": "Guards that fired, per row, by guard.",
    "mltrail_gateway_rejected_total": "Requests refused with a 4xx, by reason.",
    "mltrail_gateway_shadow_total": "Shadow copies, by shadow and outcome (ok, error, dropped).",
    "mltrail_gateway_shadow_agreement_total": "Rows a shadow answered as the caller was answered (agree=1).",
    "mltrail_gateway_monitor_rows_total": "Rows queued for the deployment's monitor.",
    "mltrail_gateway_reloads_total": "Polls of the deployment that found a change, by outcome (ok, refused).",
    "mltrail_gateway_reload_checks_failed_total": "Polls that could not reach the store or server.",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: str = "") -> str:
    parts = [f'{k}="{_escape(v)}"' for k, v in labels]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class GatewayMetrics:
    def __init__(self, deployment: str) -> None:
        self.deployment = deployment
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._hist: dict[Labels, list[int]] = {}
        self._hist_sum: dict[Labels, float] = defaultdict(float)

    def _key(self, labels: dict[str, str]) -> Labels:
        return (("deployment", self.deployment), *sorted(labels.items()))

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + amount

    def observe_latency(self, seconds: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            counts = self._hist.get(key)
            if counts is None:
                counts = self._hist[key] = [0] * (len(LATENCY_BUCKETS) + 1)
            counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
            self._hist_sum[key] += seconds

    def value(self, name: str, **labels: str) -> float:
        """One counter's value (0 when never incremented): for tests and the readiness page."""
        with self._lock:
            return self._counters.get(name, {}).get(self._key(labels), 0.0)

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            for name in sorted(self._counters):
                lines.append(f"# HELP {name} {_HELP.get(name, name)}")
                lines.append(f"# TYPE {name} counter")
                for labels, value in sorted(self._counters[name].items()):
                    lines.append(f"{name}{_labels(labels)} {value:g}")
            name = "mltrail_gateway_latency_seconds"
            lines.append(f"# HELP {name} Time from request to answer inside the gateway, by variant.")
            lines.append(f"# TYPE {name} histogram")
            for labels, counts in sorted(self._hist.items()):
                running = 0
                for bound, count in zip((*LATENCY_BUCKETS, float("inf")), counts, strict=True):
                    running += count
                    le = "+Inf" if bound == float("inf") else f"{bound:g}"
                    bucket = _labels(labels, 'le="' + le + '"')
                    lines.append(f"{name}_bucket{bucket} {running}")
                lines.append(f"{name}_sum{_labels(labels)} {self._hist_sum[labels]:.6f}")
                lines.append(f"{name}_count{_labels(labels)} {running}")
        return "\n".join(lines) + "\n"
