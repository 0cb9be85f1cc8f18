"""``run.log_artifact(folder)`` logs the folder's regular files only: links and special files are skipped
with a warning, never followed out of the folder, never hang the call — embedded and through a server."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest

import mltrail
from mltrail.errors import InvalidInputError
from mltrail.sdk.client.connection import embedded_transport
from mltrail.settings import Settings


def _folder(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:secret")
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"\x00" * 64)
    (folder / "sub" / "config.json").write_text("{}")
    os.symlink(secret, folder / "passwd")  # a link out of the folder
    os.symlink(tmp_path / "nowhere", folder / "broken")  # a link to nothing
    os.symlink(secret.parent, folder / "linked-dir")  # a link to a folder
    os.mkfifo(folder / "pipe")  # reading it would block forever
    return folder


def test_links_and_special_files_are_skipped_with_a_warning(
    settings: Settings,
    transport_kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = request.getfixturevalue("http_server").url if transport_kind == "http" else None
    folder = _folder(tmp_path)
    done: list[object] = []
    with (
        caplog.at_level(logging.WARNING, logger="mltrail"),
        mltrail.init(project="links", capture=False, settings=settings, server=server) as run,
    ):
        worker = threading.Thread(target=lambda: done.append(run.log_artifact(folder)), daemon=True)
        worker.start()
        worker.join(20)
        assert done, "log_artifact hung"
    stored = embedded_transport(settings).artifacts.list(run.id)
    assert sorted(a.path for a in stored) == ["model/sub/config.json", "model/weights.bin"]
    skipped = " ".join(r.getMessage() for r in caplog.records)
    for name in ("passwd", "broken", "linked-dir", "pipe"):
        assert str(folder / name) in skipped


def test_a_pipe_named_directly_is_refused_naming_it(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    settings = Settings(home=tmp_path / "m")
    with (
        mltrail.init(project="links", capture=False, settings=settings) as run,
        pytest.raises(InvalidInputError, match="not a regular file") as info,
    ):
        run.log_artifact(pipe)
    assert info.value.field == "path"
