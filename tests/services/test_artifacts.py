"""Artifacts through the service and the SDK: folders, dedup across runs, verified downloads, bad paths."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import mltrail
from mltrail.errors import IntegrityError, InvalidInputError, NotFoundError
from mltrail.sdk.client.connection import embedded_transport
from mltrail.settings import Settings

OFF = False


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "store", flush_interval=0.05)


def _blob_files(settings: Settings) -> list[Path]:
    return [p for p in Path(settings.blobs).rglob("*") if p.is_file()]


def test_files_and_folders_are_stored_once_and_downloaded_verified(
    settings: Settings, tmp_path: Path
) -> None:
    src = tmp_path / "model"
    (src / "sub").mkdir(parents=True)
    (src / "weights.bin").write_bytes(b"\x00\x01" * 50_000)
    (src / "sub" / "config.json").write_text('{"depth": 6}')
    with mltrail.init(project="a", capture=OFF, settings=settings) as first:
        logged = first.log_artifact(src)
    with mltrail.init(project="a", capture=OFF, settings=settings) as second:
        second.log_artifact(src, name="copy")
        second.log_artifact(src / "weights.bin")
    assert sorted(a.path for a in logged) == ["model/sub/config.json", "model/weights.bin"]
    assert len(_blob_files(settings)) == 2  # five artifact rows, two distinct contents

    service = embedded_transport(settings).artifacts
    listed = service.list(second.id)
    assert sorted(a.path for a in listed) == ["copy/sub/config.json", "copy/weights.bin", "weights.bin"]
    assert [a.path for a in service.list(second.id, prefix="copy/sub")] == ["copy/sub/config.json"]
    digest = hashlib.sha256((src / "weights.bin").read_bytes()).hexdigest()
    assert {a.digest for a in listed if a.path.endswith("weights.bin")} == {digest}

    out = tmp_path / "out"
    out.mkdir()
    written = service.download(first.id, "model", out)
    assert sorted(p.relative_to(out).as_posix() for p in written) == ["sub/config.json", "weights.bin"]
    assert (out / "weights.bin").read_bytes() == (src / "weights.bin").read_bytes()
    single = service.download(first.id, "model/sub/config.json", tmp_path / "one.json")
    assert single[0].read_text() == '{"depth": 6}'


def test_tampered_blob_is_refused_at_download(settings: Settings, tmp_path: Path) -> None:
    file = tmp_path / "model.joblib"
    file.write_bytes(b"pretend model" * 100)
    with mltrail.init(project="a", capture=OFF, settings=settings) as run:
        (artifact,) = run.log_artifact(file)
    blob = embedded_transport(settings).blobs.path(artifact.digest)
    Path(blob).write_bytes(b"evil" * 100)
    target = tmp_path / "restored.joblib"
    with pytest.raises(IntegrityError):
        embedded_transport(settings).artifacts.download(run.id, "model.joblib", target)
    assert not target.exists()


@pytest.mark.parametrize(
    "bad", ["../escape.txt", "/etc/passwd", "a/../../b", "", "  ", "C:\\windows\\x", "a\x00b", ".."]
)
def test_artifact_paths_that_escape_are_rejected(settings: Settings, tmp_path: Path, bad: str) -> None:
    file = tmp_path / "f.txt"
    file.write_text("x")
    with mltrail.init(project="a", capture=OFF, settings=settings) as run:
        with pytest.raises(InvalidInputError) as info:
            run.log_artifact(file, name=bad)
        assert info.value.field == "path"
    assert embedded_transport(settings).artifacts.list(run.id) == []


def test_missing_source_and_missing_artifact(settings: Settings, tmp_path: Path) -> None:
    with mltrail.init(project="a", capture=OFF, settings=settings) as run, pytest.raises(InvalidInputError):
        run.log_artifact(tmp_path / "nope.bin")
    with pytest.raises(NotFoundError):
        embedded_transport(settings).artifacts.download(run.id, "nope.bin", tmp_path / "x")


def test_logging_to_a_missing_run_writes_no_blob(settings: Settings, tmp_path: Path) -> None:
    file = tmp_path / "f.txt"
    file.write_text("orphan")
    service = embedded_transport(settings).artifacts
    with pytest.raises(NotFoundError):
        service.log_path("0" * 32, file)
    with pytest.raises(NotFoundError):
        service.list("0" * 32)
    assert _blob_files(settings) == []
