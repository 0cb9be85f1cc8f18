"""Bugs the OpenAPI fuzz (tests/api/test_fuzz.py) found, and their neighbours found by probing the same edges.

Each was a 5xx (or a misleading status) before its fix; the request is replayed here as it was sent.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from live_server import TestClient

API = "/api/v1"
BIG = 2**70  # beyond 64 bits: orjson, SQLite and PostgreSQL BIGINT cannot hold it


def _run(client: TestClient, **extra: Any) -> str:
    response = client.post(f"{API}/runs", json={"project": "p", "name": "r", **extra})
    assert response.status_code == 201, response.text
    run_id: str = response.json()["id"]
    return run_id


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def _post_json(client: TestClient, url: str, body: bytes) -> httpx.Response:
    return client.post(url, content=body, headers={"Content-Type": "application/json"})


def test_integers_beyond_64_bits_in_documents_are_stored_as_text(client: TestClient) -> None:
    # Found by the fuzz: PATCH …/context {"context": {"": -9223372036854775809}} was a 500 (orjson).
    run_id = _run(client, config={"seeds": [BIG, 1]}, context={"n": -(2**63) - 1})
    patch = client.patch(f"{API}/runs/{run_id}/context", json={"context": {"big": {"x": BIG}}})
    assert patch.status_code == 204, patch.text
    assert client.patch(f"{API}/runs/{run_id}/summary", json={"values": {"v": [BIG]}}).status_code == 204
    run = client.get(f"{API}/runs/{run_id}").json()
    assert run["context"]["n"] == str(-(2**63) - 1) and run["context"]["big"] == {"x": str(BIG)}
    assert run["params"]["seeds"] == [str(BIG), 1]
    assert run["summary"]["v"] == [str(BIG)]


def test_a_document_nested_too_deeply_is_a_400(client: TestClient) -> None:
    run_id = _run(client)
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(300):
        inner["a"] = {}
        inner = inner["a"]
    error = _error(client.patch(f"{API}/runs/{run_id}/context", json={"context": deep}), 400)
    assert error["type"] == "InvalidInputError" and "JSON" in error["message"]


def test_batch_seq_beyond_64_bits_is_a_400(client: TestClient) -> None:
    run_id = _run(client)
    body = {"keys": ["a"], "steps": [1], "values": [1.0], "wall_times": [1.0], "client_id": "c", "seq": 2**63}
    error = _error(client.post(f"{API}/runs/{run_id}/metrics", json=body), 400)
    assert error["field"] == "seq"
    body["seq"] = 2**63 - 1  # the largest that fits is fine
    assert client.post(f"{API}/runs/{run_id}/metrics", json=body).json() == {"applied": True, "points": 1}


@pytest.mark.parametrize("name", ["min_step", "max_step"])
@pytest.mark.parametrize("step", [2**63, -(2**63) - 1])
def test_history_step_bounds_beyond_64_bits_are_a_400(client: TestClient, name: str, step: int) -> None:
    run_id = _run(client)
    client.post(
        f"{API}/runs/{run_id}/metrics",
        json={"keys": ["a"], "steps": [1], "values": [1.0], "wall_times": [1.0]},
    )
    error = _error(client.get(f"{API}/runs/{run_id}/metrics/history", params={"key": "a", name: step}), 400)
    assert error["field"] == name


def test_search_offset_beyond_64_bits_is_a_400(client: TestClient) -> None:
    _run(client)
    assert (
        _error(client.get(f"{API}/runs", params={"project": "p", "offset": 2**63}), 400)["field"] == "offset"
    )
    assert client.get(f"{API}/runs", params={"project": "p", "offset": 2**62}).json()["runs"] == []


def test_filter_with_an_integer_beyond_the_float_range_compares_like_infinity(client: TestClient) -> None:
    run_id = _run(client, config={"lr": 0.1})
    huge = "9" * 400  # float() of it overflows
    below = client.get(f"{API}/runs", params={"project": "p", "filter": f"params.lr < {huge}"})
    assert below.status_code == 200, below.text
    assert [r["id"] for r in below.json()["runs"]] == [run_id]
    above = client.get(f"{API}/runs", params={"project": "p", "filter": f"start_time > {huge}"})
    assert above.status_code == 200 and above.json()["total"] == 0
    negative = client.get(f"{API}/runs", params={"project": "p", "filter": f"params.lr in (-{huge}, 0.1)"})
    assert negative.json()["total"] == 1


@pytest.mark.parametrize("field", ["num_rows", "num_bytes"])
def test_dataset_sizes_beyond_64_bits_are_a_400(client: TestClient, field: str) -> None:
    run_id = _run(client)
    body = {"name": "d", "digest": "0" * 64, "kind": "table", field: 2**63}
    assert _error(client.post(f"{API}/runs/{run_id}/datasets", json=body), 400)["field"] == field


def test_the_openapi_document_declares_non_finite_floats_as_strings(client: TestClient) -> None:
    # Found by the fuzz: a history holding NaN answered "NaN" where the schema said "number".
    run_id = _run(client)
    body = b'{"keys": ["a", "a"], "steps": [1, 2], "values": ["NaN", "-Infinity"], "wall_times": [1, 2]}'
    assert _post_json(client, f"{API}/runs/{run_id}/metrics", body).status_code == 200
    history = client.get(f"{API}/runs/{run_id}/metrics/history", params={"key": "a"}).json()
    assert history["values"] == ["NaN", "-Infinity"]
    schemas = client.get(f"{API}/openapi.json").json()["components"]["schemas"]
    allowed = schemas["HistoryPublic"]["properties"]["values"]["items"]["anyOf"]
    assert {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]} in allowed
    assert {"type": "number"} in allowed
    summary = schemas["MetricSummaryPublic"]["properties"]["last"]["anyOf"]
    assert {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]} in summary


@pytest.mark.parametrize("value", ["NaN", "Infinity"])
def test_non_finite_start_and_end_times_are_a_400(client: TestClient, value: str) -> None:
    # Was a 409 "conflicts with stored data" on SQLite (NaN is stored as NULL in a NOT NULL column).
    body = orjson.dumps({"project": "p", "name": "r"})[:-1] + f', "start_time": "{value}"}}'.encode()
    assert _error(_post_json(client, f"{API}/runs", body), 400)["field"] == "start_time"
    run_id = _run(client)
    finish = f'{{"status": "failed", "end_time": "{value}"}}'.encode()
    assert _error(_post_json(client, f"{API}/runs/{run_id}/finish", finish), 400)["field"] == "end_time"
    assert client.get(f"{API}/runs/{run_id}").json()["status"] == "running"


def test_a_non_finite_wall_time_is_a_400(client: TestClient) -> None:
    # Was a 409 on SQLite (NULL in a NOT NULL column) and stored as is on PostgreSQL.
    run_id = _run(client)
    body = b'{"keys": ["a", "a"], "steps": [1, 2], "values": [1, 2], "wall_times": [1, "NaN"]}'
    error = _error(_post_json(client, f"{API}/runs/{run_id}/metrics", body), 400)
    assert error["field"] == "wall_times"
    missing = client.get(f"{API}/runs/{run_id}/metrics/history", params={"key": "a"})
    assert missing.status_code == 404  # nothing of the batch was stored
