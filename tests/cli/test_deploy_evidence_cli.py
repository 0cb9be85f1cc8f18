"""``mltrail deploy evidence`` on the embedded store: the table per variant and the JSON the API gives."""

from __future__ import annotations

import json
import time
from pathlib import Path

import test_deploy_cli
from test_deploy_cli import _run

import mltrail
from mltrail.entities import EvidenceWindow, VariantCounts
from mltrail.sdk.client.connection import connect
from mltrail.settings import Settings
from mltrail.stats.latency_sketch import LatencySketch

home = test_deploy_cli.home  # the same fixture: two registered versions of churn


def test_evidence_shows_each_variant_and_its_json(home: Path) -> None:
    settings = Settings(home=home)
    mltrail.deployments.create("churn-prod", {"primary": "churn:1", "shadow": ["churn:2"]}, settings=settings)
    sketch = LatencySketch()
    for ms in (1.0, 2.0, 3.0, 40.0):
        sketch.add(ms)
    window = EvidenceWindow(
        time.time() // 60 * 60,
        1,
        "r1",
        (
            VariantCounts("primary", "churn:1", requests=4, rows=4, errors=1, latency=sketch.to_dict()),
            VariantCounts(
                "shadow[0]", "churn:2", requests=4, rows=4, compared=4, agreed=3, latency=sketch.to_dict()
            ),
        ),
    )
    connect(settings=settings).deployments("ana").record_evidence("churn-prod", [window])
    shown = _run(home, "deploy", "evidence", "churn-prod")
    assert "primary" in shown and "shadow[0]" in shown and "25.0%" in shown
    assert "shadow[0] churn:2: agreement 75.0% of 4" in shown
    assert all(len(line) <= 80 for line in shown.splitlines())
    data = json.loads(_run(home, "deploy", "evidence", "churn-prod", "--since", "1h", "--json"))
    assert [v["requests"] for v in data["variants"]] == [4, 4]
    assert data["variants"][1]["agreement"] == {"kind": "classes", "value": 0.75, "compared": 4}
    assert "no traffic" in _run(
        home, "deploy", "evidence", "churn-prod", "--since", "2000-01-01", "--until", "2000-01-02"
    )


def test_a_long_model_name_folds_and_every_heading_stays_whole(home: Path) -> None:
    """With the demo's model names (``breast-cancer-classifier:1``) the headings were cut to ``reque…``
    and ``err…`` at 80 columns; the model's name now folds onto a second line instead."""
    settings = Settings(home=home)
    mltrail.deployments.create("churn-long", {"primary": "churn:1"}, settings=settings)
    long_model = "churn-with-a-rather-long-registered-name:1"
    window = EvidenceWindow(
        time.time() // 60 * 60,
        1,
        "r1",
        (VariantCounts("primary", long_model, requests=2, rows=2, latency=LatencySketch().to_dict()),),
    )
    connect(settings=settings).deployments("ana").record_evidence("churn-long", [window])
    shown = _run(home, "deploy", "evidence", "churn-long")
    header = next(line for line in shown.splitlines() if "variant" in line)
    for heading in ("model", "requests", "errors", "fallback", "guards", "p50/p95/p99 ms"):
        assert heading in header, header
    assert all(len(line) <= 80 for line in shown.splitlines())
