"""The drift report of ``drift_report.py`` done by peers on the same Parquet files, side by side, in one run.

    cd <repo> && .venv/bin/python benchmarks/peers_drift.py
    options: [--ref-rows 100000] [--cur-rows 1000000] [--threads 2] [--repeat 1] [--skip-install]
             [--only mltrail,evidently,nannyml,whylogs,scipy] [--install-timeout 1200]

Files: ``generate`` from ``benchmarks/drift_report.py`` (imported, not copied; seed 2026) writes the
reference (100,000 rows) and current (1,000,000 rows) Parquet files, 25 columns, into a temp folder.
Truth: num_00, num_01, num_02 and cat_00 shifted; num_10's missing rate raised from 2 % to 15 %.

Every case is one whole separate process, run one at a time, timed from spawn to exit (imports
included) with its peak RSS from ``os.wait4`` of that one child (``drift_report.measure``); the child
also prints its own ``getrusage(RUSAGE_SELF).ru_maxrss`` as a cross-check:

- mltrail: ``drift_report.py --run REF CUR --threads 2`` — the very code path of that benchmark:
  ``import mltrail; mltrail.drift_report(ref_path, cur_path)``, what a user types.
- Evidently 0.7 (``.bench-venv``): ``pd.read_parquet`` both files, ``Report([DataDriftPreset()],
  include_tests=True).run(current_data=cur, reference_data=ref)``; the drifted columns are the failed
  "Value Drift for column …" tests of ``snapshot.dict()`` (the tests only read the computed drift).
- NannyML (``.bench-venv-nannyml``, optional): ``UnivariateDriftCalculator`` with its default methods
  and chunking, fit on the reference, calculated on the current file; a column counts as drifted when any
  current chunk raises an alert. ``MissingValuesCalculator`` likewise for the missing rate.
- whylogs (``.bench-venv-whylogs``, optional): ``why.log(df).view()`` for both files,
  ``calculate_drift_scores``; a column counts as drifted when its category is ``DRIFT``.
- SciPy (the project's ``.venv``): every column read whole with pyarrow, ``ks_2samp`` per numeric
  column, ``chi2_contingency`` on the label counts per categorical column, and on the null / non-null
  counts per column for the missing rate; drift at p < 0.05, no correction for 25 tests.

Peers are never project dependencies: each lives in a throwaway venv beside the repo, created with
``python3 -m venv`` on first use (minutes); ``--skip-install`` uses the venvs as they are. A peer that
cannot be installed or fails is reported as such and the others still run. The last line printed is
one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import drift_report  # the generator, truth and measuring of the mltrail benchmark

REPO = drift_report.REPO
PROJECT_PYTHON = REPO / ".venv" / "bin" / "python"
PEER_ENV = {
    "DO_NOT_TRACK": "1",
    "EVIDENTLY_DISABLE_TELEMETRY": "1",
    "NML_DISABLE_USAGE_LOGGING": "1",
    "WHYLOGS_NO_ANALYTICS": "True",
    "PYTHONWARNINGS": "ignore",
}

# Wrapped around each peer's code: time marks, the figures, and the child's own peak RSS.
_HEAD = """
import json, resource, sys, time
_t0 = time.perf_counter()
REF, CUR = sys.argv[1], sys.argv[2]
NUMERIC = [f"num_{i:02d}" for i in range(20)]
CATEGORICAL = [f"cat_{i:02d}" for i in range(5)]
result = {}
"""
_TAIL = """
result["in_process_s"] = time.perf_counter() - _t0
result["self_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("FIGURES " + json.dumps(result))
"""

EVIDENTLY_CODE = """
import evidently
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
result["version"] = evidently.__version__
_t1 = time.perf_counter()
ref = pd.read_parquet(REF)
cur = pd.read_parquet(CUR)
_t2 = time.perf_counter()
snapshot = Report([DataDriftPreset()], include_tests=True).run(current_data=cur, reference_data=ref)
_t3 = time.perf_counter()
data = snapshot.dict()
prefix = "Value Drift for column "
drifted = [t["name"][len(prefix):] for t in data["tests"]
           if t["name"].startswith(prefix) and t["status"] == "FAIL"]
scores = {m["config"]["column"]: [m["config"].get("method"), m["value"]]
          for m in data["metrics"] if m["config"].get("type", "").endswith("ValueDrift")}
count = [m["value"]["count"] for m in data["metrics"] if "DriftedColumnsCount" in m["metric_name"]]
result.update(import_s=_t1 - _t0, read_s=_t2 - _t1, report_s=_t3 - _t2, drifted=drifted,
              missing_drifted=None, scores=scores, reported_count=count[0] if count else None)
"""

NANNYML_CODE = """
import nannyml as nml
import pandas as pd
result["version"] = nml.__version__
_t1 = time.perf_counter()
ref = pd.read_parquet(REF)
cur = pd.read_parquet(CUR)
_t2 = time.perf_counter()
columns = NUMERIC + CATEGORICAL
drift = nml.UnivariateDriftCalculator(column_names=columns).fit(ref).calculate(cur)
frame = drift.filter(period="analysis").to_df()
methods = sorted({c[1] for c in frame.columns if c[0] in columns})
drifted = [c for c in columns
           if any(frame[(c, m, "alert")].any() for m in methods if (c, m, "alert") in frame)]
_t3 = time.perf_counter()
missing = nml.MissingValuesCalculator(column_names=columns).fit(ref).calculate(cur)
mframe = missing.filter(period="analysis").to_df()
missing_drifted = [c for c in columns if mframe[(c, "alert")].any()]
_t4 = time.perf_counter()
result.update(import_s=_t1 - _t0, read_s=_t2 - _t1, report_s=_t3 - _t2, missing_s=_t4 - _t3,
              drifted=drifted, missing_drifted=missing_drifted, methods=methods)
"""

WHYLOGS_CODE = """
import importlib.metadata
import pandas as pd
import whylogs as why
from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores
result["version"] = importlib.metadata.version("whylogs")
_t1 = time.perf_counter()
ref = pd.read_parquet(REF)
cur = pd.read_parquet(CUR)
for frame in (ref, cur):  # whylogs 1.6 fails on pandas' category dtype with nulls: plain strings
    frame[CATEGORICAL] = frame[CATEGORICAL].astype(object)
_t2 = time.perf_counter()
views = [why.log(frame).view() for frame in (ref, cur)]
_t3 = time.perf_counter()
scores = calculate_drift_scores(target_view=views[1], reference_view=views[0], with_thresholds=True)
drifted = sorted(c for c, s in scores.items() if s and s.get("drift_category") == "DRIFT")
_t4 = time.perf_counter()
result.update(import_s=_t1 - _t0, read_s=_t2 - _t1, profile_s=_t3 - _t2, compare_s=_t4 - _t3,
              drifted=drifted, missing_drifted=None,
              scores={c: s and [s.get("algorithm"), s.get("pvalue"), s.get("drift_category")]
                      for c, s in scores.items()})
"""

SCIPY_CODE = """
import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import scipy
from scipy import stats
result["version"] = scipy.__version__
_t1 = time.perf_counter()
tables = [pq.read_table(path) for path in (REF, CUR)]
_t2 = time.perf_counter()
drifted, missing_drifted, pvalues = [], [], {}
for name in NUMERIC + CATEGORICAL:
    cols = [t.column(name) for t in tables]
    if name in CATEGORICAL:
        counts = [{r["values"]: r["counts"]
                   for r in pc.value_counts(c.drop_null().cast("string")).to_pylist()} for c in cols]
        labels = sorted(set(counts[0]) | set(counts[1]))
        p = stats.chi2_contingency([[cnt.get(k, 0) for k in labels] for cnt in counts]).pvalue
    else:
        ref_v, cur_v = (c.drop_null().cast("float64").to_numpy() for c in cols)
        p = stats.ks_2samp(ref_v, cur_v).pvalue
    nulls = [[c.null_count, len(c) - c.null_count] for c in cols]
    p_missing = stats.chi2_contingency(nulls).pvalue
    pvalues[name] = [float(p), float(p_missing)]
    if p < 0.05:
        drifted.append(name)
    if p_missing < 0.05:
        missing_drifted.append(name)
result.update(import_s=_t1 - _t0, read_s=_t2 - _t1, report_s=time.perf_counter() - _t2,
              drifted=drifted, missing_drifted=missing_drifted, pvalues=pvalues)
"""


@dataclass(frozen=True)
class Peer:
    """A peer tool: its venv, what pip installs there, the code its child process runs."""

    name: str
    venv: Path | None  # None: the project's .venv (nothing to install)
    specs: tuple[str, ...]
    code: str
    version_of: str


PEERS = {
    # pandas < 3 here and for whylogs 1.6.4 (its null handling breaks on pandas 3):
    # evidently 0.7.23 imports pandas.core.dtypes.common.infer_dtype_from_object, gone in 3.0.
    "evidently": Peer(
        "evidently",
        REPO / ".bench-venv",
        ("evidently==0.7.*", "pandas<3", "pyarrow"),
        EVIDENTLY_CODE,
        "evidently",
    ),
    # statsmodels: nannyml 0.13.1 imports it (nannyml.plots) without requiring it.
    "nannyml": Peer(
        "nannyml",
        REPO / ".bench-venv-nannyml",
        ("nannyml", "statsmodels", "pyarrow"),
        NANNYML_CODE,
        "nannyml",
    ),
    "whylogs": Peer(
        "whylogs",
        REPO / ".bench-venv-whylogs",
        ("whylogs[viz]", "pandas<3", "pyarrow"),
        WHYLOGS_CODE,
        "whylogs",
    ),
    "scipy": Peer("scipy", None, (), SCIPY_CODE, "scipy"),
}
TOOLS = ("mltrail", "evidently", "nannyml", "whylogs", "scipy")
LABELS = {
    "mltrail": "mltrail (sketch profiles)",
    "evidently": "Evidently DataDriftPreset",
    "nannyml": "NannyML univariate drift",
    "whylogs": "whylogs profiles + drift scores",
    "scipy": "SciPy exact (KS + chi-square)",
}


def _python(venv: Path | None) -> Path:
    return PROJECT_PYTHON if venv is None else venv / "bin" / "python"


def _installed_version(python: Path, package: str) -> str | None:
    if not python.exists():
        return None
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def prepare(peer: Peer, skip_install: bool, timeout_s: float) -> tuple[str | None, str]:
    """(version or None, what happened) for one peer; creates and fills its venv unless told not to."""
    python = _python(peer.venv)
    have = _installed_version(python, peer.version_of)
    if have is not None or skip_install or peer.venv is None:
        return have, "already installed" if have else "not installed (--skip-install)"
    assert peer.venv is not None
    if not python.exists():
        print(f"  creating {peer.venv} ...", flush=True)
        base = shutil.which("python3") or sys.executable
        subprocess.run([base, "-m", "venv", str(peer.venv)], check=True)
        # Like Python 3.13's venv: keep the throwaway venv out of git (only .bench-venv/ is in .gitignore).
        (peer.venv / ".gitignore").write_text("*\n")
    cmd = [str(python), "-m", "pip", "install", "--progress-bar", "off", *peer.specs]
    print(f"  pip install {' '.join(peer.specs)} (at most {timeout_s:.0f} s) ...", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        try:
            proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s, check=False)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            code = None
        log.seek(0)
        tail = [line.rstrip() for line in log if line.strip() and not line.startswith("WARNING: Location")]
    took = time.perf_counter() - start
    if code != 0:
        why = "timed out" if code is None else f"exit {code}"
        return None, f"pip install failed ({why} after {took:.0f} s): " + " | ".join(tail[-3:])
    return _installed_version(python, peer.version_of), f"installed in {took:.0f} s"


def run_case(tool: str, ref: Path, cur: Path, threads: int) -> dict[str, Any]:
    """One whole process for ``tool`` on the two files: wall, CPU, peak RSS and its figures."""
    if tool == "mltrail":
        script = str(Path(drift_report.__file__).resolve())
        argv = [script, "--run", str(ref), str(cur), "--threads", str(threads)]
        python = PROJECT_PYTHON
    else:
        peer = PEERS[tool]
        argv = ["-c", _HEAD + peer.code + _TAIL, str(ref), str(cur)]
        python = _python(peer.venv)
    load = os.getloadavg()[0]
    try:
        run = drift_report.measure(argv, python=str(python))
    except RuntimeError as exc:
        message = str(exc)
        return {"error": message[message.find(" failed (") + 1 :][-2000:], "load_before": load}
    run["load_before"] = load
    figures = run["figures"]
    if tool == "mltrail":
        from importlib.metadata import version

        figures["version"] = version("mltrail")
    if not figures:
        return {"error": "no FIGURES line:\n" + run["stdout"][-2000:], "load_before": load}
    return run


def correctness(figures: dict[str, Any]) -> tuple[bool, bool | None]:
    """(drifted columns == the shifted ones, missing-rate flags == {num_10} or None when not reported)."""
    exact = set(figures["drifted"]) == drift_report.SHIFTED
    missing = figures.get("missing_drifted")
    return exact, None if missing is None else set(missing) == drift_report.MISSING_SHIFTED


def render(results: dict[str, list[dict[str, Any]]], versions: dict[str, str | None]) -> None:
    """The table: best wall of each tool, its RSS, flags, and ratios to mltrail."""
    base = results.get("mltrail")
    base_best = min(base, key=lambda r: r["wall_s"]) if base and "error" not in base[0] else None
    header = [
        "tool",
        "version",
        "wall s",
        "CPU s",
        "peak RSS MB",
        "× mltrail wall",
        "× mltrail RSS",
        "drifted columns",
        "exactly shifted?",
        "missing-rate flags",
        "load",
    ]
    rows = []
    for tool, runs in results.items():
        if "error" in runs[0]:
            rows.append([LABELS[tool], versions.get(tool) or "-", "failed", *[""] * (len(header) - 3)])
            continue
        best = min(runs, key=lambda r: r["wall_s"])
        f = best["figures"]
        exact, missing_ok = correctness(f)
        walls = "/".join(f"{r['wall_s']:.1f}" for r in runs)
        ratio_wall = ratio_rss = "-"
        if base_best is not None:
            ratio_wall = f"{best['wall_s'] / base_best['wall_s']:.1f}"
            ratio_rss = f"{best['peak_rss_mb'] / base_best['peak_rss_mb']:.1f}"
        missing = f.get("missing_drifted")
        rows.append(
            [
                LABELS[tool],
                str(f.get("version", "?")),
                f"{best['wall_s']:.2f}" + (f" ({walls})" if len(runs) > 1 else ""),
                f"{best['cpu_s']:.1f}",
                f"{best['peak_rss_mb']:.0f}",
                ratio_wall,
                ratio_rss,
                f"{len(f['drifted'])}: " + ",".join(f["drifted"]),
                "yes" if exact else "NO",
                "n/a" if missing is None else (",".join(missing) or "none") + ("" if missing_ok else " (!)"),
                f"{best['load_before']:.1f}",
            ]
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ref-rows", type=int, default=100_000)
    parser.add_argument("--cur-rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2, help="mltrail's profile_batches threads")
    parser.add_argument("--repeat", type=int, default=1, help="runs of every tool (the best is tabled)")
    parser.add_argument("--skip-install", action="store_true", help="use the bench venvs as they are")
    parser.add_argument("--only", default=",".join(TOOLS), help="comma-separated subset of the tools")
    parser.add_argument("--install-timeout", type=float, default=1200.0, help="seconds per pip install")
    args = parser.parse_args()
    only = [t.strip() for t in args.only.split(",") if t.strip()]
    unknown = sorted(set(only) - set(TOOLS))
    if unknown:
        parser.error(f"--only: unknown tool(s) {', '.join(unknown)}")

    print(
        f"machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average at start {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    os.environ.update(PEER_ENV)  # inherited by every child (drift_report.measure passes no env)
    versions: dict[str, str | None] = {}
    install_notes: dict[str, str] = {}
    for tool in only:
        if tool == "mltrail":
            continue
        print(f"{tool}:", flush=True)
        versions[tool], install_notes[tool] = prepare(PEERS[tool], args.skip_install, args.install_timeout)
        print(f"  {versions[tool] or 'unavailable'}: {install_notes[tool]}", flush=True)
    tools = [t for t in TOOLS if t in only and (t == "mltrail" or versions.get(t))]

    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ref, cur = drift_report.generate(Path(tmp), args.ref_rows, args.cur_rows)
        print(
            f"generated {args.ref_rows:,} + {args.cur_rows:,} rows x 25 columns in "
            f"{time.perf_counter() - t0:.1f} s ({ref.stat().st_size / 1e6:.1f} + "
            f"{cur.stat().st_size / 1e6:.1f} MB Parquet)",
            flush=True,
        )
        for _ in range(args.repeat):
            for tool in tools:
                run = run_case(tool, ref, cur, args.threads)
                results.setdefault(tool, []).append(run)
                if "error" in run:
                    print(f"  {tool}: FAILED\n{run['error']}", flush=True)
                    continue
                f = run["figures"]
                inside = ", ".join(f"{k} {v:.2f}" for k, v in f.items() if k.endswith("_s"))
                print(
                    f"  {tool}: {run['wall_s']:.2f} s wall, CPU {run['cpu_s']:.1f} s, peak RSS "
                    f"{run['peak_rss_mb']:.0f} MB (self-reported {f.get('self_maxrss_mb', '-')}), "
                    f"load before {run['load_before']:.1f}; inside: {inside}; drifted {f['drifted']}",
                    flush=True,
                )
    # Keep a failed tool's error only if it never succeeded.
    results = {t: ([r for r in rs if "error" not in r] or rs[:1]) for t, rs in results.items()}
    print()
    render(results, versions)
    print(
        f"truth: drifted {sorted(drift_report.SHIFTED)}, "
        f"missing rate {sorted(drift_report.MISSING_SHIFTED)}. "
        "wall = spawn → exit of the whole process (imports and Parquet reads included); peak RSS from "
        "os.wait4; × mltrail = tool / mltrail (higher is slower or bigger). "
        f"load average at end {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs."
    )
    for tool, note in install_notes.items():
        if not versions.get(tool):
            print(f"not measured: {tool}: {note}")
    summary = {
        "benchmark": "peers_drift",
        "ref_rows": args.ref_rows,
        "cur_rows": args.cur_rows,
        "cpus": os.cpu_count(),
        "install": install_notes,
        "results": {
            tool: [{k: v for k, v in r.items() if k != "stdout"} for r in runs]
            for tool, runs in results.items()
        },
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
