"""Issue 13: reports that answer the same way every time and agree with themselves, segments compared with
the same segment of the reference, and alert rules that see the data already in."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from mltrail.entities import Monitor
from mltrail.render.html_report import render_report_html
from mltrail.services.monitoring.alerts import AlertService
from mltrail.services.monitoring.segments import profile_reference
from mltrail.services.monitoring.service import MonitoringService
from mltrail.stats.profile import profile_batches
from mltrail.store.blobs import BlobStore
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore

DAY = 86400.0
T0 = 1_764_547_200.0  # 2025-12-01 00:00 UTC


def month(
    days: int,
    rows: int,
    *,
    drift_from: int | None = None,
    shift: float = 0.0,
    missing_from: int | None = None,
    missing: float = 0.0,
) -> Iterator[pa.Table]:
    """A day of traffic per batch: from ``drift_from`` on, three of four features move by ``shift`` std;
    from ``missing_from`` on, ``income`` is missing in a share ``missing`` of the rows."""
    for day in range(days):
        yield traffic(
            rows,
            100 + day,
            day=day,
            shift=shift if drift_from is not None and day >= drift_from else 0.0,
            missing=missing if missing_from is not None and day >= missing_from else 0.0,
        )


def traffic(
    n: int, seed: int, *, day: int = 0, shift: float = 0.0, missing: float = 0.0, times: bool = True
) -> pa.Table:
    rng = np.random.default_rng(seed)
    age = rng.normal(40 + shift * 10, 10, n)
    radius = rng.normal(14 + shift * 3, 3, n)
    tenure = rng.normal(5, 2, n)
    country = rng.choice(["DE", "FR", "ES"], n, p=[0.5, 0.3, 0.2])
    income = rng.normal(50 + shift * 20, 20, n) + np.where(country == "DE", 15.0, 0.0)  # richer in DE
    cols: dict[str, Any] = {
        "age": age,
        "radius": radius,
        "income": pa.array(income, mask=rng.random(n) < missing) if missing else income,
        "tenure": tenure,
        "country": country,
        "prediction": (age > 40).astype(np.int64),
    }
    if times:
        cols["timestamp"] = T0 + day * DAY + rng.uniform(0, DAY - 1, n)
    return pa.table(cols)


@dataclass
class World:
    url: str
    store: SqlStore
    blobs: BlobStore
    monitoring: MonitoringService
    alerts: AlertService
    sent: list[tuple[str, dict[str, Any]]]

    def monitor(self, **options: Any) -> Monitor:
        reference = traffic(20_000, 1, times=False)
        return self.monitoring.create_monitor(
            f"mon-{uuid.uuid4().hex[:8]}",
            project=f"p-{uuid.uuid4().hex[:6]}",
            reference=profile_batches(reference),
            reference_source="test",
            features=["age", "radius", "income", "tenure"],
            **options,
        )


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    store = open_store(db_url)
    sent: list[tuple[str, dict[str, Any]]] = []

    def notifier(channel: str, payload: Any) -> tuple[bool, int | None, str | None]:
        sent.append((channel, dict(payload)))
        return True, 200, None

    blobs = BlobStore(str(tmp_path / "blobs"))
    alerts = AlertService(store, notifier=notifier, clock=lambda: T0 + 31 * DAY)
    monitoring = MonitoringService(store, blobs, after_ingest=alerts.evaluate, clock=lambda: T0 + 31 * DAY)
    yield World(db_url, store, blobs, monitoring, alerts, sent)
    alerts.close()
    store.close()


def _figures(report: dict[str, Any]) -> str:
    """The report's figures as canonical JSON (the alerts list aside: it reads alerts, not windows)."""
    return json.dumps({k: v for k, v in report.items() if k != "alerts"}, sort_keys=True)


_READ_IN_A_PROCESS = """
import json, sys
from mltrail.services.monitoring.report import build_report
from mltrail.store.factory import open_store
store = open_store(sys.argv[1])
report = build_report(store, store.get_monitor(sys.argv[2]))
print(json.dumps({k: v for k, v in report.items() if k != "alerts"}, sort_keys=True))
"""


