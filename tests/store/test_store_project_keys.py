"""The keys a project's runs use, per kind: distinct, sorted, bounded, of that project only."""

from __future__ import annotations

import time
import uuid

import pytest

from mltrail.entities import MetricsBatch
from mltrail.errors import NotFoundError
from mltrail.store.sql import SqlStore


def _run(store: SqlStore, project: str) -> str:
    run_id = uuid.uuid4().hex
    store.create_run(run_id=run_id, project=project, name="r", user="ada", start_time=time.time())
    return run_id


def test_keys_of_every_kind_over_all_runs_of_the_project(store: SqlStore, project: str) -> None:
    old, new = _run(store, project), _run(store, project)
    store.set_params(old, {"lr": 0.1, "only old": "x"})
    store.set_params(new, {"lr": 0.2, "batch": 32})
    store.log_metrics(old, MetricsBatch(["loss", "val/acc"], [0, 0], [1.0, 0.5], [1.0, 1.0], "c", 1))
    store.log_metrics(new, MetricsBatch(["loss"], [0], [0.9], [1.0], "c", 1))
    store.set_tags(new, {"team": "a"})
    store.set_summary(old, {"best": 0.5})
    other = _run(store, f"{project}-other")
    store.set_params(other, {"elsewhere": 1})
    assert store.project_keys(project) == {
        "params": ["batch", "lr", "only old"],
        "metrics": ["loss", "val/acc"],
        "tags": ["team"],
        "summary": ["best"],
    }
    assert store.project_keys(project, limit=1)["params"] == ["batch"]
    assert store.project_keys(f"{project}-other")["params"] == ["elsewhere"]


def test_an_empty_or_missing_project(store: SqlStore, project: str) -> None:
    _run(store, project)
    assert store.project_keys(project) == {"params": [], "metrics": [], "tags": [], "summary": []}
    with pytest.raises(NotFoundError, match="no project"):
        store.project_keys(f"{project}-missing")
