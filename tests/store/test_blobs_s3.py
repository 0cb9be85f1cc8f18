"""``BlobStore`` on S3 (moto's server on 127.0.0.1): one HEAD and one PUT per new blob, never a rewrite,
verified copies, presigned URLs, and failures that name the setting to fix."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from mltrail.errors import IntegrityError, InvalidInputError, NotFoundError, StoreError
from mltrail.settings import Settings
from mltrail.store.blobs import SPOOL_IN_MEMORY, BlobStore


def _store(url: str, **overrides: Any) -> BlobStore:
    settings = dataclasses.replace(Settings.from_env(), blobs=url, **overrides)
    return BlobStore.from_settings(settings)


def _key_of(digest: str) -> str:
    return f"blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}"


def _bucket(url: str) -> str:
    return url.removeprefix("s3://").split("/", 1)[0]


def test_a_new_blob_costs_one_head_and_one_put(s3_blobs: str, s3_server: Any) -> None:
    blobs = _store(s3_blobs)
    data = b"weights" * 1000
    s3_server.reset_log()
    digest, size = blobs.put_stream(io.BytesIO(data))
    assert (digest, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert s3_server.counts(_bucket(s3_blobs)) == {"HEAD": 1, "PUT": 1}
    assert s3_server.requests[-1].checksum_sha256 == base64.b64encode(hashlib.sha256(data).digest()).decode()
    key = f"blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    assert s3_server.client().get_object(Bucket=_bucket(s3_blobs), Key=key)["Body"].read() == data

    s3_server.reset_log()
    assert blobs.put_stream(io.BytesIO(data)) == (digest, size)
    assert s3_server.counts(_bucket(s3_blobs)) == {"HEAD": 1}  # stored already: never written again
    listed = s3_server.client().list_objects_v2(Bucket=_bucket(s3_blobs))["Contents"]
    assert [o["Key"] for o in listed] == [key]  # no incoming/ copies left behind


def test_a_blob_larger_than_memory_spool_goes_in_one_put(
    s3_blobs: str, s3_server: Any, tmp_path: Path
) -> None:
    data = os.urandom(SPOOL_IN_MEMORY + 3 * (1 << 20) + 17)
    blobs = _store(s3_blobs)
    s3_server.reset_log()
    digest, size = blobs.put_stream(io.BytesIO(data))
    assert s3_server.counts(_bucket(s3_blobs)) == {"HEAD": 1, "PUT": 1}
    out = tmp_path / "copy.bin"
    assert blobs.copy_to(digest, out) == size == len(data)
    assert out.read_bytes() == data
    with blobs.open(digest) as stream:
        assert stream.read(10) == data[:10]


def test_a_large_file_is_sent_from_where_it_lies_with_its_sha256(
    s3_blobs: str, s3_server: Any, tmp_path: Path
) -> None:
    data = os.urandom(SPOOL_IN_MEMORY + (1 << 20) + 5)
    source = tmp_path / "weights.bin"
    source.write_bytes(data)
    blobs = _store(s3_blobs)
    s3_server.reset_log()
    digest, size = blobs.put_file(source)
    assert (digest, size) == (hashlib.sha256(data).hexdigest(), len(data))
    head, put = s3_server.requests
    assert (head.method, put.method) == ("HEAD", "PUT")
    # S3 checks the body against this header and refuses another one (moto does not check it).
    assert put.checksum_sha256 == base64.b64encode(hashlib.sha256(data).digest()).decode()
    out = tmp_path / "copy.bin"
    blobs.copy_to(digest, out)
    assert out.read_bytes() == data
    s3_server.reset_log()
    assert blobs.put_file(source) == (digest, size)
    assert [r.method for r in s3_server.requests] == ["HEAD"]


def test_a_tampered_object_is_refused(s3_blobs: str, s3_server: Any, tmp_path: Path) -> None:
    blobs = _store(s3_blobs)
    digest, _ = blobs.put_stream(io.BytesIO(b"the real model"))
    s3_server.client().put_object(
        Bucket=_bucket(s3_blobs), Key=f"blobs/sha256/{digest[:2]}/{digest[2:4]}/{digest}", Body=b"evil"
    )
    with pytest.raises(IntegrityError, match="corrupt"):
        blobs.copy_to(digest, tmp_path / "model.bin")
    assert list(tmp_path.iterdir()) == []  # nothing written, no part file


def test_a_missing_blob_is_not_found(s3_blobs: str, tmp_path: Path) -> None:
    blobs = _store(s3_blobs)
    absent = "0" * 64
    assert not blobs.exists(absent)
    with pytest.raises(NotFoundError):
        blobs.copy_to(absent, tmp_path / "x")
    with pytest.raises(NotFoundError):
        blobs.open(absent)


def test_presigned_urls_read_the_blob_without_credentials(s3_blobs: str, tmp_path: Path) -> None:
    blobs = _store(s3_blobs)
    digest, _ = blobs.put_stream(io.BytesIO(b"signed bytes"))
    signed = blobs.presigned_url(digest)
    assert signed is not None and signed.expires_in == 900
    url = signed.url
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=900" in url
    assert httpx.get(url).content == b"signed bytes"
    assert httpx.get(url.split("?")[0]).status_code == 403  # the object is not public: the URL is the key
    assert _store(s3_blobs, s3_presign=0.0).presigned_url(digest) is None
    assert BlobStore(tmp_path / "local", presign=900).presigned_url(digest) is None  # a folder cannot sign


def test_a_bucket_that_does_not_exist_names_mltrail_blobs(s3_blobs: str) -> None:
    blobs = _store(s3_blobs.replace("mltrail-", "missing-"))
    with pytest.raises(StoreError, match=r"bucket does not exist.*MLTRAIL_BLOBS"):
        blobs.put_stream(io.BytesIO(b"x"))


@pytest.fixture
def auth_s3(s3_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto with authentication in a process of its own (started after ``s3_server`` so that its module
    is loaded); the environment points at it with no credentials at all."""
    import s3fs

    module = __import__("mltrail_tests_s3_server")
    server = module.start_auth_server()
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MLTRAIL_S3_ENDPOINT_URL", server.url)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    s3fs.S3FileSystem.clear_instance_cache()
    yield server
    s3fs.S3FileSystem.clear_instance_cache()
    server.stop()


