"""Artifacts, registered models and monitoring's raw batches on S3 (moto's server on 127.0.0.1): embedded, and
through a team server whose downloads hand out presigned URLs that the client verifies."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

import mltrail
from mltrail.errors import IntegrityError
from mltrail.settings import Settings

linear = pytest.importorskip("sklearn.linear_model")


def _bucket(url: str) -> str:
    return url.removeprefix("s3://").split("/", 1)[0]


def _key(digest: str) -> str:
    return f"blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}"


def _features(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"tenure": rng.normal(24, 12, n), "spend": rng.gamma(2.0, 50.0, n)})


def _model() -> tuple[Any, pd.DataFrame]:
    x = _features(400, 1)
    return linear.LogisticRegression().fit(x, (x["tenure"] < 20).astype(int)), x


def _tamper(s3: Any, bucket: str, digest: str) -> None:
    s3.client().put_object(Bucket=bucket, Key=_key(digest), Body=b"not the model")


@pytest.fixture
def s3_settings(s3_blobs: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The embedded store: SQLite on this machine, blobs in the test bucket, as the environment says (so
    that ``mltrail.run`` finds it too)."""
    monkeypatch.setenv("MLTRAIL_DIR", str(tmp_path / "mltrail"))
    monkeypatch.setenv("MLTRAIL_BLOBS", s3_blobs)
    return dataclasses.replace(Settings.from_env(), flush_interval=0.05)


def test_embedded_artifacts_models_and_raw_batches_live_in_the_bucket(
    s3_settings: Settings, s3_server: Any, tmp_path: Path
) -> None:
    clf, x = _model()
    notes = tmp_path / "notes.txt"
    notes.write_text("trained on S3", encoding="utf-8")
    name = f"churn-{uuid.uuid4().hex[:6]}"
    with mltrail.init(project="s3", capture=False, settings=s3_settings) as run:
        run.log_artifact(notes)
        run.log_dataset(x, name="train", role="train")
        version = mltrail.models.register(name, model=clf, input_example=x.head(5), settings=s3_settings)
    assert not (s3_settings.home / "blobs").exists()  # nothing on local disk
    keys = {
        o["Key"] for o in s3_server.client().list_objects_v2(Bucket=_bucket(s3_settings.blobs))["Contents"]
    }
    assert {_key(f.digest) for f in version.files} <= keys
    assert not any("incoming" in k for k in keys)

    out = mltrail.run(run.id).download("notes.txt", tmp_path / "out")
    assert out.name == "notes.txt" and out.read_text() == "trained on S3"
    loaded = mltrail.models.load(f"{name}:1", settings=s3_settings)
    assert np.array_equal(loaded.predict(x.head(20)), clf.predict(x.head(20)))

    with mltrail.monitor(f"{name}:1", settings=s3_settings) as mon:
        mon.log(_features(300, 2), clf.predict(_features(300, 2)))
    from mltrail.services.container import Services

    services = Services(s3_settings)
    try:
        rows = services.monitoring.raw_rows(mon.name, limit=1000)
    finally:
        services.close()
    assert len(rows) == 300  # the raw batch was written to, and read back from, the bucket

    weights = max(version.files, key=lambda f: f.size)
    _tamper(s3_server, _bucket(s3_settings.blobs), weights.digest)
    with pytest.raises(IntegrityError):
        mltrail.models.load(f"{name}:1", settings=s3_settings)


@pytest.fixture(scope="module")
def s3_team(s3_server: Any, tmp_path_factory: pytest.TempPathFactory, live_server: Any) -> Iterator[Any]:
    """A team server (SQLite, no accounts) whose blobs are in a bucket of the test S3."""
    import s3fs

    bucket = s3_server.new_bucket()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in s3_server.env().items():
            patch.setenv(name, value)
        s3fs.S3FileSystem.clear_instance_cache()
        server = live_server.start_server(
            tmp_path_factory.mktemp("s3-team") / "mltrail", "--blobs", f"s3://{bucket}/blobs"
        )
    try:
        yield dataclasses.replace(server, home=server.home), bucket
    finally:
        server.stop()


def _signed_gets(s3: Any, bucket: str, digest: str) -> int:
    return sum(
        1
        for r in s3.requests
        if r.method == "GET" and r.path == f"/{bucket}/{_key(digest)}" and "X-Amz-Signature=" in r.query
    )


