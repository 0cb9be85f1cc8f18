"""``?presign=true`` on the download routes with blobs on S3 (moto): the server keeps authorization and the
download audit, then hands out a URL the object store answers without credentials."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from live_server import TestClient

import mltrail
from mltrail.api.app import create_app
from mltrail.services.accounts.service import AccountService
from mltrail.settings import Settings
from mltrail.store.factory import open_store

linear = pytest.importorskip("sklearn.linear_model")


def test_presigned_urls_only_for_who_may_read_and_always_audited(
    s3_blobs: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_DIR", str(tmp_path / "m"))
    monkeypatch.setenv("MLTRAIL_BLOBS", s3_blobs)
    settings = dataclasses.replace(Settings.from_env(), flush_interval=0.05)
    name = f"churn-{uuid.uuid4().hex[:6]}"
    x = np.random.default_rng(0).normal(size=(50, 3))
    with mltrail.init(project="alpha", capture=False, settings=settings) as run:
        (tmp_path / "notes.txt").write_text("secret notes")
        run.log_artifact(tmp_path / "notes.txt")
        model = linear.LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
        version = mltrail.models.register(name, model=model, settings=settings)
    weights = next(f for f in version.files if f.path != "mltrail-model.json")
    store = open_store(settings.db_url)
    accounts = AccountService(store)
    keys = {who: accounts.create_user(who, "member")[1].secret for who in ("vic", "eve")}
    accounts.set_member("alpha", "vic", "viewer")
    accounts.set_member("alpha", "eve", "none")
    try:
        with TestClient(create_app(settings, store=store, auth=True, webhooks=False)) as client:

            def get(who: str, url: str, **kw: Any) -> httpx.Response:
                headers = {"Authorization": f"Bearer {keys[who]}", **kw.pop("headers", {})}
                response: httpx.Response = client.get(f"/api/v1{url}", headers=headers, **kw)
                return response

            presign = {"presign": "true"}
            model_file = f"/models/{name}/versions/1/files/{weights.path}"
            assert get("eve", f"/runs/{run.id}/artifacts/notes.txt", params=presign).status_code == 404
            assert get("eve", model_file, params=presign).status_code == 404

            notes = get("vic", f"/runs/{run.id}/artifacts/notes.txt", params=presign)
            assert notes.status_code == 200 and notes.headers["content-type"] == "application/json"
            assert httpx.get(notes.json()["url"]).content == b"secret notes"
            notes_url = f"/runs/{run.id}/artifacts/notes.txt"
            ranged = get("vic", notes_url, params=presign, headers={"Range": "bytes=0-5"})
            assert ranged.status_code == 206 and ranged.content == b"secret"  # a range is served as bytes

            signed = get("vic", model_file, params=presign).json()
            assert (signed["sha256"], signed["size"]) == (weights.digest, weights.size)
            assert len(httpx.get(signed["url"]).content) == weights.size
            upload = {"path": "big.bin", "sha256": "0" * 64, "size": 10}
            headers = {"Authorization": f"Bearer {keys['vic']}"}
            refused = client.post(f"/api/v1/runs/{run.id}/artifact-uploads", json=upload, headers=headers)
            assert refused.status_code == 403  # a viewer may read, not write

            etag = {"If-None-Match": f'"{weights.digest}"'}
            assert get("vic", model_file, params=presign, headers=etag).status_code == 304  # not a download
            audit = get("vic", f"/models/{name}/audit", params={"action": "downloaded"}).json()
            assert [(e["user"], e["details"]["path"]) for e in audit] == [("vic", weights.path)]
    finally:
        store.close()


def test_a_store_that_signs_no_urls_takes_the_bytes_itself(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "m")
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        pass
    with TestClient(create_app(settings, webhooks=False, max_upload_bytes=100)) as client:
        url = f"/api/v1/runs/{run.id}/artifact-uploads"
        body = {"path": "big.bin", "sha256": "a" * 64, "size": 50}
        assert client.post(url, json=body).json() == {"artifact": None, "upload": None}
        too_big = client.post(url, json={**body, "size": 101})
        assert too_big.status_code == 413 and too_big.json()["error"]["field"] == "size"
        assert client.post(url, json={**body, "sha256": "nope"}).status_code in (400, 422)
        assert client.post(url, json={**body, "path": "../x"}).status_code == 400
