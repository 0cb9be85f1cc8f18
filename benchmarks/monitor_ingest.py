"""Monitoring speed: ingestion through the SDK into a local monitor, and a 30-day report from profiles.

Ingestion: 25-column predictions (20 numeric, 5 categorical, ~2 % missing) logged with ``mon.log`` in
batches of 10,000 rows as a serving process would, timed from the first ``log`` to the end of ``flush``
(everything profiled, stored and the raw rows kept as Parquet). Report: 30 days of daily windows, then
``mon.report(last="30d")`` timed, for two sizes of raw traffic, to show it does not grow with rows.
``--segments`` segments both by ``cat_0`` (10 values: 10 segments, 11 profiles per window); ``--labels``
gives the report's traffic request ids and labels for every prediction, so the report carries performance
per window and per segment.

    .venv/bin/python benchmarks/monitor_ingest.py [--rows 1000000] [--segments] [--labels]
        [--only ingest|report]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa

DAY = 86400.0


def make_batch(rng: np.random.Generator, n: int, shift: float = 0.0) -> pa.Table:
    cols: dict[str, pa.Array] = {}
    for i in range(20):
        values = rng.normal(i + shift, 1 + i / 10, n)
        values[rng.random(n) < 0.02] = np.nan
        cols[f"num_{i}"] = pa.array(values)
    for i in range(5):
        labels = np.array([f"c{j}" for j in range(10 + i * 8)])
        picked = labels[rng.integers(0, len(labels), n)]
        cols[f"cat_{i}"] = pa.array(picked.tolist(), mask=rng.random(n) < 0.02)
    return pa.table(cols)


def setup(home: Path, rng: np.random.Generator, segments: list[str]) -> object:
    import mltrail
    from mltrail.sdk.client.connection import embedded_transport
    from mltrail.sdk.monitoring.monitor import ModelMonitor
    from mltrail.settings import Settings
    from mltrail.stats.profile import profile_batches

    settings = Settings(home=home)
    transport = embedded_transport(settings)
    services = transport.services
    reference = make_batch(rng, 100_000).append_column("prediction", pa.array(rng.integers(0, 2, 100_000)))
    entity = services.monitoring.create_monitor(
        f"bench-{uuid.uuid4().hex[:6]}",
        project="bench",
        reference=profile_batches(reference),
        reference_source="generated",
        features=[c for c in reference.column_names if c != "prediction"],
        segments=segments,
    )
    assert mltrail  # imported for its side effects on nothing; keeps the import cost in the figures
    return ModelMonitor(services, entity)


def bench_ingest(total: int, segments: list[str]) -> None:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        mon = setup(Path(tmp) / "mltrail", rng, segments)
        batches = [make_batch(rng, 10_000) for _ in range(20)]
        preds = [rng.integers(0, 2, 10_000) for _ in range(20)]
        log_times = []
        started = time.perf_counter()
        now = time.time()
        for i in range(total // 10_000):
            t0 = time.perf_counter()
            mon.log(batches[i % 20], preds[i % 20], timestamps=np.full(10_000, now))  # type: ignore[attr-defined]
            log_times.append(time.perf_counter() - t0)
        queued = time.perf_counter() - started
        mon.flush()  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - started
        mon.close()  # type: ignore[attr-defined]
    print(f"ingest: {total:,} rows × 25 columns{' with segments ' + str(segments) if segments else ''}")
    median_ms, max_ms = statistics.median(log_times) * 1e3, max(log_times) * 1e3
    print(f"  log() per 10k-row batch: median {median_ms:.2f} ms, max {max_ms:.1f} ms")
    print(f"  all logged in {queued:.2f} s; ingested and durable after {elapsed:.2f} s")
    print(f"  throughput: {total / elapsed:,.0f} rows/s")


def bench_report(rows_per_day: int, segments: list[str], labels: bool) -> None:
    from mltrail.sdk.monitoring.monitor import ModelMonitor

    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        mon = setup(Path(tmp) / "mltrail", rng, segments)
        assert isinstance(mon, ModelMonitor)
        start = (time.time() // DAY - 30) * DAY
        for day in range(30):
            batch = make_batch(rng, rows_per_day, shift=0.5 if day >= 20 else 0.0)
            predicted = rng.integers(0, 2, rows_per_day)
            ids = [f"{day}-{i}" for i in range(rows_per_day)] if labels else None
            mon.log(
                batch,
                predicted,
                ids=ids,
                scores=rng.random(rows_per_day) if labels else None,
                timestamps=np.full(rows_per_day, start + day * DAY + 60),
            )
            if ids is not None:
                truth = np.where(rng.random(rows_per_day) < 0.8, predicted, 1 - predicted)
                mon.log_labels(ids, truth.tolist())
        mon.flush()
        timings = []
        for _ in range(7):
            t0 = time.perf_counter()
            report = mon.report(last="31d")
            timings.append(time.perf_counter() - t0)
        mon.close()
    extra = f", {len(report.get('segments') or {})} segments" if segments else ""
    extra += f", {report['performance']['overall'].get('labeled', 0):,.0f} labeled" if labels else ""
    print(
        f"30-day report, {rows_per_day * 30:,} raw rows: median {statistics.median(timings) * 1e3:.0f} ms "
        f"(min {min(timings) * 1e3:.0f}), {report['period']['windows']} windows{extra}, "
        f"{len(report['overall']['drifted_columns'])} drifted columns overall"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--segments", action="store_true", help="segment by cat_0 (10 values)")
    parser.add_argument("--labels", action="store_true", help="label every prediction of the report's")
    parser.add_argument("--only", choices=("ingest", "report"), default=None)
    args = parser.parse_args()
    segments = ["cat_0"] if args.segments else []
    if args.only in (None, "ingest"):
        bench_ingest(args.rows, segments)
    if args.only in (None, "report"):
        for rows_per_day in (1_000, 30_000):
            bench_report(rows_per_day, segments, args.labels)


if __name__ == "__main__":
    main()
