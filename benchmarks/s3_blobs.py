"""Blobs on S3 (moto's server on 127.0.0.1) against blobs on local disk, with the embedded store.

    .venv/bin/python benchmarks/s3_blobs.py [--model-mb 100] [--artifacts 1000] [--repeat 3] [--moto process]

Issue 18's targets: registering and loading a 100 MB model on S3 ≤ 2× the local time; 1,000 small artifacts
logged ≤ 3× the local time. Each case runs on a local-disk store and on an S3 store (a new bucket per
repeat on one moto server started here), alternately, ``--repeat`` times; medians are printed with their
ratio. ``--moto process`` (default) runs ``moto_server`` in a process of its own, as S3 is another machine;
``--moto thread`` runs it in a thread of this process, as the tests do, sharing this interpreter (slower),
and prints the S3 requests each case made (its request log).

- model: a scikit-learn model whose coefficients weigh ``--model-mb`` MB (random float64, so nothing
  compresses), saved once with ``save_model`` (skops); timed: ``models.register(path=folder)`` in a run
  (the folder logged as artifacts, then registered) and ``models.load`` (every file downloaded, its sha256
  checked, the model deserialized).
- artifacts, one call each: one run logging ``--artifacts`` files of 1–4 KiB each with ``run.log_artifact``,
  one call per file, until ``finish()`` returns.
- artifacts, one folder: as many other files (new content) logged by one ``run.log_artifact(folder)`` (to
  S3, 8 at a time).

moto keeps objects in memory and answers on the loopback, so S3's network latency is not in these figures;
but moto is a Python server, and its own time per request bounds every S3 figure. The last lines print that
floor: the same bytes sent to moto with plain unsigned httpx requests (one PUT of the model's size; a HEAD
and a PUT per small file), with no S3 client at all.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

import mltrail
from mltrail.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _moto(kind: str) -> Any:
    path = ROOT / "tests" / "store" / "s3_server.py"
    spec = importlib.util.spec_from_file_location("mltrail_bench_s3_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.start_server() if kind == "thread" else module.start_process_server()


def _settings(home: Path, blobs: str | None) -> Settings:
    base = Settings.from_env()
    return dataclasses.replace(base, home=home, db_url="", blobs=blobs or "", flush_interval=0.05)


def _big_model(megabytes: int, folder: Path) -> None:
    from sklearn.linear_model import LinearRegression

    from mltrail.sdk.flavors import save_model

    rng = np.random.default_rng(0)
    n = megabytes * (1 << 20) // 8
    model = LinearRegression().fit(rng.random((20, 3)), rng.random(20))
    model.coef_ = rng.random(n)
    model.n_features_in_ = n
    save_model(model, folder)


def _small_files(folder: Path, n: int, rng: np.random.Generator) -> list[Path]:
    folder.mkdir()
    files = []
    for i in range(n):
        path = folder / f"part-{i:05d}.bin"
        path.write_bytes(rng.bytes(int(rng.integers(1024, 4097))))
        files.append(path)
    return files


def _model_case(settings: Settings, folder: Path) -> tuple[float, float]:
    name = f"big-{uuid.uuid4().hex[:8]}"
    began = time.perf_counter()
    with mltrail.init(project="bench", capture=False, settings=settings) as run:
        mltrail.models.register(name, run=run, path=folder, settings=settings)
    registered = time.perf_counter() - began
    began = time.perf_counter()
    loaded = mltrail.models.load(f"{name}:1", settings=settings)
    took = time.perf_counter() - began
    assert loaded is not None
    return registered, took


def _artifacts_case(settings: Settings, files: list[Path]) -> float:
    began = time.perf_counter()
    with mltrail.init(project="bench", capture=False, settings=settings) as run:
        for file in files:
            run.log_artifact(file)
    return time.perf_counter() - began


def _folder_case(settings: Settings, folder: Path) -> float:
    began = time.perf_counter()
    with mltrail.init(project="bench", capture=False, settings=settings) as run:
        run.log_artifact(folder)
    return time.perf_counter() - began


def _median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-mb", type=int, default=100)
    parser.add_argument("--artifacts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--moto", choices=("process", "thread"), default="process")
    args = parser.parse_args()

    s3 = _moto(args.moto)
    for key, value in s3.env().items():
        os.environ[key] = value
    with tempfile.TemporaryDirectory(prefix="mltrail-s3-bench-") as tmp:
        root = Path(tmp)
        folder = root / "model"
        _big_model(args.model_mb, folder)
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        rng = np.random.default_rng(1)
        files = _small_files(root / "small", args.artifacts, rng)
        folder_of_files = root / "folder"
        _small_files(folder_of_files, args.artifacts, rng)

        floor = _moto_floor(s3, size, files)
        results: dict[str, dict[str, list[float]]] = {"local": {}, "s3": {}}
        requests: dict[str, dict[str, int]] = {}
        for attempt in range(args.repeat):
            for kind in ("local", "s3"):
                blobs = f"s3://{s3.new_bucket()}/blobs" if kind == "s3" else None
                settings = _settings(root / f"{kind}-{attempt}", blobs)
                s3.reset_log()
                registered, loaded = _model_case(settings, folder)
                model_requests = dict(sorted(_methods(s3).items()))
                s3.reset_log()
                logged = _artifacts_case(settings, files)
                artifact_requests = dict(sorted(_methods(s3).items()))
                as_folder = _folder_case(settings, folder_of_files)
                figures = (("register", registered), ("load", loaded), ("artifacts", logged))
                for figure, value in (*figures, ("folder", as_folder)):
                    results[kind].setdefault(figure, []).append(value)
                results[kind].setdefault("register+load", []).append(registered + loaded)
                if kind == "s3":
                    requests = {"model": model_requests, "artifacts": artifact_requests}
                mltrail.sdk.client.connection.close_connections()
    s3.stop()

    print(f"model folder: {size / 1e6:.1f} MB; {args.artifacts} artifacts of 1-4 KiB; {args.repeat} repeats")
    print(f"moto: {args.moto}; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'figure':<16}{'local (s)':>12}{'S3 moto (s)':>14}{'ratio':>8}   all S3 runs")
    for figure in ("register", "load", "register+load", "artifacts", "folder"):
        local, remote = _median(results["local"][figure]), _median(results["s3"][figure])
        runs = ", ".join(f"{v:.2f}" for v in results["s3"][figure])
        print(f"{figure:<16}{local:>12.3f}{remote:>14.3f}{remote / local:>8.2f}   {runs}")
    local_model = _median(results["local"]["register+load"])
    local_files = _median(results["local"]["artifacts"])
    print(
        f"moto alone (plain httpx, no client): one PUT of {size / 1e6:.1f} MB {floor[0]:.3f} s"
        f" ({floor[0] / local_model:.2f}x the local register+load); HEAD+PUT of the {len(files)} files"
        f" {floor[1]:.3f} s ({floor[1] / local_files:.2f}x the local artifacts)"
    )
    if args.moto == "thread":
        print(f"S3 requests of the last repeat: model {requests['model']}; artifacts {requests['artifacts']}")


def _moto_floor(s3: Any, model_bytes: int, files: list[Path]) -> tuple[float, float]:
    """Seconds moto itself takes for the model's bytes in one PUT, and for a HEAD and a PUT per file."""
    import httpx

    bucket = s3.new_bucket()
    with httpx.Client(base_url=f"{s3.url}/{bucket}", timeout=120) as client:
        body = os.urandom(model_bytes)
        began = time.perf_counter()
        client.put("/model", content=body)
        model = time.perf_counter() - began
        began = time.perf_counter()
        for file in files:
            client.head(f"/{file.name}")
            client.put(f"/{file.name}", content=file.read_bytes())
        return model, time.perf_counter() - began


def _methods(s3: Any) -> dict[str, int]:
    found: dict[str, int] = {}
    for request in s3.requests:
        found[request.method] = found.get(request.method, 0) + 1
    return found


if __name__ == "__main__":
    main()
