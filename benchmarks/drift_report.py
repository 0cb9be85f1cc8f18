"""Drift report on Parquet files: profile a reference and a current file, compare, time the whole process.

    .venv/bin/python benchmarks/drift_report.py [--ref-rows 100000] [--cur-rows 1000000] [--threads 2]

Generates (seed 2026) a reference and a current Parquet file of 25 columns (20 numeric, 5 categorical
with 10-50 labels, about 2 % nulls everywhere) in a temp folder. In current, num_00 (mean +0.25 std),
num_01 (std x1.3), num_02 (lognormal, sigma x1.25) and cat_00 (label weights reversed) are shifted, and
num_10's missing rate rises to 15 % with its values unchanged.

Then each case runs as a separate process (``--run`` / ``--exact`` modes of this script), timed from
spawn to exit, peak RSS of that process (``os.wait4`` rusage):
- mltrail: ``import mltrail; mltrail.drift_report(reference_path, current_path)``, what a user
  types: reads both files batch by batch, profiles them and tests every column; then prints the
  per-column table and checks that exactly the shifted columns drift and num_10's missing rate is
  flagged.
- exact: the same files read whole, ``exact_column_drift`` (scipy) per column, for scale.

``generate`` and ``SHIFTED``/``MISSING_SHIFTED`` are shared with ``benchmarks/peers_drift.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SEED = 2026
NUMERIC = [f"num_{i:02d}" for i in range(20)]
CATEGORICAL = [f"cat_{i:02d}" for i in range(5)]
SHIFTED = {"num_00", "num_01", "num_02", "cat_00"}
MISSING_SHIFTED = {"num_10"}
MISSING_RATE = 0.02
MISSING_RATE_SHIFTED = 0.15


def generate(folder: Path, ref_rows: int, cur_rows: int) -> tuple[Path, Path]:
    """Write reference.parquet and current.parquet into ``folder`` (same seed → same files)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = []
    for part, rows in (("reference", ref_rows), ("current", cur_rows)):
        rng = np.random.default_rng([SEED, rows, part == "current"])
        current = part == "current"
        arrays: dict[str, pa.Array] = {}
        for i, name in enumerate(NUMERIC):
            values = _numeric_column(rng, i, rows, shifted=current and name in SHIFTED)
            rate = MISSING_RATE_SHIFTED if current and name in MISSING_SHIFTED else MISSING_RATE
            arrays[name] = pa.array(values, mask=rng.random(rows) < rate)
        for i, name in enumerate(CATEGORICAL):
            labels = [f"{name}_v{j:02d}" for j in range(10 + 10 * i)]
            weights = 1.0 / np.arange(1, len(labels) + 1)  # Zipf-like: a few labels dominate
            if current and name in SHIFTED:
                weights = weights[::-1]
            codes = rng.choice(len(labels), size=rows, p=weights / weights.sum()).astype(np.int32)
            indices = pa.array(codes, mask=rng.random(rows) < MISSING_RATE)
            arrays[name] = pa.DictionaryArray.from_arrays(indices, pa.array(labels))
        path = folder / f"{part}.parquet"
        pq.write_table(pa.table(arrays), path, row_group_size=131_072)
        paths.append(path)
    return paths[0], paths[1]


def _numeric_column(rng: Any, i: int, rows: int, *, shifted: bool) -> Any:
    import numpy as np

    scale = 1.0 + i
    if i == 0:
        return rng.normal(10.0 + (0.25 * scale if shifted else 0.0), scale, rows)
    if i == 1:
        return rng.normal(0.0, scale * (1.3 if shifted else 1.0), rows)
    if i == 2:
        return rng.lognormal(1.0, 0.5 * (1.25 if shifted else 1.0), rows)
    kind = i % 4
    if kind == 0:
        return rng.normal(i, scale, rows)
    if kind == 1:
        return rng.lognormal(0.0, 0.75, rows) * scale
    if kind == 2:
        return rng.uniform(-scale, scale, rows)
    return rng.poisson(3.0 + i, rows).astype(np.int64)


def run_mltrail(ref: str, cur: str, threads: int) -> None:
    """The measured process: the public call on the two paths, the table, one JSON line of figures."""
    start = time.perf_counter()
    import mltrail

    report = mltrail.drift_report(ref, cur, threads=threads)  # reads, profiles and compares
    done = time.perf_counter()
    result = report.to_dict()
    _print_table(result["columns"])
    figures = {
        "report_s": done - start,
        "profile_bytes": [len(p.to_bytes()) for p in (report.reference, report.current)],
        "drifted": list(report.drifted_columns),
        "missing_drifted": list(report.result.missing_drifted_columns),
        "share_drifted": report.result.share_drifted,
    }
    print("FIGURES " + json.dumps(figures))


def run_exact(ref: str, cur: str) -> None:
    """The scale comparison: the exact scipy path on the whole columns."""
    start = time.perf_counter()
    import numpy as np
    import pyarrow.parquet as pq

    from mltrail.stats.drift import exact_column_drift

    tables = [pq.read_table(path) for path in (ref, cur)]
    drifted, missing = [], []
    for name in NUMERIC + CATEGORICAL:
        cols = []
        for table in tables:
            col = table.column(name)
            if name in CATEGORICAL:
                cols.append(np.asarray(col.to_pylist(), dtype=object))
            else:
                cols.append(col.cast("float64").to_numpy())
        drift = exact_column_drift(cols[0], cols[1], column=name)
        if drift.drifted:
            drifted.append(name)
        if drift.missing_drifted:
            missing.append(name)
    figures = {
        "total_in_process_s": time.perf_counter() - start,
        "drifted": drifted,
        "missing_drifted": missing,
    }
    print("FIGURES " + json.dumps(figures))


