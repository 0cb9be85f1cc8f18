"""Seed the embedded store with a realistic demo: scikit-learn models trained on its bundled data sets.

Run by ``make demo``. Each run (named after its grid point, e.g. ``gbm-lr0.2-d3``) logs its config, the
train/test datasets it read, a metric curve per epoch or boosting stage, its predictions on the test set as
the table ``val`` (for ``mltrail runs samples``), the fitted pipeline saved as a model folder (skops, with
its signature) and summary values. Then the best breast-cancer run is registered, ana requests production
and bob, a maintainer, approves it after the gates pass; a stakeholder report over them is written as HTML
and PDF (``demo_reports.py``). Re-running replaces the demo projects' runs and registers a new version.
It ends with the team insights (``demo_insights.py``).
"""

from __future__ import annotations

import contextlib
import itertools
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from demo_gateway import run_gateway_demo
from demo_insights import show_insights
from demo_media import log_media_demo
from demo_reports import run_reports_demo
from demo_traffic import simulate
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mltrail
from mltrail.entities import ApprovalPolicy
from mltrail.errors import ConflictError
from mltrail.query import parse_sorts
from mltrail.sdk.client.connection import embedded_transport
from mltrail.settings import Settings

DEMO_MODEL = "breast-cancer-classifier"
DEMO_MONITOR = "breast-cancer-production"

DATASETS: dict[str, Callable[..., Any]] = {"breast-cancer": load_breast_cancer, "wine": load_wine}
Curve = Iterator[tuple[dict[str, float], Any]]


def sgd_curve(config: dict[str, Any], xtr: Any, ytr: Any, xte: Any, yte: Any) -> Curve:
    classes = np.unique(ytr)
    model = SGDClassifier(loss="log_loss", alpha=config["alpha"], learning_rate="optimal", random_state=0)
    for _ in range(config["epochs"]):
        model.partial_fit(xtr, ytr, classes=classes)
        yield _scores(model, xtr, ytr, xte, yte), model


def gbm_curve(config: dict[str, Any], xtr: Any, ytr: Any, xte: Any, yte: Any) -> Curve:
    model = GradientBoostingClassifier(
        n_estimators=config["n_estimators"],
        learning_rate=config["learning_rate"],
        max_depth=config["max_depth"],
        random_state=0,
    ).fit(xtr, ytr)
    train_stages = model.staged_predict_proba(xtr)
    for proba_te, proba_tr in zip(model.staged_predict_proba(xte), train_stages, strict=True):
        yield _proba_scores(model.classes_, proba_tr, ytr, proba_te, yte), model


def forest_curve(config: dict[str, Any], xtr: Any, ytr: Any, xte: Any, yte: Any) -> Curve:
    model = RandomForestClassifier(
        n_estimators=0, max_depth=config["max_depth"], warm_start=True, random_state=0, n_jobs=1
    )
    for n in range(5, config["n_estimators"] + 1, 5):
        model.set_params(n_estimators=n)
        model.fit(xtr, ytr)
        yield _scores(model, xtr, ytr, xte, yte), model


def _scores(model: Any, xtr: Any, ytr: Any, xte: Any, yte: Any) -> dict[str, float]:
    return _proba_scores(model.classes_, model.predict_proba(xtr), ytr, model.predict_proba(xte), yte)


def _proba_scores(classes: Any, ptr: Any, ytr: Any, pte: Any, yte: Any) -> dict[str, float]:
    pred = classes[np.argmax(pte, axis=1)]
    return {
        "train/loss": float(log_loss(ytr, ptr, labels=classes)),
        "val/loss": float(log_loss(yte, pte, labels=classes)),
        "val/acc": float(accuracy_score(yte, pred)),
        "val/f1": float(f1_score(yte, pred, average="macro")),
    }


GRIDS: dict[str, tuple[Callable[..., Curve], dict[str, list[Any]]]] = {
    "sgd": (sgd_curve, {"alpha": [1e-4, 1e-3, 1e-2], "epochs": [30]}),
    "gbm": (gbm_curve, {"learning_rate": [0.05, 0.2], "max_depth": [2, 3], "n_estimators": [60]}),
    "forest": (forest_curve, {"max_depth": [3, None], "n_estimators": [60]}),
}


def run_name(model: dict[str, Any]) -> str:
    """A run's name from its grid point, e.g. ``gbm-lr0.2-d3`` (``make demo`` compares two runs by name)."""
    short = {"alpha": "a", "learning_rate": "lr", "max_depth": "d"}
    parts = [f"{short[k]}{v}" for k, v in model.items() if k in short]
    return "-".join([model["type"], *parts])


def configurations() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for dataset in DATASETS:
        for model_name, (_, grid) in GRIDS.items():
            keys = list(grid)
            for values in itertools.product(*(grid[k] for k in keys)):
                model = {"type": model_name, **dict(zip(keys, values, strict=True))}
                out.append((dataset, model_name, {"model": model}))
    return out


def clear_demo_projects(settings: Settings) -> None:
    tracking = embedded_transport(settings).tracking
    names = {p.name for p in tracking.list_projects()}
    for project in [*(f"demo-{dataset}" for dataset in DATASETS), "demo-digits"]:
        if project not in names:
            continue
        while True:
            page = tracking.search_runs(project, limit=500)
            if not page.runs:
                break
            for run in page.runs:
                tracking.delete_run(run.id)