def test_through_a_server_downloads_come_from_s3_by_presigned_url(
    s3_team: Any, s3_server: Any, tmp_path: Path
) -> None:
    server, bucket = s3_team
    clf, x = _model()
    name = f"churn-{uuid.uuid4().hex[:6]}"
    with mltrail.init(project="s3", capture=False, server=server.url) as run:
        (tmp_path / "notes.txt").write_text("through the server", encoding="utf-8")
        run.log_artifact(tmp_path / "notes.txt")
        version = mltrail.models.register(name, model=clf, input_example=x.head(5), server=server.url)
    (notes,) = [a for a in mltrail.run(run.id, server=server.url).artifacts() if a.path == "notes.txt"]

    s3_server.reset_log()
    got = mltrail.run(run.id, server=server.url).download("notes.txt", tmp_path / "out")
    assert got.read_text() == "through the server"
    assert mltrail.run(run.id, server=server.url).artifact("notes.txt") == b"through the server"
    assert _signed_gets(s3_server, bucket, notes.digest) == 2  # the client read S3, twice, by signed URL

    s3_server.reset_log()
    loaded = mltrail.models.load(f"{name}:1", server=server.url)
    assert np.array_equal(loaded.predict(x.head(20)), clf.predict(x.head(20)))
    for entry in version.files:
        assert _signed_gets(s3_server, bucket, entry.digest) == 1
    audit = httpx.get(f"{server.url}/api/v1/models/{name}/audit").json()
    downloaded = sorted(e["details"]["path"] for e in audit if e["action"] == "downloaded")
    assert downloaded == sorted(f.path for f in version.files)  # each URL handed out was recorded

    # Raw bytes through the route still work (and say nothing of S3) without ?presign.
    plain = httpx.get(f"{server.url}/api/v1/runs/{run.id}/artifacts/notes.txt")
    assert plain.content == b"through the server"
    signed = httpx.get(f"{server.url}/api/v1/runs/{run.id}/artifacts/notes.txt", params={"presign": "true"})
    assert signed.json()["sha256"] == notes.digest and signed.json()["size"] == notes.size
    assert signed.json()["expires_in"] == 900 and signed.headers["cache-control"] == "no-store"

    weights = max(version.files, key=lambda f: f.size)
    _tamper(s3_server, bucket, weights.digest)
    with pytest.raises(IntegrityError):
        mltrail.models.load(f"{name}:1", server=server.url, dest=tmp_path / "model")
    assert not (tmp_path / "model").exists() or not any((tmp_path / "model").iterdir())
    _tamper(s3_server, bucket, notes.digest)
    with pytest.raises(IntegrityError):
        mltrail.run(run.id, server=server.url).download("notes.txt", tmp_path / "again")
    assert not (tmp_path / "again" / "notes.txt").exists()


def test_raw_batches_of_a_server_monitor_are_in_the_bucket(s3_team: Any, s3_server: Any) -> None:
    server, bucket = s3_team
    clf, x = _model()
    name = f"churn-{uuid.uuid4().hex[:6]}"
    with mltrail.init(project="s3", capture=False, server=server.url) as run:
        run.log_dataset(x, name="train", role="train")
        mltrail.models.register(name, model=clf, input_example=x.head(5), server=server.url)
    before = {o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]}
    with mltrail.monitor(f"{name}:1", server=server.url) as mon:
        mon.log(_features(250, 3), clf.predict(_features(250, 3)))
    after = {o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]}
    assert len(after - before) >= 1  # the day's Parquet batch
    raw = httpx.get(f"{server.url}/api/v1/monitors/{mon.name}/raw", params={"limit": 1000}).json()
    assert len(raw["rows"]) == 250 and not raw["truncated"]


def test_large_artifacts_are_written_to_s3_by_the_client(
    s3_team: Any, s3_server: Any, tmp_path: Path
) -> None:
    server, bucket = s3_team
    data = np.random.default_rng(7).bytes(9 << 20)  # above PRESIGNED_UPLOAD_ABOVE
    weights = tmp_path / "weights.bin"
    weights.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    s3_server.reset_log()
    with mltrail.init(project="s3", capture=False, server=server.url) as run:
        run.log_artifact(weights)
    puts = [r for r in s3_server.requests if r.method == "PUT" and r.path == f"/{bucket}/{_key(digest)}"]
    assert len(puts) == 1 and "X-Amz-Signature=" in puts[0].query  # by presigned URL, from this process
    assert puts[0].checksum_sha256 == base64.b64encode(bytes.fromhex(digest)).decode()
    (artifact,) = mltrail.run(run.id, server=server.url).artifacts()
    assert (artifact.path, artifact.digest, artifact.size) == ("weights.bin", digest, len(data))
    assert (
        mltrail.run(run.id, server=server.url).download("weights.bin", tmp_path / "out").read_bytes() == data
    )

    s3_server.reset_log()
    with mltrail.init(project="s3", capture=False, server=server.url) as again:
        again.log_artifact(weights)
    assert not [r for r in s3_server.requests if r.method == "PUT"]  # stored already: nothing sent
    assert mltrail.run(again.id, server=server.url).artifacts()[0].digest == digest


def test_an_upload_that_does_not_match_its_sha256_is_removed_and_not_recorded(
    s3_team: Any, s3_server: Any
) -> None:
    server, bucket = s3_team
    claimed = np.random.default_rng(8).bytes(1000)
    digest = hashlib.sha256(claimed).hexdigest()
    with mltrail.init(project="s3", capture=False, server=server.url) as run:
        pass
    url = f"{server.url}/api/v1/runs/{run.id}/artifact-uploads"
    body = {"path": "model.bin", "sha256": digest, "size": len(claimed)}
    first = httpx.post(url, json=body).json()
    assert first["artifact"] is None and first["upload"]["method"] == "PUT"
    upload = first["upload"]
    # moto does not check the signed x-amz-checksum-sha256 (S3 would refuse this body): the server must.
    sent = httpx.put(upload["url"], content=b"x" * len(claimed), headers=upload["headers"])
    assert sent.status_code == 200
    second = httpx.post(url, json=body).json()
    assert second["artifact"] is None and second["upload"] is not None  # refused: write it again
    assert "Contents" not in s3_server.client().list_objects_v2(Bucket=bucket, Prefix=_key(digest))
    assert mltrail.run(run.id, server=server.url).artifacts() == []

    httpx.put(second["upload"]["url"], content=claimed, headers=second["upload"]["headers"])
    third = httpx.post(url, json=body).json()
    assert third["artifact"]["digest"] == digest and third["upload"] is None
