"""``/api/v1/runs/{run}/media`` in-process, with roles (``auth=True``): members write, viewers read, a hidden
run is a 404; files go out with their sha256, a CSP that lets nothing run, and never when the blob changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest
from live_server import TestClient

from mltrail.api.app import create_app
from mltrail.services.accounts.service import AccountService
from mltrail.services.tracking.media_check import encode_bundle
from mltrail.services.tracking.media_images import encode_png
from mltrail.settings import Settings
from mltrail.store.factory import open_store

API = "/api/v1"
RUN, HIDDEN = "a" * 32, "c" * 32
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><script>alert(1)</script></svg>'


@pytest.fixture
def team(settings: Settings) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    store = open_store(f"sqlite:///{settings.home / 'mltrail.db'}")
    accounts = AccountService(store)
    keys = {
        name: accounts.create_user(name, role)[1].secret
        for name, role in (("ana", "admin"), ("vic", "viewer"))
    }
    for run_id, project in ((RUN, "alpha"), (HIDDEN, "beta")):
        store.create_run(run_id=run_id, project=project, name=f"r-{run_id[0]}", user="ana", start_time=1.0)
    accounts.set_member("beta", "vic", "none")
    headers = {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}
    with TestClient(create_app(settings, store=store, auth=True, max_upload_bytes=1 << 20)) as client:
        yield client, headers
    store.close()


def _image(value: int = 0) -> bytes:
    boxes = [{"x": 1, "y": 1, "w": 2, "h": 2, "label": "cat"}]
    return encode_bundle("image", {"image": encode_png(np.full((4, 5), value, np.uint8))}, {"boxes": boxes})


def test_members_write_viewers_read_files_verified_and_sandboxed(
    team: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, h = team
    url = f"{API}/runs/{RUN}/media"
    assert client.put(f"{url}/img", content=_image(1), headers=h["ana"]).status_code == 201
    put = client.put(f"{url}/img", params={"step": 7}, content=_image(2), headers=h["ana"])
    assert put.status_code == 201, put.text
    assert put.json()["meta"]["width"] == 5 and put.json()["meta"]["boxes"][0]["label"] == "cat"
    figure = encode_bundle("figure", {"svg": SVG}, {"library": "matplotlib"})
    assert client.put(f"{url}/fig", content=figure, headers=h["ana"]).status_code == 201
    assert client.put(f"{url}/img", content=_image(), headers=h["vic"]).status_code == 403
    assert client.put(f"{API}/runs/{HIDDEN}/media/x", content=_image(), headers=h["ana"]).status_code == 201

    listed = client.get(url, headers=h["vic"]).json()
    assert listed == [
        {"name": "fig", "kind": "figure", "steps": [0]},
        {"name": "img", "kind": "image", "steps": [0, 7]},
    ]
    page = client.get(f"{url}/img/steps", params={"offset": 1, "limit": 5}, headers=h["vic"]).json()
    assert page["total"] == 2 and [i["step"] for i in page["items"]] == [7]
    item = client.get(f"{url}/img", headers=h["vic"]).json()
    assert item["step"] == 7
    got = client.get(f"{url}/img/files/image", params={"step": 0}, headers=h["vic"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    first = client.get(f"{url}/img", params={"step": 0}, headers=h["vic"]).json()
    assert got.headers["x-content-sha256"] == first["files"][0]["digest"]
    etag = got.headers["etag"]
    again = client.get(
        f"{url}/img/files/image", params={"step": 0}, headers=h["vic"] | {"If-None-Match": etag}
    )
    assert (
        again.status_code == 304
        and again.content == b""
        and again.headers["cache-control"] == "private, no-cache"
    )
    replaced = client.put(f"{url}/img", params={"step": 0}, content=_image(9), headers=h["ana"])
    assert replaced.status_code == 201  # the same step again: the old ETag no longer matches
    fresh = client.get(
        f"{url}/img/files/image", params={"step": 0}, headers=h["vic"] | {"If-None-Match": etag}
    )
    assert fresh.status_code == 200 and fresh.headers["etag"] != etag
    svg = client.get(f"{url}/fig/files/svg", headers=h["vic"])
    assert svg.headers["content-type"] == "image/svg+xml"
    assert "default-src 'none'" in svg.headers["content-security-policy"]
    assert "sandbox" in svg.headers["content-security-policy"]
    assert svg.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"{url}/fig/files/image", headers=h["vic"]).status_code == 404
    assert client.get(f"{API}/runs/{HIDDEN}/media", headers=h["vic"]).status_code == 404
    assert client.get(f"{API}/runs/{HIDDEN}/media/x/files/image", headers=h["vic"]).status_code == 404


def test_not_images_and_bad_bodies_are_refused_naming_the_field(
    team: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, h = team
    url = f"{API}/runs/{RUN}/media/x"

    def body(kind: str, files: dict[str, bytes], meta: dict[str, object] | None = None) -> bytes:
        return encode_bundle(kind, files, meta or {})

    png = encode_png(np.zeros((4, 4), np.uint8))
    cases = {
        "image": body("image", {"image": b"<html>not an image</html>"}),
        "masks": body("image", {"image": png, "mask": encode_png(np.zeros((2, 2), np.uint8))}),
        "boxes": body("image", {"image": png}, {"boxes": [{"x": "left"}]}),
        "kind": body("video", {}),
        "files": body("histogram", {"image": png}, {"counts": [1], "edges": [0, 1]}),
        "edges": body("histogram", {}, {"counts": [1], "edges": [1, 0]}),
        "figure": body("figure", {"svg": b"<html/>"}),
        "body": b"not json",
    }
    for field, content in cases.items():
        found = client.put(url, content=content, headers=h["ana"])
        assert found.status_code == 400, (field, found.text)
        assert found.json()["error"]["field"] == field, (field, found.json())
    bad64 = orjson.dumps({"kind": "image", "files": {"image": "@@@"}})
    assert client.put(url, content=bad64, headers=h["ana"]).json()["error"]["field"] == "files.image"
    too_big = body("image", {"image": png + b"x" * (2 << 20)})
    assert client.put(url, content=too_big, headers=h["ana"]).status_code == 413
    assert client.get(f"{API}/runs/{RUN}/media", headers=h["ana"]).json() == []


def test_a_changed_blob_is_never_served(
    team: tuple[TestClient, dict[str, dict[str, str]]], settings: Settings
) -> None:
    client, h = team
    put = client.put(f"{API}/runs/{RUN}/media/img", content=_image(3), headers=h["ana"]).json()
    digest = put["files"][0]["digest"]
    blob = Path(settings.home) / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    blob.write_bytes(b"tampered")
    found = client.get(f"{API}/runs/{RUN}/media/img/files/image", headers=h["vic"])
    assert found.status_code >= 400 and found.json()["error"]["type"] == "IntegrityError"


def test_media_and_table_uploads_have_an_upload_bound_not_a_json_one() -> None:
    from mltrail.api.limits import JSON_BODY_LIMIT, body_limit

    assert body_limit("PUT", f"{API}/runs/{RUN}/media/img", None) == 64 << 20
    assert body_limit("PUT", f"{API}/runs/{RUN}/tables/val", None) == 256 << 20
    assert body_limit("PUT", f"{API}/runs/{RUN}/media/img", 512 << 20) == 512 << 20
    assert body_limit("GET", f"{API}/runs/{RUN}/media/img", None) == JSON_BODY_LIMIT
