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


def test_project_activity_by_iso_week_on_each_backend(store: SqlStore, project: str) -> None:
    """Weeks start on Monday 00:00 UTC on both dialects (PostgreSQL's CAST rounds, so it floors first)."""
    from mltrail.entities import ActivityCell, RunStatus

    monday = 1_796_601_600.0  # 2026-12-07 00:00 UTC
    for i, (user, start, status) in enumerate(
        [("ana", monday + 6.9 * 86400, RunStatus.FINISHED), ("ana", monday - 0.4, RunStatus.CRASHED)]
    ):
        run_id = f"act{i}-{project}"
        store.create_run(run_id=run_id, project=project, name="r", user=user, start_time=start)
        store.update_run(run_id, status=status, end_time=start + 30)
    assert store.project_activity(project) == [
        ActivityCell(week_start=monday, user="ana", runs=1, seconds=30.0, failed=0),
        ActivityCell(week_start=monday - 7 * 86400, user="ana", runs=1, seconds=30.0, failed=1),
    ]
    assert store.project_activity(project, since=monday) == store.project_activity(project)[:1]
