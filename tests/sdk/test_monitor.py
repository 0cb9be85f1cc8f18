"""``mltrail.monitor`` from a serving process and ``mltrail.drift_report`` in a notebook."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mltrail
from mltrail.errors import InvalidInputError, StoreError
from mltrail.sdk.monitoring.monitor import ModelMonitor
from mltrail.settings import Settings

linear = pytest.importorskip("sklearn.linear_model")
DAY = 86400.0


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tenure": rng.normal(24 + shift * 12, 12, n),
            "spend": rng.gamma(2.0, 50.0, n),
            "plan": rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
        }
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "mltrail", flush_interval=0.05)


def _registered(settings: Settings) -> tuple[str, Any]:
    name = f"churn-{uuid.uuid4().hex[:6]}"
    train = frame(4000, 1)
    y = (train["tenure"] < 20).astype(int)
    features = train[["tenure", "spend"]]
    clf = linear.LogisticRegression().fit(features, y)
    with mltrail.init(project="shop", capture=False, settings=settings) as run:
        run.log({"val/acc": 0.96}, step=0)
        run.log_dataset(train, name="churn-train", role="train")
        mltrail.models.register(name, run=run, model=clf, input_example=features.head(5), settings=settings)
    return name, clf


def test_monitor_logs_in_the_background_and_finds_drift(settings: Settings) -> None:
    name, clf = _registered(settings)
    with mltrail.monitor(f"{name}:1", settings=settings, segments=["plan"]) as mon:
        assert mon.entity.features == ("tenure", "spend")  # from the signature
        assert mon.entity.reference_source.startswith("train dataset churn-train")
        start = time.time() - 6 * DAY
        for day in range(6):
            batch = frame(2000, 10 + day, shift=1.5 if day >= 4 else 0.0)
            x = batch[["tenure", "spend"]]
            began = time.perf_counter()
            mon.log(
                batch,
                clf.predict(x),
                ids=[f"{day}-{i}" for i in range(len(batch))],
                scores=clf.predict_proba(x)[:, 1],
                timestamps=np.full(len(batch), start + day * DAY + 3600),
            )
            assert time.perf_counter() - began < 1.0  # queued, not ingested in the call
        truth = (frame(2000, 15, shift=1.5)["tenure"] < 20).astype(int)
        matched, unknown = mon.log_labels([f"5-{i}" for i in range(2000)] + ["nope"], [*truth, 0])
        assert (matched, unknown) == (2000, 1)
        report = mon.report(last="7d")
        assert report["period"]["windows"] == 6 and report["current_rows"] == 12000
        assert report["windows"][0]["drifted"] == [] and "tenure" in report["windows"][5]["drifted"]
        assert report["windows"][5]["performance"]["labeled"] == 2000
        assert report["performance"]["training"]["accuracy"] == 0.96
        assert "plan=basic" in report["segments"]
        html = mon.report_html(settings.home / "report.html")
        assert "<svg" in html.read_text(encoding="utf-8")
        rule = mon.add_alert("drift.score", feature="tenure", above=0.1)
        mon.log(frame(500, 99, shift=2.0), np.zeros(500), timestamps=np.full(500, start + 5 * DAY + 7200))
        mon.flush()
        assert [a.feature for a in mon.alerts("open")] == ["tenure"] and rule.id


def test_a_refused_batch_is_reported_at_flush(settings: Settings) -> None:
    name, _ = _registered(settings)
    mon = mltrail.monitor(f"{name}:1", settings=settings)
    mon.log(pa.table({"tenure": [1.0], "timestamp": ["not a time"]}))
    with pytest.raises(InvalidInputError) as info:
        mon.flush()
    assert info.value.field == "timestamp"
    mon.close()


def test_drift_report_from_parquet_paths_and_frames(tmp_path: Path) -> None:
    ref, cur = frame(5000, 1), frame(5000, 2, shift=1.0)
    pq.write_table(pa.Table.from_pandas(ref, preserve_index=False), tmp_path / "ref.parquet")
    (tmp_path / "cur").mkdir()
    pq.write_table(pa.Table.from_pandas(cur, preserve_index=False), tmp_path / "cur" / "part-0.parquet")
    report = mltrail.drift_report(tmp_path / "ref.parquet", tmp_path / "cur")
    assert report.drifted_columns == ("tenure",)
    assert report.to_dict()["drifted_columns"] == ["tenure"]
    same = mltrail.drift_report(ref, frame(5000, 3))
    assert same.drifted_columns == () and not same.dataset_drifted
    page = report.to_html(tmp_path / "drift.html")
    assert (tmp_path / "drift.html").read_text(encoding="utf-8") == page and "tenure" in page
    with pytest.raises(InvalidInputError):
        mltrail.drift_report(tmp_path / "missing.parquet", cur)


def test_a_monitor_of_an_alias_records_what_it_follows(settings: Settings) -> None:
    # The SDK passes what the reference follows; services/monitor_alias moves the monitor (tested in
    # tests/services/test_monitor_alias.py with an injected clock).
    name, _ = _registered(settings)
    _moved, request = mltrail.models.transition(name, 1, to="canary", settings=settings)
    assert request is None, request
    with mltrail.monitor(f"{name}@canary", settings=settings) as mon:
        assert mon.entity.alias == "canary"
        assert [(v.version, v.run_id) for v in mon.entity.versions] == [(1, mon.entity.run_id)]
    with mltrail.monitor(f"{name}:1", name=f"{name}-fixed", settings=settings) as fixed:
        assert fixed.entity.alias is None


class _LostFirstResponse:
    """The real in-process client, except that the response to the first batch is lost after the batch
    was stored (what a read timeout does over HTTP)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.where = inner.where
        self.max_batch_bytes = None
        self.calls: list[tuple[int, str | None]] = []

    def ingest(self, name: str, table: pa.Table, key: str | None = None) -> int:
        self.calls.append((table.num_rows, key))
        rows: int = self.inner.ingest(name, table, key)
        if len(self.calls) == 1:
            raise StoreError("read timeout (the batch was stored)")
        return rows

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.inner, attr)


def test_a_batch_whose_response_was_lost_is_sent_again_whole_with_its_key_and_lands_once(
    settings: Settings,
) -> None:
    name, _ = _registered(settings)
    first = mltrail.monitor(f"{name}:1", settings=settings)
    flaky = _LostFirstResponse(first.client)
    mon = ModelMonitor(flaky, first.entity, flush_interval=0.05)
    try:
        mon.log(frame(500, 3), np.ones(500))
        deadline = time.monotonic() + 10
        while not flaky.calls and time.monotonic() < deadline:
            time.sleep(0.01)
        mon.log(frame(300, 4), np.ones(300))  # queued while the first batch waits for its retry
        mon.flush()
    finally:
        mon.close()
        first.close()
    (rows_1, key_1), (rows_2, key_2), (rows_3, key_3) = flaky.calls
    assert (rows_1, rows_2, rows_3) == (500, 500, 300)  # the retry is the same batch, not merged
    assert key_1 == key_2 and key_1 is not None and key_3 not in (None, key_1)
    report = mltrail.monitor(f"{name}:1", settings=settings).report(last=None)
    assert report["current_rows"] == 800  # the first batch once, though it was sent twice
