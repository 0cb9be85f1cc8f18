"""``ModelMonitor.set_reference`` in a serving process's embedded store and on a live server (issue 13)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_monitor import _registered, frame

import mltrail
from mltrail.errors import InvalidInputError
from mltrail.settings import Settings

DAY = 86400.0


def _log_days(mon: Any, clf: Any, days: int) -> None:
    start = time.time() - (days + 1) * DAY
    for day in range(days):
        batch = frame(1000, 20 + day)
        x = batch[["tenure", "spend"]]
        mon.log(batch, clf.predict(x), timestamps=np.full(len(batch), start + day * DAY + 60))
    mon.flush()


def test_set_reference_from_rows_a_file_and_a_run(settings: Settings, tmp_path: Path) -> None:
    name, clf = _registered(settings)
    with mltrail.monitor(f"{name}:1", settings=settings, segments=["plan"]) as mon:
        _log_days(mon, clf, 3)
        before = mon.report(last="7d")["reference"]["output"]
        assert before["source"] == "launch_day" and "wrong from day one" in before["statement"]
        rows = frame(3000, 5)
        rows["prediction"] = 1  # a model that said "churns" to everyone
        entity = mon.set_reference(rows)
        assert entity.reference_source == "3,000 rows given to set_reference"
        report = mon.report(last="7d")
        assert report["reference"]["output"]["source"] == "reference"
        assert report["segment_reference"] == "segment"
        path = tmp_path / "ref.csv"
        rows.to_csv(path, index=False)
        assert mon.set_reference(path).reference_source == "file ref.csv"
        with pytest.raises(InvalidInputError):
            mon.set_reference(rows, run="x")
        moved = mon.set_reference(run=entity.run_id)
        assert moved.reference_source.startswith(f"run {entity.run_id}: train dataset churn-train")
        assert mon.report(last="7d")["reference"]["output"]["source"] == "launch_day"


def test_set_reference_through_a_live_server(settings: Settings, http_server: Any) -> None:
    from test_monitor_http import _registered as registered_on

    name, clf = registered_on(settings, http_server.url)
    with mltrail.monitor(f"{name}:1", server=http_server.url, flush_interval=0.05) as mon:
        _log_days(mon, clf, 2)
        rows = frame(2000, 6)
        rows["prediction"] = clf.predict(rows[["tenure", "spend"]])
        entity = mon.set_reference(rows)
        assert entity.reference_source == "2,000 rows given to set_reference"
        assert mon.report(last="7d")["reference"]["output"]["source"] == "reference"
        assert mon.set_reference(run=entity.run_id).reference_source.startswith(f"run {entity.run_id}:")
