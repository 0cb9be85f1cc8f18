"""``mltrail serve`` as a real process on 127.0.0.1 over a store of small scikit-learn models."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from gateway_world import Gateway, Home, serve

import mltrail

ROW = {"tenure": 12.0, "spend": 40.0}


def _counter(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture(scope="module")
def main(home: Home) -> Iterator[Gateway]:
    spec = {
        "primary": "churn@production",
        "canary": {"ref": "churn@challenger", "percent": 30},
        "shadow": ["broken:1", "slow:1", {"ref": "steady:1", "monitor": "churn-shadow"}],
        "fallback": [{"rule": "threshold", "feature": "tenure", "threshold": 20, "above": 0, "below": 1}],
        "guards": {
            "input": {"on_invalid": "fallback"},
            "output": [{"when": "spend > 10000", "then": "manual_review"}],
        },
        "timeout_ms": 2000,
        "monitor": "churn-main",
    }
    gateway = serve(home, "churn-main", spec)
    yield gateway
    gateway.stop()


def test_the_primary_answers_rows_and_columns_with_a_request_id(main: Gateway) -> None:
    key = next(
        k
        for k in (f"customer-{i}" for i in range(100))
        if main.predict({"rows": [ROW], "key": k}).json()["variant"] == "primary"
    )
    by_rows = main.predict({"rows": [ROW, {"tenure": 40.0, "spend": 10.0}], "key": key})
    assert by_rows.status_code == 200, by_rows.text
    body = by_rows.json()
    assert body["variant"] == "primary" and body["model"] == "churn:1"
    assert body["predictions"] == [1, 0]  # tenure < 20 churns, per the production model
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"]) and len(body["ids"]) == 2
    by_columns = main.predict({"columns": {"tenure": [12.0, 40.0], "spend": [40.0, 10.0]}, "key": key})
    assert by_columns.json()["predictions"] == [1, 0]
    # the readiness page names every model it loaded
    models = httpx.get(f"{main.url}/readyz", timeout=5).json()["models"]
    assert models["primary"] == "churn:1" and models["canary"] == "churn:2"


@pytest.mark.slow
def test_the_canary_is_sticky_per_key_and_takes_its_share(main: Gateway) -> None:
    seen: dict[str, set[str]] = {}
    for i in range(300):
        key = f"user-{i}"
        for _ in range(2 if i < 50 else 1):
            seen.setdefault(key, set()).add(main.predict({"rows": [ROW], "key": key}).json()["variant"])
    assert all(len(v) == 1 for v in seen.values())  # one customer, one model
    share = sum("canary" in v for v in seen.values()) / len(seen)
    assert 0.2 < share < 0.4  # 30% of keys, within sampling error of 300 keys


def test_shadows_are_never_returned_and_a_crashing_or_hanging_one_costs_nothing(main: Gateway) -> None:
    # broken:1 raises and slow:1 hangs 30 s on every copy; the caller sees neither.
    started = time.perf_counter()
    for i in range(20):
        body = main.predict({"rows": [ROW], "key": f"s-{i}"}).json()
        assert body["variant"] in ("primary", "canary") and body["predictions"] in ([0], [1])
    assert time.perf_counter() - started < 10  # far below one hang
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = main.metrics()
        if _counter(text, "mltrail_gateway_shadow_total", shadow="broken:1", outcome="error") >= 20:
            break
        time.sleep(0.1)
    assert _counter(text, "mltrail_gateway_shadow_total", shadow="broken:1", outcome="error") >= 20
    assert _counter(text, "mltrail_gateway_shadow_total", shadow="steady:1", outcome="ok") >= 20
    assert _counter(text, "mltrail_gateway_shadow_total", shadow="slow:1", outcome="ok") == 0


def test_an_invalid_input_goes_to_the_fallback_and_output_rules_override(main: Gateway) -> None:
    # The monitor's schema (inferred from the training data) has spend >= 0: a negative spend is invalid.
    body = main.predict(
        {"rows": [{"tenure": 5.0, "spend": -3.0}, ROW, {"tenure": 30.0, "spend": 20000.0}]}
    ).json()
    assert body["fallback"][0] == "threshold:tenure" and body["predictions"][0] == 1
    assert body["fallback"][1] is None
    assert body["predictions"][2] == "manual_review"
    assert any("input:spend: below min" in g for g in body["guards"][0])
    # 20,000 is above the training maximum too: the fallback answers, then the output rule overrides it
    assert body["guards"][2] == ["input:spend: above max", "output:override:spend > 10000"]
    text = main.metrics()
    assert _counter(text, "mltrail_gateway_fallback_total", step="threshold:tenure", reason="input") >= 1
    assert _counter(text, "mltrail_gateway_guard_total", guard="output:override:spend > 10000") >= 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, "body"),
        (b'{"rows": []}', 400, "rows"),
        (b'{"rows": [{"tenure": 1.0}]}', 400, "rows[0].spend"),
        (b'{"columns": {"tenure": [1.0], "spend": ["many"]}}', 400, "columns.spend[0]"),
        (b'{"rows": [{"tenure": 1, "spend": 2}], "extra": 1}', 400, "extra"),
    ],
)
def test_bad_bodies_get_a_4xx_naming_the_field(main: Gateway, body: bytes, status: int, field: str) -> None:
    response = httpx.post(
        f"{main.url}/v1/deployments/churn-main/predict",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field


def test_an_oversized_body_is_a_413_and_another_deployment_a_404(main: Gateway) -> None:
    big = b'{"rows": [' + b",".join([b'{"tenure": 1.0, "spend": 2.0}'] * 400_000) + b"]}"
    response = httpx.post(f"{main.url}/v1/deployments/churn-main/predict", content=big, timeout=30)
    assert response.status_code == 413 and response.json()["error"]["field"] == "body"
    assert httpx.post(f"{main.url}/v1/deployments/other/predict", json={"rows": [ROW]}).status_code == 404
    assert _counter(main.metrics(), "mltrail_gateway_rejected_total", reason="too_large") == 1


def test_every_request_lands_in_the_monitor_per_variant(main: Gateway, home: Home) -> None:
    ids = []
    for i in range(40):
        body = main.predict({"rows": [ROW], "key": f"m-{i}", "ids": [f"req-{i}"]}).json()
        ids.append(body["ids"][0])
    time.sleep(1.5)  # the recorder hands rows to the monitor every 0.2 s; its writer ingests them
    mon = mltrail.monitor("churn@production", name="churn-main", settings=home.settings)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            report = mon.report(last="1d")
            if report["current_rows"] >= 40 and "_variant=canary" in report["segments"]:
                break
            time.sleep(0.5)
        assert report["current_rows"] >= 40
        assert {"_variant=primary", "_variant=canary"} <= set(report["segments"])
        matched, unknown = mon.log_labels(ids, [1] * len(ids))  # labels later, by the ids the gateway used
        assert (matched, unknown) == (40, 0)
    finally:
        mon.close()


def test_a_raising_primary_is_answered_by_the_fallback_model(home: Home) -> None:
    gateway = serve(
        home,
        "broken-dep",
        {"primary": "broken:1", "fallback": [{"model": "churn:1"}, {"rule": "constant", "value": 0}]},
    )
    try:
        body = gateway.predict({"rows": [ROW]}).json()
        assert (
            body["model"] == "broken:1"
            and body["fallback"] == ["model:churn:1"]
            and body["predictions"] == [1]
        )
        assert (
            _counter(
                gateway.metrics(), "mltrail_gateway_fallback_total", step="model:churn:1", reason="error"
            )
            == 1
        )
    finally:
        gateway.stop()


def test_a_hanging_primary_is_answered_by_the_fallback_within_the_budget(home: Home) -> None:
    spec = {"primary": "slow:1", "timeout_ms": 300, "fallback": [{"rule": "constant", "value": 0}]}
    gateway = serve(home, "slow-dep", spec)
    try:
        started = time.perf_counter()
        body = gateway.predict({"rows": [ROW]}).json()
        elapsed = time.perf_counter() - started
        assert body["fallback"] == ["constant"] and body["predictions"] == [0]
        assert elapsed < 3  # the budget (0.3 s) and some, never the model's 30 s
        assert _counter(gateway.metrics(), "mltrail_gateway_fallback_total", reason="timeout") == 1
    finally:
        gateway.stop()


def test_a_rejecting_input_guard_names_the_column(home: Home) -> None:
    spec = {
        "primary": "churn@production",
        "guards": {
            "input": {
                "on_invalid": "reject",
                "schema": {"columns": {"tenure": {"kind": "numeric", "min": 0}}},
            }
        },
    }
    gateway = serve(home, "strict-dep", spec)
    try:
        response = gateway.predict({"rows": [ROW, {"tenure": -1.0, "spend": 1.0}]})
        assert response.status_code == 400
        assert response.json()["error"]["field"] == "rows[1].tenure"
        assert "below min" in response.json()["error"]["message"]
        assert _counter(gateway.metrics(), "mltrail_gateway_guard_total", guard="input:reject") == 1
    finally:
        gateway.stop()
