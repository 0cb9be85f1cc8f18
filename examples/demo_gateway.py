"""The demo's deployment: the approved breast-cancer model served through ``mltrail serve``.

Run by ``examples/demo.py`` after the registry and monitor demos. It registers a challenger (the best run
of another model family: the canary, 20 % of patients) and a candidate (the best of a third family: a
shadow that scores a copy of every request and never answers), and a fallback model that reads three
robust features only. The deployment's spec is written twice, so its history has a diff: first the
primary with its shadow, then with the canary and a fallback chain (the fallback model, then a threshold
rule on ``worst radius``). Then ``mltrail serve`` starts on a free port of 127.0.0.1 and the demo sends
single-row requests through it, as the production traffic of ``demo_traffic`` looks on four days:

- calm (day 5), drifted (day 22: two features grew by 1.5 standard deviations);
- broken (day 27): the upstream join that drops ``mean smoothness`` for some requests sends them as
  null; the production model cannot score a missing value and raises, so the fallback model answers them
  (the gateway counts each, by step and reason) while the other requests go on as before;
- fixed (day 5 again): the join repaired, the primary answers everything again.

The true classes are posted by request id, so the deployment's monitor has realized accuracy per variant.
The gateway stops (its monitor rows and evidence written first), and ``mltrail deploy evidence`` prints
what it counted per variant: requests, error, fallback and guard rates, latency percentiles, the shadow's
agreement with the answers given, and realized accuracy. The web UI then shows the deployment.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from demo_traffic import day_of_traffic
from rich.console import Console
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mltrail
from mltrail.errors import NotFoundError
from mltrail.query import parse_sorts
from mltrail.sdk.client.connection import embedded_transport
from mltrail.settings import Settings

DEPLOYMENT = "breast-cancer"
GATEWAY_MONITOR = "breast-cancer-gateway"
FALLBACK_MODEL = "breast-cancer-fallback"
FALLBACK_FEATURES = ["worst radius", "worst concave points", "worst texture"]
PHASES = (("calm", 5, 200), ("drifted", 22, 200), ("broken join", 27, 250), ("fixed", 5, 100))
PATIENTS = 400  # request keys: one patient sees one model (the canary is sticky per key)


def register_variants(settings: Settings, model: str, project: str, console: Console) -> tuple[int, int]:
    """The challenger and the candidate: the best runs of the two families production's run is not of,
    registered as versions with those aliases. Their versions."""
    connection = mltrail.connect(settings=settings)
    ana = connection.registry("ana")
    runs = (
        embedded_transport(settings)
        .tracking.search_runs(project, sort=parse_sorts(["-metrics.val/acc"]), limit=100)
        .runs
    )
    production = ana.resolve(f"{model}@production")
    ours = next((r.tags.get("family") for r in runs if r.id == production.run_id), None)
    best: dict[str, Any] = {}  # family -> its best run, best family first
    for run in runs:
        family = run.tags.get("family", "")
        if family not in (ours, "fallback", "") and family not in best:
            best[family] = run
    picked = []
    for alias, family in zip(("challenger", "candidate"), best, strict=False):
        run = best[family]
        version = ana.register(model, run.id, "model", f"best {family} run of the grid: {run.name}", None)
        _, request = ana.transition(
            model, version.version, stage=None, alias=alias, comment=f"{alias} for the gateway demo"
        )
        assert request is None, f"the demo's policy protects @{alias}: it should not"
        picked.append(version.version)
        console.print(
            f"registered [bold]{model}:{version.version}[/] ({family}, val/acc "
            f"{run.metrics['val/acc'].last:.3f}) as @{alias}"
        )
    if len(picked) < 2:
        raise RuntimeError(f"the demo grid needs three model families, found {ours} and {list(best)}")
    return picked[0], picked[1]


def register_fallback(train: pd.DataFrame, test: pd.DataFrame, project: str) -> str:
    """A small model on three features the broken join never drops: the fallback chain's first step."""
    x, y = train[FALLBACK_FEATURES], train["target"]
    with mltrail.init(
        project=project,
        name="fallback-3-features",
        config={"model": {"type": "logistic"}, "features": FALLBACK_FEATURES},
        tags={"dataset": "breast-cancer", "family": "fallback", "demo": "true"},
        capture={"console": False},
    ) as run:
        run.log_dataset(
            train[[*FALLBACK_FEATURES, "target"]].reset_index(drop=True), name="fallback-train", role="train"
        )
        fitted = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
        acc = float(accuracy_score(test["target"], fitted.predict(test[FALLBACK_FEATURES])))
        run.log({"val/acc": acc})
        version = mltrail.models.register(
            FALLBACK_MODEL, run=run, model=fitted, input_example=x.head(5), description="3-feature fallback"
        )
    return f"{version.model}:{version.version}"


def write_deployment(model: str, fallback: str, settings: Settings, console: Console) -> int:
    """The spec in two steps (so its history has something to compare); the deployment's version."""
    deployments = mltrail.connect(settings=settings).deployments("ana")
    first = {
        "primary": f"{model}@production",
        "shadow": [f"{model}@candidate"],
        "timeout_ms": 250,
        "monitor": GATEWAY_MONITOR,
    }
    second = {
        **first,
        "canary": {"ref": f"{model}@challenger", "percent": 20},
        "fallback": [
            {"model": fallback},
            {"rule": "threshold", "feature": "worst radius", "threshold": 16.8, "above": 0, "below": 1},
        ],
    }
    try:
        deployments.get(DEPLOYMENT)
        deployments.update(DEPLOYMENT, first, comment="demo re-run: production with a shadow")
    except NotFoundError:
        deployments.create(DEPLOYMENT, first, comment="production with the candidate in shadow")
    done = deployments.update(
        DEPLOYMENT, second, comment="canary 20% for the challenger; fallback model, then a rule"
    )
    console.print(f"deployment [bold]{DEPLOYMENT}[/] is at spec v{done.version}")
    return done.version


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli() -> Path:
    return Path(sys.executable).with_name("mltrail")


