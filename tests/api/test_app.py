"""The API in-process (FastAPI's TestClient): status codes, error bodies, bad input, artifacts, metrics."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from live_server import TestClient

from mltrail import errors
from mltrail.api.app import create_app
from mltrail.sdk.tracking.http import _error_from
from mltrail.settings import Settings

API = "/api/v1"


def _run(client: TestClient, project: str = "p", **extra: Any) -> str:
    response = client.post(f"{API}/runs", json={"project": project, "name": "r", **extra})
    assert response.status_code == 201, response.text
    run_id: str = response.json()["id"]
    return run_id


def _batch(keys: list[str], steps: list[int], values: list[Any], seq: int = 1) -> bytes:
    body = {"keys": keys, "steps": steps, "values": values, "wall_times": [1.0] * len(keys)}
    return orjson.dumps({**body, "client_id": "c1", "seq": seq})


def _error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_class_maps_to_its_status_and_back(settings: Settings, name: str) -> None:
    cls = getattr(errors, name)
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        if cls is errors.InvalidFilterError:
            raise cls("bad token", "a >", 2)
        if issubclass(cls, errors.InvalidInputError):
            raise cls("bad value", field="lr")
        raise cls("it broke")

    with TestClient(app) as client:
        response = client.get("/boom")
    assert response.status_code == cls.http_status
    body = _error(response)
    assert body["type"] == name
    remote = _error_from(response)
    assert type(remote) is cls
    if isinstance(remote, errors.InvalidInputError):
        assert remote.field == body["field"]
    if isinstance(remote, errors.InvalidFilterError):
        assert remote.position == 2 and "a >" in str(remote)


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    assert f"{API}/runs/{{run_id}}/metrics" in spec["paths"]
    assert client.get("/api/docs").status_code == 200


def test_run_lifecycle(client: TestClient) -> None:
    run_id = _run(client, config={"lr": 0.1, "model": {"depth": 3}}, tags={"t": "x"})
    assert client.patch(f"{API}/runs/{run_id}/summary", json={"values": {"best": 0.9}}).status_code == 204
    assert client.patch(f"{API}/runs/{run_id}/tags", json={"tags": {"team": "a"}}).status_code == 204
    assert client.delete(f"{API}/runs/{run_id}/tags", params={"key": "t"}).status_code == 204
    assert client.patch(f"{API}/runs/{run_id}", json={"notes": "hello"}).status_code == 204
    assert client.post(f"{API}/runs/{run_id}/heartbeat").status_code == 204
    assert client.post(f"{API}/runs/{run_id}/finish", json={"status": "finished"}).status_code == 204
    run = client.get(f"{API}/runs/{run_id}").json()
    assert run["params"] == {"lr": 0.1, "model.depth": 3}
    assert run["tags"] == {"team": "a"} and run["summary"] == {"best": 0.9} and run["notes"] == "hello"
    assert run["status"] == "finished"
    assert _error(client.post(f"{API}/runs/{run_id}/heartbeat"))["type"] == "RunFinishedError"
    assert client.get(f"{API}/projects").json()[0]["name"] == "p"
    assert client.delete(f"{API}/runs/{run_id}").status_code == 204
    assert client.get(f"{API}/runs/{run_id}").status_code == 404


def test_bad_filter_is_400_naming_the_position(client: TestClient) -> None:
    _run(client)
    response = client.get(f"{API}/runs", params={"project": "p", "filter": "metrics.acc >> 1"})
    assert response.status_code == 400
    body = _error(response)
    assert body["type"] == "InvalidFilterError" and body["field"] == "filter"
    assert body["position"] == 13  # the second ">"
    bad_sort = client.get(f"{API}/runs", params={"project": "p", "sort": ["-metrics."]})
    assert bad_sort.status_code == 400 and _error(bad_sort)["field"] == "sort"


def test_malformed_json_and_wrong_types_name_the_field(client: TestClient) -> None:
    bad = client.post(f"{API}/runs", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and _error(bad)["field"] == "body"
    wrong = client.post(f"{API}/runs", json={"project": "p", "name": "r", "tags": {"a": [1]}})
    assert wrong.status_code == 400 and _error(wrong)["field"] == "tags.a"
    run_id = _run(client)
    batch = _batch(["x"], [0], ["high"])
    response = client.post(f"{API}/runs/{run_id}/metrics", content=batch)
    assert response.status_code == 400 and _error(response)["field"] == "values.0"
    limit = client.get(f"{API}/runs", params={"project": "p", "limit": "many"})
    assert limit.status_code == 400 and _error(limit)["field"] == "limit"
    uneven = client.post(f"{API}/runs/{run_id}/metrics", content=_batch(["x", "y"], [0], [1.0, 2.0]))
    assert uneven.status_code == 400 and _error(uneven)["field"] == "metrics"
    assert client.get(f"{API}/runs/{run_id}").json()["metrics"] == {}


def test_sql_metacharacters_are_data(client: TestClient) -> None:
    key = "x'; DROP TABLE runs; --"
    run_id = _run(client, config={key: "1' OR '1'='1"})
    other = _run(client, config={"lr": 1})
    for text in [f"params.`{key}` = \"1' OR '1'='1\"", f'params.`{key}` = "nope\' OR 1=1 --"']:
        response = client.get(f"{API}/runs", params={"project": "p", "filter": text})
        assert response.status_code == 200, response.text
        ids = [r["id"] for r in response.json()["runs"]]
        assert ids == ([run_id] if "nope" not in text else [])
    assert {r["id"] for r in client.get(f"{API}/runs", params={"project": "p"}).json()["runs"]} == {
        run_id,
        other,
    }


def test_nan_and_inf_round_trip_and_gzip(client: TestClient) -> None:
    run_id = _run(client)
    body = gzip.compress(_batch(["v"] * 4, [0, 1, 2, 3], ["NaN", "Infinity", "-Infinity", 1.5]))
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    assert client.post(f"{API}/runs/{run_id}/metrics", content=body, headers=headers).json()["applied"]
    history = client.get(f"{API}/runs/{run_id}/metrics/history", params={"key": "v"}).json()
    assert history["values"] == ["NaN", "Infinity", "-Infinity", 1.5]
    metric = client.get(f"{API}/runs/{run_id}").json()["metrics"]["v"]
    assert metric["min"] == "-Infinity" and metric["max"] == "Infinity" and metric["last"] == 1.5
    not_gzip = client.post(f"{API}/runs/{run_id}/metrics", content=b"xx", headers=headers)
    assert not_gzip.status_code == 400


def test_a_batch_sent_twice_is_applied_once(client: TestClient) -> None:
    run_id = _run(client)
    batch = _batch(["a", "a"], [0, 1], [1.0, 2.0], seq=7)
    first = client.post(f"{API}/runs/{run_id}/metrics", content=batch).json()
    second = client.post(f"{API}/runs/{run_id}/metrics", content=batch).json()
    assert first == {"applied": True, "points": 2} and second["applied"] is False
    assert client.get(f"{API}/runs/{run_id}").json()["metrics"]["a"]["count"] == 2


def test_history_downsampling_and_step_range(client: TestClient) -> None:
    run_id = _run(client)
    n = 10_000
    client.post(
        f"{API}/runs/{run_id}/metrics",
        content=_batch(["m"] * n, list(range(n)), [float(i) for i in range(n)]),
    )
    url = f"{API}/runs/{run_id}/metrics/history"
    small = client.get(url, params={"key": "m", "max_points": 100}).json()
    assert small["downsampled"] and len(small["steps"]) <= 100 and small["total_points"] == n
    window = client.get(url, params={"key": "m", "min_step": 10, "max_step": 19}).json()
    assert window["steps"] == list(range(10, 20))
    assert client.get(url, params={"key": "m", "max_points": 1}).status_code == 400
    assert client.get(url, params={"key": "nope"}).status_code == 404


def test_artifact_upload_download_and_ranges(client: TestClient) -> None:
    run_id = _run(client)
    data = bytes(range(256)) * 1000
    digest = hashlib.sha256(data).hexdigest()
    url = f"{API}/runs/{run_id}/artifacts/model/w.bin"
    put = client.put(url, content=data, headers={"X-Content-SHA256": digest})
    assert put.status_code == 201 and put.json()["digest"] == digest and put.json()["size"] == len(data)
    whole = client.get(url)
    assert whole.content == data and whole.headers["x-content-sha256"] == digest
    assert whole.headers["etag"] == f'"{digest}"'
    part = client.get(url, headers={"Range": "bytes=1000-1099"})
    assert part.status_code == 206 and part.content == data[1000:1100]
    assert part.headers["content-range"] == f"bytes 1000-1099/{len(data)}"
    assert client.get(url, headers={"Range": "bytes=-10"}).content == data[-10:]
    assert client.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    assert client.get(url, headers={"If-None-Match": f'"{digest}"'}).status_code == 304
    listed = client.get(f"{API}/runs/{run_id}/artifacts", params={"prefix": "model"}).json()
    assert [a["path"] for a in listed] == ["model/w.bin"]
    assert listed[0]["content_type"] == "application/octet-stream"


def test_artifact_listing_names_a_content_type_for_previews(client: TestClient) -> None:
    run_id = _run(client)
    names = {
        "eval/confusion.csv": "text/csv",
        "model/mltrail-model.json": "application/json",
        "plots/Curve.PNG": "image/png",
        "notes.txt": "text/plain",
        "code/diff.patch": "text/x-diff",
        "config.yaml": "application/yaml",
        "weights": "application/octet-stream",
        ".hidden": "application/octet-stream",
    }
    for path in names:
        body = b"x"
        digest = hashlib.sha256(body).hexdigest()
        put = client.put(
            f"{API}/runs/{run_id}/artifacts/{path}", content=body, headers={"X-Content-SHA256": digest}
        )
        assert put.status_code == 201 and put.json()["content_type"] == names[path]
    listed = client.get(f"{API}/runs/{run_id}/artifacts").json()
    assert {a["path"]: a["content_type"] for a in listed} == names


@pytest.mark.parametrize("path", ["%2E%2E/escape.txt", "a/%2E%2E/%2E%2E/x", "/etc/passwd"])
def test_artifact_path_traversal_is_400(client: TestClient, path: str) -> None:
    run_id = _run(client)
    response = client.put(f"{API}/runs/{run_id}/artifacts/{path}", content=b"x")
    assert response.status_code == 400 and _error(response)["field"] == "path"
    assert client.get(f"{API}/runs/{run_id}/artifacts").json() == []


def test_oversize_upload_is_413_and_digest_mismatch_400_nothing_stored(
    client: TestClient, settings: Settings
) -> None:
    run_id = _run(client)
    big = b"z" * ((1 << 20) + 1)
    response = client.put(f"{API}/runs/{run_id}/artifacts/big.bin", content=big)
    assert response.status_code == 413 and _error(response)["type"] == "InvalidInputError"

    def chunks() -> Any:  # no Content-Length: the limit is enforced while streaming
        for _ in range(3):
            yield b"z" * (600 * 1024)

    streamed = client.put(f"{API}/runs/{run_id}/artifacts/big.bin", content=chunks())
    assert streamed.status_code == 413
    data = b"payload"
    wrong = hashlib.sha256(b"other").hexdigest()
    mismatch = client.put(
        f"{API}/runs/{run_id}/artifacts/a.txt", content=data, headers={"X-Content-SHA256": wrong}
    )
    assert mismatch.status_code == 400 and _error(mismatch)["field"] == "X-Content-SHA256"
    assert client.get(f"{API}/runs/{run_id}/artifacts").json() == []
    blobs = Path(settings.blobs)
    assert not [p for p in blobs.rglob("*") if p.is_file()]


def test_unknown_route_and_run_are_404_in_the_error_shape(client: TestClient) -> None:
    assert _error(client.get(f"{API}/nothing-here"))["type"] == "NotFoundError"
    missing = client.get(f"{API}/runs/0123456789abcdef")
    assert missing.status_code == 404 and _error(missing)["type"] == "NotFoundError"


def test_a_dataset_profile_that_does_not_parse_is_400_and_records_nothing(client: TestClient) -> None:
    run_id = _run(client)
    body = {"name": "train", "digest": "a" * 64, "kind": "table", "profile": "bm90IGEgcHJvZmlsZQ=="}
    response = client.post(f"{API}/runs/{run_id}/datasets", json=body)
    assert response.status_code == 400 and response.json()["error"]["field"] == "profile"
    assert client.get(f"{API}/runs/{run_id}/datasets").json() == []
