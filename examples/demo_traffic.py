"""The demo's production traffic: 30 days of predictions by the approved breast-cancer model.

Requests are resampled from the training split. From day 20 two features drift for
everyone (``mean radius`` and ``mean texture`` grow by 1.5 standard deviations: a new imaging device),
and ``worst area`` drifts at one site only (segment ``site=C``). Ground truth arrives three days late, so
the monitor is calibrated on the rows traffic is drawn from (their labels and the model's probabilities)
and its report estimates accuracy, precision, recall, F1 and ROC AUC of every day before the labels come
(CBPE). In real use calibrate on labelled data like production's that the model did not train on.
Alert rules watch feature drift, the site-C segment, missing values, accuracy and estimated accuracy.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import mltrail
from mltrail.errors import NotFoundError
from mltrail.sdk.client.connection import embedded_transport
from mltrail.settings import Settings

DAYS = 30
DRIFT_DAY = 20
LABEL_DELAY = 3
PER_DAY = 1500
DRIFTED = ("mean radius", "mean texture")
SEGMENT_DRIFTED = "worst area"
DAY = 86400.0


def day_of_traffic(
    pool: pd.DataFrame, features: list[str], day: int, rng: np.random.Generator
) -> pd.DataFrame:
    rows = pool.sample(PER_DAY, replace=True, random_state=int(rng.integers(1 << 31))).reset_index(drop=True)
    noisy = rows[features].copy()
    noisy["site"] = rng.choice(["A", "B", "C"], PER_DAY, p=[0.5, 0.3, 0.2])
    if day >= DRIFT_DAY:
        for column in DRIFTED:
            noisy[column] += 1.5 * pool[column].std()
        at_c = noisy["site"] == "C"
        noisy.loc[at_c, SEGMENT_DRIFTED] += 2.0 * pool[SEGMENT_DRIFTED].std()
    if day >= 25:  # a broken upstream join starts dropping one feature for some requests
        gone = rng.random(PER_DAY) < 0.15
        noisy.loc[gone, "mean smoothness"] = np.nan
    noisy["target"] = rows["target"].to_numpy()
    return noisy


def simulate(model_ref: str, pool: pd.DataFrame, settings: Settings, console: Console, *, name: str) -> str:
    """Feed the monitor 30 days of traffic and late labels; the monitor's name."""
    model = mltrail.models.load(model_ref, trust=True, settings=settings)  # our own, just approved
    features = (
        [f["name"] for f in model.meta.signature.to_dict()["inputs"]["fields"]]
        if model.meta.signature
        else []
    )
    transport = embedded_transport(settings)
    with contextlib.suppress(NotFoundError):  # an earlier demo's monitor: start afresh
        transport.services.monitoring.delete(name)
    # The reference has 398 rows: a KS p-value at 5 % would flag ~1.5 of 30 unshifted features a day by
    # chance, so the distance tests decide at every size (Wasserstein/std ≥ 0.1, Jensen–Shannon ≥ 0.1).
    # The training data with the model's own outputs on it is the reference, so the output is watched too
    # (the lineage's dataset profile alone has no prediction column).
    reference = pool[features].assign(prediction=model.predict(pool[features]))
    mon = mltrail.monitor(
        model_ref,
        name=name,
        reference=reference,
        segments=["site"],
        drift={"small_sample": 0},
        settings=settings,
    )
    # Performance estimation before labels: the model's probabilities against the true classes.
    x = pool[features]
    mon.calibrate(
        x.assign(prediction=model.predict(x), score=_positive_proba(model, x), target=pool["target"]),
        label="target",
    )
    rules = [
        mon.add_alert("drift.score", feature="*", above=0.1, for_windows=2),
        mon.add_alert("drift.score", feature=SEGMENT_DRIFTED, segment="site=C", above=0.1, for_windows=2),
        mon.add_alert("missing_rate", feature="*", above=0.05),
        mon.add_alert("performance.accuracy", below=0.96, for_windows=2),
        mon.add_alert("estimated.accuracy", below=0.9, for_windows=2),
    ]
    rng = np.random.default_rng(20)
    start = (time.time() // DAY - DAYS) * DAY
    pending: dict[int, tuple[list[str], list[int]]] = {}
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("production traffic (days)", total=DAYS)
        for day in range(DAYS):
            traffic = day_of_traffic(pool, features, day, rng)
            x = traffic[features]
            ids = [f"d{day}-{i}" for i in range(len(traffic))]
            proba = _positive_proba(model, x)
            mon.log(
                traffic.drop(columns=["target"]),
                model.predict(x.fillna(x.median())),
                ids=ids,
                scores=proba,
                timestamps=start + day * DAY + rng.uniform(0, DAY - 1, len(traffic)),
            )
            pending[day] = (ids, traffic["target"].tolist())
            if day - LABEL_DELAY in pending:
                mon.log_labels(*pending.pop(day - LABEL_DELAY))
            progress.advance(task)
    mon.flush()
    opened = mon.alerts("open")
    what = sorted({_describe(a.metric, a.feature, a.segment) for a in opened})
    console.print(
        f"monitor [bold]{mon.name}[/]: {DAYS} days × {PER_DAY} predictions, labels {LABEL_DELAY} days late, "
        f"{len(rules)} alert rules, [bold red]{len(opened)} open alerts[/]: " + ", ".join(what)
    )
    page = mon.report_html(settings.home / f"{name}.html", last="31d")
    console.print(f"HTML report: [cyan]{page}[/]")
    mon.close()
    return mon.name


def _describe(metric: str, feature: str | None, segment: str | None) -> str:
    where = f" {feature}" if feature else ""
    return f"{metric}{where}" + (f" in {segment}" if segment else "")


def _positive_proba(model: Any, x: pd.DataFrame) -> Any:
    raw = model.raw
    filled = x.fillna(x.median())
    if hasattr(raw, "predict_proba"):
        return raw.predict_proba(filled)[:, 1]
    return None