def _env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "MLTRAIL_DIR": str(settings.home)}


@contextlib.contextmanager
def gateway(settings: Settings, console: Console) -> Iterator[str]:
    """``mltrail serve DEPLOYMENT`` on a free port of 127.0.0.1 until the block ends; its URL."""
    port = _free_port()
    cli, env = _cli(), _env(settings)
    log = (settings.home / "gateway.log").open("w")
    proc = subprocess.Popen(
        # --trust: the demo serves its own models (tree models hold types skops does not trust by default)
        [str(cli), "serve", DEPLOYMENT, "--port", str(port), "--trust"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                ready = httpx.get(f"{url}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((settings.home / "gateway.log").read_text()[-3000:])
            time.sleep(0.2)
        models = ", ".join(f"{k} {v}" for k, v in ready.json()["models"].items())
        console.print(f"[bold]mltrail serve {DEPLOYMENT}[/] on {url} (pid {proc.pid}): {models}")
        yield url
    finally:
        proc.terminate()  # uvicorn shuts down: the gateway writes its queued monitor rows first
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _row(values: pd.Series) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else float(v)) for k, v in values.items()}


def send_traffic(url: str, pool: pd.DataFrame, features: list[str], console: Console) -> dict[str, Any]:
    """The four phases, one row a request; what the client saw."""
    rng = np.random.default_rng(27)
    endpoint = f"{url}/v1/deployments/{DEPLOYMENT}/predict"
    answered: Counter[tuple[str, str]] = Counter()
    labels: dict[str, int] = {}
    failed = 0
    with httpx.Client(timeout=10) as client:
        for phase, day, count in PHASES:
            traffic = day_of_traffic(pool, features, day, rng).head(count)
            fell: Counter[tuple[str, str]] = Counter()  # (variant that failed, fallback step that answered)
            for _, row in traffic.iterrows():
                body = {"rows": [_row(row[features])], "key": f"patient-{int(rng.integers(PATIENTS))}"}
                answer = client.post(endpoint, json=body)
                if answer.status_code != 200:
                    failed += 1
                    continue
                got = answer.json()
                step = (got.get("fallback") or [None])[0]
                who = got["variant"] if step is None else "fallback"
                answered[(phase, who)] += 1
                if step is not None:
                    fell[(got["variant"], step)] += 1
                labels[got["ids"][0]] = int(row["target"])
            console.print(
                f"  {phase:<11} (day {day:>2}): {count} requests: "
                + ", ".join(f"{n} {who}" for (p, who), n in sorted(answered.items()) if p == phase)
            )
            for (variant, step), n in sorted(fell.items()):
                console.print(
                    f"    [bold red]the {variant} failed on {n} row{'s' if n > 1 else ''}[/]: {step} answered"
                )
    return {"answered": answered, "labels": labels, "failed": failed}


def run_gateway_demo(
    settings: Settings, console: Console, frame: pd.DataFrame, model: str, project: str
) -> None:
    """Register the variants, write the deployment, serve it, send traffic, break and mend the primary,
    print the evidence, stop the gateway."""
    from sklearn.model_selection import train_test_split

    started = time.perf_counter()
    train, test = train_test_split(frame, test_size=0.3, random_state=7, stratify=frame["target"])
    features = [c for c in frame.columns if c != "target"]
    register_variants(settings, model, project, console)
    fallback = register_fallback(train, test, project)
    console.print(f"registered [bold]{fallback}[/] on {', '.join(FALLBACK_FEATURES)}")
    with contextlib.suppress(NotFoundError):  # an earlier demo's gateway monitor: start afresh
        embedded_transport(settings).services.monitoring.delete(GATEWAY_MONITOR)
    # The training data with production's own answers is the reference, so the output is watched too.
    production = mltrail.models.load(f"{model}@production", trust=True, settings=settings)
    mon = mltrail.monitor(
        f"{model}@production",
        name=GATEWAY_MONITOR,
        reference=train[features].assign(prediction=production.predict(train[features])),
        granularity="hour",
        drift={"small_sample": 0},
        settings=settings,
    )
    write_deployment(model, fallback, settings, console)
    with gateway(settings, console) as url:
        seen = send_traffic(url, train, features, console)
    mon.log_labels(list(seen["labels"]), list(seen["labels"].values()))
    mon.flush()
    mon.close()
    console.print(
        f"{sum(seen['answered'].values())} requests answered, {seen['failed']} failed; the gateway part"
        f" of the demo took {time.perf_counter() - started:.0f} s (load average"
        f" {', '.join(f'{x:.1f}' for x in os.getloadavg())}). Monitor [bold]{GATEWAY_MONITOR}[/] holds"
        " every request with its _variant and, posted by request id, its true class.\n"
    )
    # The evidence the gateway sent to the store while it served, as `mltrail deploy evidence` shows it.
    console.print(f"[bold]mltrail deploy evidence {DEPLOYMENT}[/]")
    subprocess.run([str(_cli()), "deploy", "evidence", DEPLOYMENT], env=_env(settings), check=True)
