"""Arrow IPC bodies on the predict route of a real ``mltrail serve`` process: answered as JSON, or as an
Arrow stream when ``Accept`` asks for it; a malformed stream is a 400 naming the body."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pyarrow as pa
import pytest
from gateway_world import Gateway, Home, serve

ARROW = "application/vnd.apache.arrow.stream"


def stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=2):  # several record batches in one stream
            writer.write_batch(batch)
    return bytes(sink.getvalue())


@pytest.fixture(scope="module")
def gateway(home: Home) -> Iterator[Gateway]:
    spec = {
        "primary": "churn@production",
        "guards": {"output": [{"when": "spend > 10000", "then": "manual_review"}]},
    }
    running = serve(home, "churn-arrow", spec)
    yield running
    running.stop()


def post(gateway: Gateway, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/v1/deployments/{gateway.name}/predict",
        content=body,
        headers={"Content-Type": ARROW, **headers},
        params={"key": "customer-1"},
        timeout=30,
    )


def test_an_arrow_stream_of_rows_is_answered_as_json_like_the_same_json_rows(gateway: Gateway) -> None:
    table = pa.table(
        {
            "spend": [40.0, 10.0, 20000.0],  # columns in another order than the model's
            "tenure": [12.0, 40.0, 30.0],
            "_id": ["a", "b", "c"],
        }
    )
    response = post(gateway, stream(table))
    assert response.status_code == 200, response.text
    body = response.json()
    rows = [
        {"tenure": 12.0, "spend": 40.0},
        {"tenure": 40.0, "spend": 10.0},
        {"tenure": 30.0, "spend": 20000.0},
    ]
    as_json = gateway.predict({"rows": rows}).json()
    assert body["predictions"] == as_json["predictions"] == [1, 0, "manual_review"]
    assert body["ids"] == ["a", "b", "c"] and body["model"] == "churn:1"


def test_an_arrow_answer_when_accept_asks_for_it(gateway: Gateway) -> None:
    table = pa.table({"tenure": [12.0, 40.0], "spend": [40.0, 20000.0]})
    response = post(gateway, stream(table), Accept=ARROW)
    assert response.status_code == 200 and response.headers["content-type"] == ARROW
    answer = pa.ipc.open_stream(response.content).read_all()
    assert answer.column("prediction").to_pylist() == ["1", "manual_review"]  # mixed answers: as text
    request_id = response.headers["x-mltrail-request-id"]
    assert answer.column("id").to_pylist() == [f"{request_id}-0", f"{request_id}-1"]
    assert answer.column("guards").to_pylist() == [None, "output:override:spend > 10000"]
    assert answer.schema.metadata[b"variant"] == b"primary"
    assert answer.schema.metadata[b"model"] == b"churn:1"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not arrow at all", "body"),
        (stream(pa.table({"tenure": [1.0]})), "columns.spend"),
        (stream(pa.table({"tenure": [1.0, 2.0], "spend": ["many", "few"]})), "columns.spend[0]"),
        (
            stream(pa.table({"tenure": pa.array([], pa.float64()), "spend": pa.array([], pa.float64())})),
            "columns",
        ),
    ],
)
def test_a_bad_arrow_body_is_a_400_naming_the_field(gateway: Gateway, body: bytes, field: str) -> None:
    response = post(gateway, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == field
