"""Upload limits of tables, media and metric batches (``api/bodies.py``): over the limit is a 413 naming
``body`` whose message names the limit and says what to do; tables and media are stored as sent (never
gunzipped), a metric batch is bounded again after gunzipping."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import numpy as np
import orjson
import pytest
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.api.tracking import metrics
from mltrail.services.tracking.media_check import encode_bundle
from mltrail.services.tracking.media_images import encode_png
from mltrail.services.tracking.table_data import predictions_table, to_parquet
from mltrail.settings import Settings

API = "/api/v1"
LIMIT = 1_000  # bytes: the server's --max-upload-mb, small so that the tests are fast


def _client(settings: Settings, max_upload_bytes: int | None) -> Iterator[tuple[TestClient, str]]:
    with TestClient(create_app(settings, max_upload_bytes=max_upload_bytes, webhooks=False)) as client:
        run = client.post(f"{API}/runs", json={"project": "p", "name": "r"})
        assert run.status_code == 201, run.text
        yield client, f"{API}/runs/{run.json()['id']}"


@pytest.fixture
def small(settings: Settings) -> Iterator[tuple[TestClient, str]]:
    """The app with a 1,000-byte upload limit, and a run's URL."""
    yield from _client(settings, LIMIT)


@pytest.fixture
def unlimited(settings: Settings) -> Iterator[tuple[TestClient, str]]:
    """The app without an upload limit (the default), and a run's URL."""
    yield from _client(settings, None)


def _table() -> bytes:
    ids = np.arange(4)
    return to_parquet(predictions_table(ids, ids % 2, ids % 2))


def _image() -> bytes:
    return encode_bundle("image", {"image": encode_png(np.zeros((4, 4), np.uint8))}, {})


def _chunks(data: bytes, size: int = 100) -> Iterator[bytes]:
    """The body in chunks, with no Content-Length: only the route's own count can stop it."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _assert_too_large(response: object, what: str, limit: str) -> None:
    assert getattr(response, "status_code", None) == 413, getattr(response, "text", response)
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["type"] == "InvalidInputError" and error["field"] == "body"
    assert f"{what} is limited to {limit} bytes" in error["message"], error["message"]
    assert "--max-upload-mb" in error["message"], error["message"]


@pytest.mark.parametrize("streamed", [False, True], ids=["sized", "chunked"])
def test_a_table_over_the_upload_limit_is_a_413_naming_the_limit(
    small: tuple[TestClient, str], streamed: bool
) -> None:
    client, run = small
    over = b"x" * (LIMIT + 1)
    response = client.put(f"{run}/tables/val", content=_chunks(over) if streamed else over)
    _assert_too_large(response, "a table", "1,000")
    at_limit = client.put(f"{run}/tables/val", content=b"x" * LIMIT)  # read whole, then not Parquet
    assert at_limit.status_code == 400 and at_limit.json()["error"]["field"] == "data", at_limit.text
    assert client.get(f"{run}/tables").json() == []


def test_a_table_under_the_limit_is_stored_and_no_limit_means_none(
    settings: Settings, unlimited: tuple[TestClient, str]
) -> None:
    client, run = unlimited
    table = _table()
    assert len(table) > LIMIT  # so the limit of the other app would refuse it
    stored = client.put(f"{run}/tables/val", content=_chunks(table, 4096))
    assert stored.status_code == 201, stored.text
    assert stored.json()["rows"] == 4
    for client, run in _client(settings, len(table)):  # a limit the table just meets
        assert client.put(f"{run}/tables/val", content=table).status_code == 201


def test_a_tables_default_limit_is_256_mib(unlimited: tuple[TestClient, str]) -> None:
    """Without --max-upload-mb a table is bounded by the route's own 256 MiB, refused at once when
    announced (only the head is looked at: no 256 MiB is sent)."""
    client, run = unlimited
    response = client.put(
        f"{run}/tables/val", content=iter([b"x"]), headers={"Content-Length": str((256 << 20) + 1)}
    )
    assert response.status_code == 413 and response.json()["error"]["field"] == "body", response.text
    assert "268,435,456 bytes" in response.json()["error"]["message"]


def test_a_gzip_table_is_stored_as_sent_not_inflated(unlimited: tuple[TestClient, str]) -> None:
    """Tables are not gunzipped (as before read_body served them): the gzip bytes are not a Parquet file."""
    client, run = unlimited
    sent = client.put(
        f"{run}/tables/val", content=gzip.compress(_table()), headers={"Content-Encoding": "gzip"}
    )
    assert sent.status_code == 400 and sent.json()["error"]["field"] == "data", sent.text


@pytest.mark.parametrize("streamed", [False, True], ids=["sized", "chunked"])
def test_a_media_item_over_the_upload_limit_is_a_413_naming_the_limit(
    small: tuple[TestClient, str], streamed: bool
) -> None:
    client, run = small
    over = orjson.dumps({"kind": "image", "files": {"image": "A" * LIMIT}})
    response = client.put(f"{run}/media/img", content=_chunks(over) if streamed else over)
    _assert_too_large(response, "a media item", "1,000")
    assert client.get(f"{run}/media").json() == []
    image = _image()
    assert len(image) <= LIMIT
    assert client.put(f"{run}/media/img", content=image).status_code == 201


def test_a_gzip_bomb_metric_batch_stops_at_the_limit_after_gunzipping(
    unlimited: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, run = unlimited
    monkeypatch.setattr(metrics, "MAX_BATCH_BYTES", 1 << 20)
    bomb = gzip.compress(b" " * (8 << 20))
    assert len(bomb) < 1 << 20
    response = client.post(
        f"{run}/metrics",
        content=bomb,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["error"]["field"] == "body", response.text
    message = response.json()["error"]["message"]
    assert message.startswith("a metric batch is limited to 1,048,576 bytes after gunzipping: "), message