def _print_table(columns: list[dict[str, Any]]) -> None:
    print(
        f"{'column':<8} {'kind':<11} {'test':<13} {'statistic':>10} {'thr':>5} {'drift':>5} "
        f"{'miss ref':>8} {'miss cur':>8} {'miss!':>5}"
    )
    for c in columns:
        stat = "-" if c["statistic"] is None else f"{c['statistic']:.4f}"
        print(
            f"{c['column']:<8} {c['kind']:<11} {c['test'] or '-':<13} {stat:>10} {c['threshold'] or 0:>5} "
            f"{'YES' if c['drifted'] else 'no':>5} {c['missing_rate_ref']:>8.4f} "
            f"{c['missing_rate_cur']:>8.4f} "
            f"{'YES' if c['missing_drifted'] else 'no':>5}"
        )


def measure(argv: list[str], python: str = sys.executable) -> dict[str, Any]:
    """Run ``argv`` in a fresh process; wall seconds spawn → exit, its peak RSS, its stdout and figures.

    ``os.wait4`` gives the rusage of that one child (``getrusage(RUSAGE_CHILDREN)`` would give the
    largest of all children so far).
    """
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen([python, *argv], stdout=out, stderr=subprocess.STDOUT, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} failed ({proc.returncode}):\n{stdout}")
    figures: dict[str, Any] = {}
    for line in stdout.splitlines():
        if line.startswith("FIGURES "):
            figures = json.loads(line.removeprefix("FIGURES "))
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "stdout": stdout,
        "figures": figures,
    }


def check(figures: dict[str, Any]) -> list[str]:
    """What went wrong, compared with the generator's truth (empty list: all right)."""
    problems = []
    drifted = set(figures["drifted"])
    if SHIFTED - drifted:
        problems.append(f"shifted columns not found: {sorted(SHIFTED - drifted)}")
    if drifted - SHIFTED:
        problems.append(f"unshifted columns flagged: {sorted(drifted - SHIFTED)}")
    if set(figures["missing_drifted"]) != MISSING_SHIFTED:
        problems.append(f"missing-rate flags {figures['missing_drifted']} != {sorted(MISSING_SHIFTED)}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref-rows", type=int, default=100_000)
    parser.add_argument("--cur-rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="mltrail runs (the best and all are printed)")
    parser.add_argument("--skip-exact", action="store_true")
    parser.add_argument("--run", nargs=2, metavar=("REF", "CUR"), help=argparse.SUPPRESS)
    parser.add_argument("--exact", nargs=2, metavar=("REF", "CUR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_mltrail(*args.run, threads=args.threads)
        return
    if args.exact:
        run_exact(*args.exact)
        return
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ref, cur = generate(Path(tmp), args.ref_rows, args.cur_rows)
        print(
            f"generated {args.ref_rows:,} + {args.cur_rows:,} rows x 25 columns "
            f"in {time.perf_counter() - t0:.1f} s "
            f"({ref.stat().st_size / 1e6:.1f} + {cur.stat().st_size / 1e6:.1f} MB Parquet)"
        )
        script = str(Path(__file__).resolve())
        runs = [
            measure([script, "--run", str(ref), str(cur), "--threads", str(args.threads)])
            for _ in range(args.repeat)
        ]
        print(runs[0]["stdout"].split("FIGURES")[0].rstrip())
        best = min(runs, key=lambda r: r["wall_s"])
        problems = check(best["figures"])
        f = best["figures"]
        walls = ", ".join(f"{r['wall_s']:.2f}" for r in runs)
        print(
            f"\nmltrail, whole process (threads={args.threads}): best of {args.repeat} "
            f"{best['wall_s']:.2f} s (all: {walls}); "
            f"peak RSS {best['peak_rss_mb']:.0f} MB; CPU (user+sys) {best['cpu_s']:.2f} s; "
            f"load average before {os.getloadavg()[0]:.1f}"
        )
        print(
            f"  inside: import mltrail + drift_report {f['report_s']:.2f} s; "
            f"profile sizes {f['profile_bytes']} bytes"
        )
        print(
            f"  drifted {f['drifted']} (share {f['share_drifted']:.2f}), "
            f"missing-rate flags {f['missing_drifted']}"
        )
        print("  correctness: " + ("OK" if not problems else "; ".join(problems)))
        if not args.skip_exact:
            exact = measure([script, "--exact", str(ref), str(cur)])
            problems = check(exact["figures"])
            print(
                f"exact scipy path, whole process: {exact['wall_s']:.2f} s "
                f"(CPU {exact['cpu_s']:.1f} s), peak RSS "
                f"{exact['peak_rss_mb']:.0f} MB; drifted {exact['figures']['drifted']}; "
                f"correctness: {'OK' if not problems else '; '.join(problems)}"
            )
        if problems:
            sys.exit(1)


if __name__ == "__main__":
    main()
