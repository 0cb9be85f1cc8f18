"""Insights over 100,000 runs and 50 models (target: ≤ 500 ms per page of figures).

    .venv/bin/python benchmarks/insights_speed.py [--runs 100000] [--models 50] [--repeat 5] [--postgres URL]

Seeds a temp SQLite file (or a throwaway PostgreSQL database made from URL, dropped afterwards) with N
runs (10 projects, 40 users, a year of start times, hardware facts of CPU-only and GPU boxes, half of the
runs with a dataset version) by bulk inserts, and M registered models with 3 versions each moved to
production through the store; sets a price table and a budget per project; then times each page's
service call (cost, value, cadence, scorecard, budgets) in-process and through the API (FastAPI's
TestClient, no authentication), printing the median and the worst of ``--repeat`` calls after one warm-up.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from http_concurrent import throwaway_database

from mltrail.api.app import create_app
from mltrail.entities import ApprovalPolicy, ModelFile, RegistryEvent, Stage
from mltrail.services.insights.service import InsightsService
from mltrail.settings import Settings
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore
from mltrail.store.sql import schema as t
from mltrail.store.sql.insight_facts import fact_row

YEAR = 365 * 86400.0
GPUS = [None, None, None, "NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3", "Tesla T4"]


def seed(store: SqlStore, runs: int, models: int, now: float) -> None:
    rng = random.Random(7)
    projects = [f"team-{i}" for i in range(10)]
    with store.engine.begin() as conn:
        conn.execute(t.projects.insert(), [{"name": p, "created_at": now - YEAR} for p in projects])
        ids = {
            name: pid
            for pid, name in conn.execute(
                t.projects.select().with_only_columns(t.projects.c.id, t.projects.c.name)
            )
        }
        conn.execute(
            t.dataset_versions.insert(),
            [
                {
                    "project_id": ids[p],
                    "name": "train",
                    "version": 1,
                    "digest": "d",
                    "kind": "table",
                    "schema": "[]",
                    "summary": "{}",
                    "created_at": now - YEAR,
                }
                for p in projects
            ],
        )
        dataset = {
            pid: did
            for did, pid in conn.execute(
                t.dataset_versions.select().with_only_columns(
                    t.dataset_versions.c.id, t.dataset_versions.c.project_id
                )
            )
        }
        batch_runs, batch_facts, batch_links = [], [], []
        for i in range(runs):
            run_id = uuid.UUID(int=rng.getrandbits(128)).hex
            project = projects[i % len(projects)]
            start = now - rng.random() * YEAR
            batch_runs.append(
                {
                    "id": run_id,
                    "project_id": ids[project],
                    "name": f"run-{i}",
                    "status": "finished",
                    "user": f"user-{rng.randrange(40)}",
                    "start_time": start,
                    "end_time": start + rng.expovariate(1 / 3600.0),
                    "context": "{}",
                }
            )
            gpu = rng.choice(GPUS)
            row = fact_row(run_id, ids[project], batch_runs[-1]["user"], start, {})
            has_data = rng.random() < 0.5
            row.update(
                seconds=batch_runs[-1]["end_time"] - start,
                cpu_count=rng.choice([4, 8, 16, 32]),
                gpu_count=0 if gpu is None else rng.choice([1, 2, 8]),
                gpu_kind=gpu,
                code_state=rng.choice(["clean", "diff", "dirty", "none"]),
                has_data=has_data,
            )
            batch_facts.append(row)
            if has_data:
                batch_links.append(
                    {"run_id": run_id, "dataset_version_id": dataset[ids[project]], "role": "train"}
                )
            if len(batch_runs) == 5000 or i == runs - 1:
                conn.execute(t.runs.insert(), batch_runs)
                conn.execute(t.run_facts.insert(), batch_facts)
                if batch_links:
                    conn.execute(t.run_datasets.insert(), batch_links)
                batch_runs, batch_facts, batch_links = [], [], []
        some_runs = [
            r for (r,) in conn.execute(t.runs.select().with_only_columns(t.runs.c.id).limit(models * 3))
        ]
    for m in range(models):
        name, project = f"model-{m}", projects[m % len(projects)]
        at = now - YEAR + m * 3600
        store.create_registered_model(
            name=name,
            project=project,
            description="",
            owner=None,
            tags={},
            policy=ApprovalPolicy(),
            card={},
            created_at=at,
            event=RegistryEvent(time=at, model=name, action="model_created", user="ana"),
        )
        for v in range(3):
            at += rng.uniform(20, 100) * 86400
            version = store.create_model_version(
                model=name,
                run_id=some_runs[m * 3 + v],
                source="model",
                digest="0" * 64,
                flavor="sklearn",
                format="skops",
                executes_code=False,
                signature=None,
                files=[ModelFile("m", "0" * 64, 1)],
                description="",
                tags={},
                created_by="ana",
                created_at=at,
                event=RegistryEvent(time=at, model=name, action="version_registered", user="ana"),
            )
            details: dict[str, Any] = {"to": "production", **({"request": v} if v % 2 else {})}
            moved = at + rng.uniform(1, 10) * 86400
            store.set_version_stage(
                name,
                version.version,
                Stage.PRODUCTION,
                archive_previous=True,
                events=[
                    RegistryEvent(time=moved, model=name, action="stage_changed", user="bob", details=details)
                ],
            )


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    call()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--postgres", default="", help="a PostgreSQL URL: bench on a throwaway database there"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        settings = Settings(home=Path(tmp) / "mltrail")
        if args.postgres:
            settings = replace(settings, db_url=stack.enter_context(throwaway_database(args.postgres)))
        store = open_store(settings.db_url)
        now = time.time()
        started = time.perf_counter()
        seed(store, args.runs, args.models, now)
        print(f"seeded {args.runs:,} runs and {args.models} models in {time.perf_counter() - started:.1f} s")
        insights = InsightsService(store, runs=store, monitors=store, audit=store)
        insights.set_price("cpu", 0.04, "USD", user="bench")
        insights.set_price("gpu", 2.0, "USD", user="bench")
        insights.set_price("gpu:NVIDIA H100 80GB HBM3", 4.0, "USD", user="bench")
        for i in range(10):
            insights.set_budget(f"team-{i}", 5000.0, user="bench")
        pages: list[tuple[str, Callable[[], object], str]] = [
            ("cost (all time)", lambda: insights.cost(), "/api/v1/insights/cost"),
            (
                "cost (last 30 days)",
                lambda: insights.cost(since=now - 30 * 86400),
                "/api/v1/insights/cost?since=30d",
            ),
            ("cost (one project)", lambda: insights.cost(["team-3"]), "/api/v1/insights/cost?project=team-3"),
            ("value", lambda: insights.value(), "/api/v1/insights/value"),
            ("cadence", lambda: insights.cadence(), "/api/v1/insights/cadence"),
            ("scorecard", lambda: insights.scorecard(), "/api/v1/insights/scorecard"),
            ("budgets", lambda: insights.budgets(), "/api/v1/insights/budgets"),
        ]
        print(f"{'page':<22} {'service p50':>12} {'max':>8} {'API p50':>10} {'max':>8}  (ms)")
        with TestClient(create_app(settings, store=store, webhooks=False)) as client:
            for name, call, url in pages:
                s50, smax = timed(call, args.repeat)

                def over_http(url: str = url) -> None:
                    response = client.get(url)
                    response.raise_for_status()

                h50, hmax = timed(over_http, args.repeat)
                print(f"{name:<22} {s50:>12.1f} {smax:>8.1f} {h50:>10.1f} {hmax:>8.1f}")
        store.close()


if __name__ == "__main__":
    main()