def test_the_same_windows_read_again_give_the_same_report(world: World, tmp_path: Path) -> None:
    mon = world.monitor(segments=["country"])
    for batch in month(30, 3000, drift_from=20, shift=0.15):
        world.monitoring.ingest(mon.name, batch)
    reads = set()
    for _ in range(6):  # a new service each time, as six requests to a server would
        service = MonitoringService(world.store, world.blobs)
        reads.add(_figures(service.report(mon.name)))
    assert len(reads) == 1
    for _ in range(2):  # and in other processes, whose sketch libraries seed their randomness afresh
        out = subprocess.run(
            [sys.executable, "-c", _READ_IN_A_PROCESS, world.url, mon.name],
            capture_output=True,
            text=True,
            check=True,
        )
        reads.add(out.stdout.strip())
    assert len(reads) == 1
    report = json.loads(reads.pop())
    sketch = report["sketch"]  # how far a sketch value may be from the exact one
    assert sketch["kll_k"] == 200
    assert 0.01 < sketch["rank_error"] < 0.02 and sketch["rank_error"] <= sketch["pmf_error"] < 0.02


def test_a_rule_added_after_the_data_is_in_is_evaluated_at_once(world: World) -> None:
    mon = world.monitor()
    for batch in month(14, 2000, drift_from=0, shift=1.0):  # 14 days of blatant drift, no rule yet
        world.monitoring.ingest(mon.name, batch)
    assert world.alerts.list(mon) == []
    rule = world.alerts.add_rule(
        mon,
        metric="drift.score",
        feature="age",
        above=0.1,
        for_windows=3,
        notify=["webhook:https://h.example/x"],
    )
    opened = world.alerts.list(mon, state="open")
    assert [(a.rule_id, a.feature, a.window_start) for a in opened] == [(rule.id, "age", T0 + 13 * DAY)]
    assert world.alerts.flush(10)
    assert [p["feature"] for _, p in world.sent] == ["age"]  # notified like any other alert
    # evaluated again on demand: nothing new, nothing sent twice
    assert world.alerts.evaluate_rules(mon) == [] and world.alerts.evaluate_rules(mon, rule_id=rule.id) == []
    assert world.alerts.flush(10) and len(world.sent) == 1
    # a rule whose condition does not hold opens nothing; one over a longer look-back than the data: nothing
    world.alerts.add_rule(mon, metric="drift.score", feature="tenure", above=0.1)
    world.alerts.add_rule(mon, metric="drift.score", feature="age", above=0.1, for_windows=20)
    assert len(world.alerts.list(mon)) == 1


def test_old_windows_beyond_the_horizon_raise_nothing(world: World) -> None:
    mon = world.monitor()
    for batch in month(3, 1000, drift_from=0, shift=1.0):
        world.monitoring.ingest(mon.name, batch)
    late = AlertService(world.store, clock=lambda: T0 + 90 * DAY)  # two months later: stale data
    late.add_rule(mon, metric="drift.score", feature="age", above=0.1)
    assert late.list(mon) == []
    late.close()


def _tile(html: str, label: str) -> str:
    """The value shown on the summary card ``label``."""
    match = re.search(rf'<div class="label">{re.escape(label)}</div><div class="value">(.*?)</div>', html)
    assert match is not None, label
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_summary_cards_tables_charts_and_alerts_agree(world: World) -> None:
    mon = world.monitor()
    world.alerts.add_rule(mon, metric="missing_rate", feature="income", above=0.05)
    for batch in month(30, 3000, drift_from=20, shift=0.15, missing_from=20, missing=0.1):
        world.monitoring.ingest(mon.name, batch)
    report = world.monitoring.report(mon.name)
    windows = report["windows"]
    drifted_windows = [w["start"] for w in windows if w["dataset_drifted"]]
    assert drifted_windows == [T0 + d * DAY for d in range(20, 30)]  # what the drift chart marks
    summary = report["summary"]
    assert summary["drift"]["dataset_drifted"] is True
    assert summary["drift"]["windows_drifted"] == 10 and summary["drift"]["first_drifted"] == T0 + 20 * DAY
    for name in ("age", "radius", "income", "tenure"):
        assert summary["features"][name]["windows_drifted"] == sum(name in w["drifted"] for w in windows)
    assert {"age", "radius", "income"} <= set(summary["drifted_features"])
    assert "tenure" not in summary["drifted_features"]
    assert set(summary["drifted_features"]) == {n for w in windows for n in w["drifted"]}
    open_alerts = [a for a in report["alerts"] if a["state"] == "open"]
    assert [(a["metric"], a["feature"]) for a in open_alerts] == [("missing_rate", "income")]
    assert summary["missing_changed"] == ["income"] and summary["open_alerts"] == 1
    html = render_report_html(report)
    assert _tile(html, "Dataset drift") == "Yes"
    assert _tile(html, "Missing-rate changes") == "1"
    assert _tile(html, "Drifted features") == f"{len(summary['drifted_features'])} / {summary['tested']}"
    assert _tile(html, "Open alerts") == "1"
    assert "KLL sketches (k = 200): a quantile's rank is within ±1.3" in html  # the sketch's stated error


