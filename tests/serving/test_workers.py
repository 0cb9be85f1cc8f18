"""``mltrail serve --workers 2``: both worker processes answer, and every request of either lands in the
deployment's monitor (the rows ingested are counted, not sampled)."""

from __future__ import annotations

import time

import httpx
import pytest
from gateway_world import Home, serve

import mltrail

ROW = {"tenure": 12.0, "spend": 40.0}


@pytest.mark.slow
@pytest.mark.timeout(600)  # two worker processes starting on a loaded machine, then 200 requests
def test_two_workers_both_answer_and_every_request_lands_in_the_monitor(home: Home) -> None:
    mltrail.monitor("churn@production", name="churn-workers", settings=home.settings).close()
    spec = {"primary": "churn@production", "monitor": "churn-workers"}
    # two processes each import and load everything: on a loaded 2-core machine over a minute
    gateway = serve(home, "churn-workers", spec, "--workers", "2", ready_timeout=240)
    # "Connection: close": a new connection for every request, which the kernel hands to either process
    fresh = httpx.Client(timeout=30, headers={"Connection": "close"})
    keep_alive = httpx.Client(timeout=30)
    try:
        workers = set()
        # the second worker accepts once it has loaded its models too: wait for it by time, not count
        deadline = time.monotonic() + 180
        while len(workers) < 2 and time.monotonic() < deadline:
            workers.add(fresh.get(f"{gateway.url}/readyz").json()["pid"])
            time.sleep(0.02)
        assert len(workers) == 2
        sent = 200
        for i in range(sent):
            client = keep_alive if i % 2 else fresh  # half on one connection, half on new ones
            response = client.post(
                f"{gateway.url}/v1/deployments/churn-workers/predict",
                json={"rows": [ROW], "ids": [f"w-{i}"]},
            )
            assert response.status_code == 200, response.text
    finally:
        fresh.close()
        keep_alive.close()
        gateway.stop()  # each worker writes what it still holds before it exits
    watched = mltrail.monitor("churn@production", name="churn-workers", settings=home.settings)
    try:
        deadline = time.monotonic() + 30
        while (rows := watched.report(last="1d")["current_rows"]) < sent and time.monotonic() < deadline:
            time.sleep(0.5)
        assert rows == sent
        matched, unknown = watched.log_labels([f"w-{i}" for i in range(sent)], [1] * sent)
        assert (matched, unknown) == (sent, 0)
    finally:
        watched.close()