def test_credentials_right_wrong_or_missing(auth_s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import s3fs

    url = f"s3://{auth_s3.bucket}/blobs"
    missing = r"no S3 credentials were found.*AWS_ACCESS_KEY_ID.*MLTRAIL_S3_PROFILE"
    with pytest.raises(StoreError, match=missing):
        _store(url).put_stream(io.BytesIO(b"x"))

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", auth_s3.key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    s3fs.S3FileSystem.clear_instance_cache()
    with pytest.raises(StoreError, match=r"refused the credentials.*AWS_SECRET_ACCESS_KEY"):
        _store(url).put_stream(io.BytesIO(b"x"))

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", auth_s3.secret)
    s3fs.S3FileSystem.clear_instance_cache()
    digest, _ = _store(url).put_stream(io.BytesIO(b"x"))  # the right pair works: the server does check
    assert _store(url).exists(digest)


def test_an_unknown_profile_names_mltrail_s3_profile(auth_s3: Any) -> None:
    with pytest.raises(StoreError, match="MLTRAIL_S3_PROFILE names no known profile"):
        _store(f"s3://{auth_s3.bucket}/blobs", s3_profile="nobody").put_stream(io.BytesIO(b"x"))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MLTRAIL_S3_ENDPOINT_URL", "127.0.0.1:9000", "must be http:// or https://"),
        ("MLTRAIL_S3_PATH_STYLE", "maybe", "must be 1 or 0"),
        ("MLTRAIL_S3_PRESIGN", "-1", "between 0"),
        ("MLTRAIL_S3_PRESIGN", "700000", "7 days"),
    ],
)
def test_s3_settings_are_checked(name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        Settings.from_env({name: value})
    assert caught.value.field == name


def test_s3_settings_become_storage_options() -> None:
    from mltrail.store.blob_s3 import s3_storage_options

    settings = Settings.from_env(
        {
            "MLTRAIL_BLOBS": "s3://bucket/prefix",
            "MLTRAIL_S3_ENDPOINT_URL": "http://minio:9000/",
            "MLTRAIL_S3_REGION": "eu-west-3",
            "MLTRAIL_S3_PROFILE": "team",
            "MLTRAIL_S3_PATH_STYLE": "yes",
        }
    )
    assert s3_storage_options(settings) == {
        "client_kwargs": {"endpoint_url": "http://minio:9000", "region_name": "eu-west-3"},
        "config_kwargs": {"signature_version": "s3v4", "s3": {"addressing_style": "path"}},
        "profile": "team",
    }
    assert settings.s3_presign == 900.0


def test_a_folder_of_files_is_sent_several_at_a_time_in_order(
    s3_blobs: str, s3_server: Any, tmp_path: Path
) -> None:
    files = []
    for i in range(20):
        files.append(tmp_path / f"f{i}.bin")
        files[-1].write_bytes(f"file {i}".encode() * (i + 1))
    files.append(tmp_path / "again.bin")
    files[-1].write_bytes(b"file 3" * 4)  # the same bytes as f3: one blob
    blobs = _store(s3_blobs)
    s3_server.reset_log()
    stored = blobs.put_files(files)
    assert stored == [(hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_size) for f in files]
    counts = s3_server.counts(_bucket(s3_blobs))
    assert counts["HEAD"] == 21 and 20 <= counts["PUT"] <= 21  # f3 and its twin may race: same bytes


def test_holds_checks_what_a_client_uploaded(s3_blobs: str, s3_server: Any) -> None:
    blobs = _store(s3_blobs)
    data = b"uploaded by a client"
    digest = hashlib.sha256(data).hexdigest()
    assert not blobs.holds(digest, len(data))  # nothing there
    upload = blobs.presigned_upload(digest, len(data))
    assert upload is not None and upload.expires_in == 900
    assert upload.headers == {"x-amz-checksum-sha256": base64.b64encode(bytes.fromhex(digest)).decode()}
    assert httpx.put(upload.url, content=data, headers=upload.headers).status_code == 200
    assert blobs.holds(digest, len(data))
    with pytest.raises(InvalidInputError, match="bytes, not"):
        blobs.holds(digest, len(data) + 1)  # a wrong size claimed for an intact blob: refused, kept
    assert blobs.exists(digest)
    s3_server.client().put_object(Bucket=_bucket(s3_blobs), Key=_key_of(digest), Body=b"y" * len(data))
    assert not blobs.holds(digest, len(data))  # bytes that are not the digest's: removed
    assert not blobs.exists(digest)
    assert _store(s3_blobs, s3_presign=0.0).presigned_upload(digest, 10) is None