SEGMENTS = ["country", "age < 25"]


def _segmented(world: World, reference: Any) -> Monitor:
    return world.monitoring.create_monitor(
        f"mon-{uuid.uuid4().hex[:8]}",
        project=f"p-{uuid.uuid4().hex[:6]}",
        reference=reference,
        reference_source="test",
        features=["age", "radius", "income", "tenure", "country"],
        segments=SEGMENTS,
    )


def _no_drift_and_own_column_untested(world: World, mon: Monitor, report: dict[str, Any]) -> None:
    segments = report["segments"]
    for name, column in [("country=DE", "country"), ("country=FR", "country"), ("age < 25", "age")]:
        assert segments[name]["drifted_columns"] == [], name
        assert segments[name]["not_tested"] == column
        assert all(w["drifted"] == [] for w in segments[name]["windows"]), name
    for window in world.store.list_windows(mon.id, "day", segment=None):
        figures = window.fresh_figures
        assert figures is not None
        if figures["reference"] == "new":
            assert figures["scores"] == {} and figures["share_drifted"] is None
        elif window.segment.startswith("country="):
            assert "country" not in figures["scores"] and "age" in figures["scores"]
        if window.segment == "age < 25":
            assert "age" not in figures["scores"] and "country" in figures["scores"]


def test_segments_are_compared_with_the_same_segment_of_the_reference(world: World) -> None:
    reference = traffic(40_000, 1, times=False)
    mon = _segmented(world, profile_reference(reference, SEGMENTS))
    for batch in month(3, 20_000):  # no drift at all (segments big enough for the tests to be quiet)
        world.monitoring.ingest(mon.name, batch)
    newcomers = traffic(300, 7, day=2)
    newcomers = newcomers.set_column(
        newcomers.column_names.index("country"), "country", pa.array(["IT"] * 300)
    )
    world.monitoring.ingest(mon.name, newcomers)
    report = world.monitoring.report(mon.name)
    assert report["segment_reference"] == "segment"
    segments = report["segments"]
    for name in ("country=DE", "country=FR", "country=ES", "age < 25"):
        assert segments[name]["reference"] == "segment" and not segments[name]["new"]
    _no_drift_and_own_column_untested(world, mon, report)
    # a segment the reference never had is new: no drift figures, not drift
    italy = segments["country=IT"]
    assert italy["new"] is True and italy["reference"] == "new" and italy["rows"] == 300
    assert italy["drifted_columns"] == [] and italy["share_drifted"] is None
    assert italy["windows"] == [
        {"start": T0 + 2 * DAY, "rows": 300, "drifted": [], "share_drifted": None, "performance": {}}
    ]
    # a rule on segment drift raises nothing for it
    world.alerts.add_rule(mon, metric="drift.share", segment="country=IT", above=0.0)
    world.alerts.add_rule(mon, metric="drift.score", feature="income", segment="country=IT", above=0.0)
    assert world.alerts.list(mon) == []
    html = render_report_html(report)
    assert "each compared with the same segment of the reference" in html
    assert "not in the reference: no drift figures" in html


def test_without_segment_references_segments_meet_the_whole_reference_but_never_their_own_column(
    world: World,
) -> None:
    # a lineage reference (a training dataset's profile) has no per-segment profiles
    mon = _segmented(world, profile_batches(traffic(40_000, 1, times=False)))
    for batch in month(3, 20_000):
        world.monitoring.ingest(mon.name, batch)
    report = world.monitoring.report(mon.name)
    assert report["segment_reference"] == "whole"
    assert {s["reference"] for s in report["segments"].values()} == {"whole"}
    segments = report["segments"]
    for name, column in [("country=DE", "country"), ("age < 25", "age")]:
        assert column not in segments[name]["drifted_columns"]
        assert segments[name]["not_tested"] == column
    # against the whole reference DE's income differs (it is richer there): that much is said, not hidden
    assert "income" in segments["country=DE"]["drifted_columns"]
    html = render_report_html(report)
    assert "compared with the whole reference" in html and "own column is never tested" in html
