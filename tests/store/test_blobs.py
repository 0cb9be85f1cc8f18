"""``BlobStore``: content addressing, dedup, streaming, verified copies."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from mltrail.errors import IntegrityError, InvalidInputError, NotFoundError
from mltrail.store.blobs import CHUNK_SIZE, BlobStore


def test_put_open_and_dedup(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    assert not (tmp_path / "blobs").exists()  # nothing created before the first write
    data = b"hello mltrail" * 1000
    digest, size = blobs.put_stream(io.BytesIO(data))
    assert digest == hashlib.sha256(data).hexdigest()
    assert size == len(data)
    path = tmp_path / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    assert path.read_bytes() == data
    assert blobs.exists(digest)
    with blobs.open(digest) as fh:
        assert fh.read() == data
    again, _ = blobs.put_stream(io.BytesIO(data))
    assert again == digest
    assert list((tmp_path / "blobs" / "incoming").iterdir()) == []  # temp files are gone


def test_put_file_streams_large_content(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    data = bytes(range(256)) * (CHUNK_SIZE // 256 * 3 + 7)
    source.write_bytes(data)
    blobs = BlobStore(str(tmp_path / "blobs"))
    digest, size = blobs.put_file(source)
    assert (digest, size) == (hashlib.sha256(data).hexdigest(), len(data))
    out = tmp_path / "out" / "copy.bin"
    out.parent.mkdir()
    assert blobs.copy_to(digest, out) == len(data)
    assert out.read_bytes() == data


def test_empty_blob(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    digest, size = blobs.put_stream(io.BytesIO(b""))
    assert (digest, size) == (hashlib.sha256(b"").hexdigest(), 0)


def test_tampered_blob_raises_and_leaves_nothing(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    digest, _ = blobs.put_stream(io.BytesIO(b"original content"))
    Path(blobs.path(digest)).write_bytes(b"tampered content")
    dest = tmp_path / "dl"
    dest.mkdir()
    with pytest.raises(IntegrityError):
        blobs.copy_to(digest, dest / "file.txt")
    assert list(dest.iterdir()) == []


def test_tampered_blob_keeps_existing_destination(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    digest, _ = blobs.put_stream(io.BytesIO(b"original content"))
    Path(blobs.path(digest)).write_bytes(b"evil")
    dest = tmp_path / "file.txt"
    dest.write_bytes(b"previous")
    with pytest.raises(IntegrityError):
        blobs.copy_to(digest, dest)
    assert dest.read_bytes() == b"previous"


def test_missing_and_malformed_digests(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    missing = "0" * 64
    assert not blobs.exists(missing)
    with pytest.raises(NotFoundError):
        blobs.open(missing)
    with pytest.raises(NotFoundError):
        blobs.copy_to(missing, tmp_path / "x")
    assert not (tmp_path / "x").exists()
    for bad in ("../../etc/passwd", "abc", "G" * 64):
        with pytest.raises(InvalidInputError):
            blobs.open(bad)


def test_max_size(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs", max_size=CHUNK_SIZE + 10)
    with pytest.raises(InvalidInputError):
        blobs.put_stream(io.BytesIO(b"x" * (CHUNK_SIZE * 2)))
    assert list((tmp_path / "blobs" / "incoming").iterdir()) == []
    assert not (tmp_path / "blobs" / "sha256").exists()
    digest, size = blobs.put_stream(io.BytesIO(b"x" * (CHUNK_SIZE + 10)))
    assert size == CHUNK_SIZE + 10
    assert blobs.exists(digest)


@pytest.mark.parametrize("given", ["relative/blobs", "relative/blobs/", "~/blobs", "file://{tmp}/blobs"])
def test_a_local_store_is_found_without_fsspec_where_fsspec_finds_it(
    given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain path or a file:// URL is resolved without importing fsspec (readers of local blobs do not
    need it), to the folder fsspec resolves it to: a blob written through fsspec is at ``local_path``."""
    import fsspec

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    url = given.format(tmp=tmp_path)
    store = BlobStore(url)
    assert store.is_local
    assert "_filesystem" not in vars(store)  # fsspec not asked yet
    assert store.root == fsspec.core.url_to_fs(url)[1].rstrip("/")
    digest, _ = store.put_stream(io.BytesIO(b"abc"))
    found = store.local_path(digest)
    assert found is not None and Path(found).read_bytes() == b"abc"
    assert BlobStore("memory://x").local_path(digest) is None
