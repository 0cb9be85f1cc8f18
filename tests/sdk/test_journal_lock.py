"""The journal's owner lock (filelock): what `mltrail sync` relies on to tell a live owner from a dead one."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from mltrail.sdk.tracking.journal import LOCK, LOG, Journal


def _journal(root: Path, run_id: str = "j" * 32) -> Journal:
    return Journal.create(root, run_id, {"run_id": run_id, "project": "p", "name": "n", "server": None})


def _held_elsewhere(folder: Path) -> bool:
    """Whether another process fails to open the journal (its lock is held)."""
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from mltrail.sdk.tracking.journal import Journal
        journal = Journal.open(Path({str(folder)!r}))
        print("held" if journal is None else "free")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip() == "held"


def test_the_lock_is_held_until_release_even_when_another_thread_releases_it(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    assert _held_elsewhere(journal.folder)
    # The run's thread took the lock; its sender thread gives it up at the end.
    releaser = threading.Thread(target=journal.release)
    releaser.start()
    releaser.join()
    assert not _held_elsewhere(journal.folder)
    reopened = Journal.open(journal.folder)
    assert reopened is not None
    assert Journal.open(journal.folder) is None  # a second opener in this process is refused too
    reopened.release()


def test_a_dead_owner_frees_the_lock(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from mltrail.sdk.tracking.journal import Journal
        Journal.create(Path({str(tmp_path)!r}), "d" * 32, {{"run_id": "d" * 32}})
        os._exit(9)  # no release, no cleanup: as if killed
        """
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60, check=False).returncode == 9
    adopted = Journal.open(tmp_path / ("d" * 32))
    assert adopted is not None
    adopted.release()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # 3.12+: fork with threads running
def test_a_forked_child_neither_frees_nor_takes_the_owners_lock(tmp_path: Path) -> None:
    """A training script forking workers (DataLoader, multiprocessing) while its run journals."""
    journal = _journal(tmp_path)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(write, b"held" if Journal.open(journal.folder) is None else b"free")
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        seen_by_child = pipe.read()
    os.waitpid(pid, 0)
    assert seen_by_child == b"held"
    assert _held_elsewhere(journal.folder)  # the child's exit did not free it
    journal.release()
    assert not _held_elsewhere(journal.folder)


def test_opening_a_journal_removed_meanwhile_leaves_nothing_behind(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    folder = journal.folder
    assert journal.complete() is None  # delivered: the folder goes
    assert not folder.exists()
    assert Journal.open(folder) is None
    assert not folder.exists()  # taking the lock did not make the folder again

    # The lock file there but the log gone (removed between the two): refused, and the leftovers cleared.
    folder.mkdir()
    (folder / LOCK).touch()
    assert not (folder / LOG).exists()
    assert Journal.open(folder) is None
    assert not folder.exists()
