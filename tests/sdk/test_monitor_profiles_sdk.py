"""``monitor.log_profile``: a profile computed elsewhere (a Spark job) fed into a monitor, embedded and
against a real server (``POST /api/v1/monitors/{name}/profiles``): windows, drift, retries, refusals."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pyarrow as pa
import pytest
from test_monitor import frame
from test_monitor_estimate_sdk import _registered

import mltrail
from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.performance import accumulate
from mltrail.settings import Settings
from mltrail.stats.profile import profile_batches
from mltrail.store.monitoring import LabelMatch

DAY = 86400.0


@pytest.mark.parametrize("where", ["embedded", "server"])
def test_log_profile_fills_a_window_and_finds_drift(where: str, settings: Settings, http_server: Any) -> None:
    server = http_server.url if where == "server" else None
    name, clf = _registered(settings, server)
    options: dict[str, Any] = {"server": server} if server else {"settings": settings}
    day = (time.time() // DAY - 2) * DAY
    with mltrail.monitor(f"{name}:1", flush_interval=0.05, **options) as mon:
        batches = []
        for seed, shift in ((5, 0.0), (6, 2.0)):
            batch = frame(3000, seed, shift)
            batch["prediction"] = clf.predict(batch[["tenure", "spend"]])
            batches.append(profile_batches(pa.Table.from_pandas(batch, preserve_index=False)))
        first = mon.log_profile(batches[0], window_start=day - DAY)
        out = mon.log_profile(batches[1], window_start=day, key="nightly-1")
        assert (first.rows, first.windows) == (3000, (day - DAY,))
        assert (out.rows, out.windows, out.duplicate) == (3000, (day,), False)
        assert mon.log_profile(batches[1], window_start=day, key="nightly-1").duplicate
        with pytest.raises(InvalidInputError) as info:
            mon.log_profile(batches[1], window_start=day + 5)
        assert info.value.field == "window_start"
        report = mon.report(last="7d")
    assert [w["rows"] for w in report["windows"]] == [3000, 3000]
    assert "tenure" not in report["windows"][0]["drifted"] and "tenure" in report["windows"][1]["drifted"]


def test_the_profiles_route_needs_a_profile(settings: Settings, http_server: Any) -> None:
    name, _ = _registered(settings, http_server.url)
    with mltrail.monitor(f"{name}:1", server=http_server.url) as mon:
        url = f"{http_server.url}/api/v1/monitors/{mon.name}/profiles"
        bad = httpx.post(url, json={"profile": "bm90IGEgcHJvZmlsZQ==", "window_start": 0})
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "profile"
        missing = httpx.post(url, json={"window_start": 0})
        assert missing.status_code in (400, 422) and "profile" in missing.text


@pytest.mark.parametrize("where", ["embedded", "server"])
def test_log_performance_adds_labelled_figures_to_a_profiled_window(
    where: str, settings: Settings, http_server: Any
) -> None:
    server = http_server.url if where == "server" else None
    name, clf = _registered(settings, server)
    options: dict[str, Any] = {"server": server} if server else {"settings": settings}
    day = (time.time() // DAY - 1) * DAY
    batch = frame(1000, 9)
    batch["prediction"] = clf.predict(batch[["tenure", "spend"]])
    truth = (batch["tenure"] < 22).astype(int)
    matches = [
        LabelMatch(str(i), day, None, str(p), str(t), float(t))
        for i, (p, t) in enumerate(zip(batch["prediction"], truth, strict=True))
    ]
    acc = accumulate(matches, "classification")
    with mltrail.monitor(f"{name}:1", flush_interval=0.05, **options) as mon:
        assert mon.log_performance({"": acc}, window_start=day).windows == (day,)  # not profiled: skipped
        mon.log_profile(profile_batches(pa.Table.from_pandas(batch, preserve_index=False)), window_start=day)
        done = mon.log_performance({"": acc}, window_start=day, key="labels-1")
        assert (done.windows, done.duplicate) == ((day,), False)
        again = mon.log_performance({"": acc}, window_start=day, key="labels-1")  # a retried Spark task
        assert (again.windows, again.duplicate) == ((), True)
        with pytest.raises(InvalidInputError) as info:
            mon.log_performance({"": {"n": -1}}, window_start=day)
        assert info.value.field == "accumulators.all traffic"
        report = mon.report(last="7d")
    performance = report["windows"][0]["performance"]
    assert performance["labeled"] == 1000
    assert performance["accuracy"] == pytest.approx(float((batch["prediction"] == truth).mean()))


def test_log_performance_retried_after_a_lost_response_counts_once(
    settings: Settings, http_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, clf = _registered(settings, http_server.url)
    day = (time.time() // DAY - 1) * DAY
    batch = frame(500, 11)
    batch["prediction"] = clf.predict(batch[["tenure", "spend"]])
    matches = [LabelMatch(str(i), day, None, str(p), "1", 1.0) for i, p in enumerate(batch["prediction"])]
    with mltrail.monitor(f"{name}:1", server=http_server.url) as mon:
        mon.log_profile(profile_batches(pa.Table.from_pandas(batch, preserve_index=False)), window_start=day)
        client = mon.client.http._client  # type: ignore[attr-defined]
        send, lost = client.request, []

        def lose_the_first_answer(method: str, url: str, **kwargs: Any) -> httpx.Response:
            response = send(method, url, **kwargs)
            if url.endswith("/performance") and not lost:
                lost.append(kwargs["headers"]["Idempotency-Key"])
                raise httpx.ReadError("connection reset", request=response.request)
            return response

        monkeypatch.setattr(client, "request", lose_the_first_answer)
        done = mon.log_performance({"": accumulate(matches, "classification")}, window_start=day)
        monkeypatch.undo()
        assert lost and done.duplicate  # the server merged the first send; the retry, same key, did nothing
        report = mon.report(last="7d")
    assert report["windows"][0]["performance"]["labeled"] == 500
