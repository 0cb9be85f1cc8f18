"""What performance estimation costs: ingestion with and without a probability column (``score``, which
adds two 200-bin histograms per window), and a 30-day report of a calibrated monitor.

    .venv/bin/python benchmarks/estimation_ingest.py [--rows 1000000]

Batches as in ``monitor_ingest.py`` (25 columns, 10,000 rows a batch, through ``ModelMonitor.log``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from monitor_ingest import make_batch, setup

DAY = 86400.0


def _ingest(total: int, with_scores: bool) -> float:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        mon = setup(Path(tmp) / "mltrail", rng, [])
        batches = [make_batch(rng, 10_000) for _ in range(20)]
        scores = [rng.random(10_000) for _ in range(20)]
        now = time.time()
        started = time.perf_counter()
        for i in range(total // 10_000):
            score = scores[i % 20]
            mon.log(  # type: ignore[attr-defined]
                batches[i % 20],
                (score >= 0.5).astype(np.int64),
                scores=score if with_scores else None,
                timestamps=np.full(10_000, now),
            )
        mon.flush()  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - started
        mon.close()  # type: ignore[attr-defined]
    return total / elapsed


def _report(rows_per_day: int) -> tuple[float, float]:
    from mltrail.sdk.monitoring.monitor import ModelMonitor

    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        mon = setup(Path(tmp) / "mltrail", rng, [])
        assert isinstance(mon, ModelMonitor)
        score = rng.random(20_000)
        label = (rng.random(20_000) < score).astype(np.int64)
        mon.calibrate(
            pa.table({"prediction": (score >= 0.5).astype(np.int64), "score": score, "label": label}),
            label="label",
        )
        start = (time.time() // DAY - 30) * DAY
        for day in range(30):
            s = rng.random(rows_per_day)
            mon.log(
                make_batch(rng, rows_per_day),
                (s >= 0.5).astype(np.int64),
                scores=s,
                timestamps=np.full(rows_per_day, start + day * DAY + 60),
            )
        mon.flush()
        timings = []
        for _ in range(7):
            t0 = time.perf_counter()
            report = mon.report(last="31d")
            timings.append(time.perf_counter() - t0)
        mon.close()
        assert all(w["estimated"] for w in report["windows"])
    return statistics.median(timings), min(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    for with_scores in (False, True, False, True):
        rate = _ingest(args.rows, with_scores)
        which = "with" if with_scores else "without"
        print(f"ingest {args.rows:,} rows × 25 columns, {which} a score column: {rate:,.0f} rows/s")
    median, low = _report(1000)
    print(
        f"30-day report, calibrated monitor, 30,000 rows: median {median * 1e3:.0f} ms (min {low * 1e3:.0f})"
    )


if __name__ == "__main__":
    main()