def train_one(dataset: str, model_name: str, config: dict[str, Any], workdir: Path) -> None:
    bunch = DATASETS[dataset](as_frame=True)
    frame: pd.DataFrame = bunch.frame
    train, test = train_test_split(frame, test_size=0.3, random_state=7, stratify=frame["target"])
    features = [c for c in frame.columns if c != "target"]
    scaler = StandardScaler().fit(train[features])
    xtr, xte = scaler.transform(train[features]), scaler.transform(test[features])
    ytr, yte = train["target"].to_numpy(), test["target"].to_numpy()
    curve_fn = GRIDS[model_name][0]
    params = {**config, "data": {"test_size": 0.3, "split_seed": 7, "scaler": "standard"}}
    tags = {"dataset": dataset, "family": model_name, "demo": "true"}
    # Console capture is off: the progress bar below owns the terminal.
    name = run_name(config["model"])
    with mltrail.init(
        project=f"demo-{dataset}", name=name, config=params, tags=tags, capture={"console": False}
    ) as run:
        run.log_dataset(train.reset_index(drop=True), name=f"{dataset}-train", role="train")
        run.log_dataset(test.reset_index(drop=True), name=f"{dataset}-test", role="test")
        best, model = 0.0, None
        for step, (scores, fitted) in enumerate(curve_fn(config["model"], xtr, ytr, xte, yte)):
            run.log(scores, step=step)
            if scores["val/acc"] >= best:
                best, model = scores["val/acc"], fitted
        # The test set's predictions, row by row (ids: the rows of the bundled data set), so two runs can be
        # compared sample by sample: `mltrail runs samples A B --table val` (make demo runs one).
        run.log_predictions(
            "val",
            test.index.to_numpy(),
            yte,
            model.predict(xte),
            proba=model.predict_proba(xte),
            features=test[features].reset_index(drop=True),
        )
        pipeline = make_pipeline(scaler, model)
        mltrail.models.save_model(pipeline, workdir / run.id, input_example=test[features].head(5))
        run.log_artifact(workdir / run.id, name="model")
        run.summary["best_val_acc"] = best
        run.summary["train_rows"] = len(train)


def main() -> None:
    console = Console()
    settings = Settings.from_env()
    console.print(f"[bold]mltrail demo[/] — seeding the embedded store at [cyan]{settings.home.resolve()}[/]")
    clear_demo_projects(settings)
    jobs = configurations()
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress,
    ):
        task = progress.add_task("training runs", total=len(jobs))
        for dataset, model_name, config in jobs:
            progress.update(task, description=f"{dataset} · {model_name}")
            train_one(dataset, model_name, config, Path(tmp))
            progress.advance(task)
    console.print(f"{len(jobs)} runs in {time.perf_counter() - started:.1f} s\n")
    log_media_demo(console)  # images with boxes and masks, histograms, figures: the run page's Media tab
    version = register_best(settings, console)
    frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    # Production requests look like the training data until the drift starts (then they do not).
    train, _ = train_test_split(frame, test_size=0.3, random_state=7, stratify=frame["target"])
    name = simulate(f"{DEMO_MODEL}@production", train, settings, console, name=DEMO_MONITOR)
    console.print(f"(version {version} is in production; its monitor is [bold]{name}[/])\n")
    run_gateway_demo(settings, console, frame, DEMO_MODEL, "demo-breast-cancer")
    run_reports_demo(settings, console, "demo-breast-cancer", DEMO_MODEL, DEMO_MONITOR)
    show_insights(settings, console)


def register_best(settings: Settings, console: Console) -> int:
    """The registry's trail: register the best run, request production, approve as a second user."""
    connection = mltrail.connect(settings=settings)
    ana, bob = connection.registry("ana"), connection.registry("bob")
    project = "demo-breast-cancer"
    policy = ApprovalPolicy(gates=("metrics.val/acc >= 0.9",), require_datasets=True, require_signature=True)
    with contextlib.suppress(ConflictError):  # registered by an earlier demo: add a version
        ana.service.create_model(
            DEMO_MODEL,
            project=project,
            principal=ana.principal,
            description="Classifies breast tumours as malignant or benign from 30 cell-nucleus measurements.",
            policy=policy,
            card={
                "intended_use": "Demo of the mltrail registry: not for clinical use.",
                "limitations": "Trained on 398 rows of scikit-learn's bundled Wisconsin data set.",
            },
        )
    best = (
        embedded_transport(settings)
        .tracking.search_runs(project, sort=parse_sorts(["-metrics.val/acc"]), limit=1)
        .runs[0]
    )
    version = ana.register(DEMO_MODEL, best.id, "model", f"best of the demo grid: {best.name}", None)
    ana.transition(DEMO_MODEL, version.version, stage="staging", alias=None, comment=None)
    _, request = ana.transition(
        DEMO_MODEL, version.version, stage="production", alias=None, comment="best val/acc of the grid"
    )
    assert request is not None
    gates = ", ".join(f"{g.gate} {'✓' if g.passed else '✗'}" for g in request.gates)
    bob.decide(request.id, approve=True, comment="gates pass; curves look sane")
    console.print(
        f"registered [bold]{DEMO_MODEL}:{version.version}[/] from run {best.name} "
        f"(val/acc {best.metrics['val/acc'].last:.3f}); ana requested production, gates: {gates}; "
        "bob approved\n"
    )
    return version.version


if __name__ == "__main__":
    main()
