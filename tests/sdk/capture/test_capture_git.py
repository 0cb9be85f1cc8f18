"""capture_git and apply_patch against real git repositories in temporary folders."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mltrail.errors import MltrailError
from mltrail.sdk.capture.git import apply_patch, capture_git, strip_credentials


@pytest.fixture(autouse=True)
def _git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hermetic git: fixed identity, no user or system configuration, no walking above the temp folder."""
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test Author")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


def tree(root: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file below ``root`` outside ``.git``: relative path → (content, executable)."""
    files: dict[str, tuple[bytes, bool]] = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git" or path.is_dir():
            continue
        if path.is_symlink():
            files[str(rel)] = (b"-> " + os.fsencode(os.readlink(path)), False)
        else:
            files[str(rel)] = (path.read_bytes(), os.access(path, os.X_OK))
    return files


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


@pytest.fixture
def busy_repo(tmp_path: Path) -> Path:
    """Commits, then every kind of uncommitted change."""
    repo = init_repo(tmp_path / "src repo")
    write(repo / "train.py", "print('v1')\n")
    write(repo / "pkg" / "model.py", "A = 1\nB = 2\n")
    write(repo / "data.bin", bytes(range(256)) * 4)
    write(repo / "remove_me.txt", "bye\n")
    write(repo / "run.sh", "#!/bin/sh\necho hi\n")
    write(repo / ".gitignore", "*.log\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    write(repo / "train.py", "print('v2')\n")
    git(repo, "commit", "-q", "-am", "second")
    git(repo, "remote", "add", "origin", "https://alice:s3cret@example.com/team/repo.git")
    git(repo, "remote", "add", "backup", "ssh://git@example.org/team/repo.git")

    write(repo / "train.py", "print('v3, unstaged')\n")  # unstaged change
    write(repo / "pkg" / "model.py", "A = 1\nB = 3\n")
    git(repo, "add", "pkg/model.py")  # staged change ...
    write(repo / "pkg" / "model.py", "A = 10\nB = 3\nC = 4\n")  # ... and more unstaged on top
    write(repo / "staged_new.py", "NEW = True\n")
    git(repo, "add", "staged_new.py")  # staged new file
    write(repo / "data.bin", bytes(range(255, -1, -1)) * 4)  # tracked binary changed
    (repo / "remove_me.txt").unlink()  # deleted
    (repo / "run.sh").chmod(0o755)  # mode change
    write(repo / "notes" / "ideas dir" / "ünïcode idea.md", "# ideas\r\ncrlf line\r\nno newline at end")
    write(repo / "empty.txt", b"")
    write(repo / 'odd\t"name.txt', "tab and quote\n")
    tool = write(repo / "tool.sh", "#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    (repo / "link_to_train").symlink_to("train.py")
    write(repo / "big.csv", "x,y\n" + "1,2\n" * 40_000)  # 160 KB text: too big
    write(repo / "weights.bin", b"\x00\x01\x02" * 100)  # NUL bytes: binary
    write(repo / "latin1.txt", "café\n".encode("latin-1"))  # not UTF-8: binary
    write(repo / "debug.log", "ignored\n")  # .gitignore
    return repo


def test_patch_rebuilds_the_working_tree_in_a_clone(busy_repo: Path, tmp_path: Path) -> None:
    captured = capture_git(busy_repo / "pkg")
    info, patch = captured.info, captured.patch
    json.dumps(info)  # plain JSON
    head = git(busy_repo, "rev-parse", "HEAD")
    assert info["root"] == str(busy_repo.resolve())
    assert info["commit"] == head
    assert info["branch"] == "main"
    assert info["remote"] == "https://example.com/team/repo.git"
    assert info["dirty"] is True
    assert sorted(info["untracked_included"]) == sorted(
        [
            "empty.txt",
            "link_to_train",
            "notes/ideas dir/ünïcode idea.md",
            'odd\t"name.txt',
            "tool.sh",
        ]
    )
    skipped = {s["path"]: s["reason"] for s in info["untracked_skipped"]}
    assert skipped == {"big.csv": "too big", "weights.bin": "binary", "latin1.txt": "binary"}
    assert "3 untracked file(s) not stored" in info["note"]
    assert patch is not None

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(busy_repo), str(clone))
    git(clone, "checkout", "-q", info["commit"])
    apply_patch(clone, patch)

    expected = tree(busy_repo)
    for name in ("big.csv", "weights.bin", "latin1.txt", "debug.log"):
        del expected[name]
    assert tree(clone) == expected


def test_clean_repository_has_no_patch(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    write(repo / "a.txt", "a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "a")
    captured = capture_git(repo)
    assert captured.patch is None
    assert captured.info["dirty"] is False
    assert captured.info["remote"] is None
    assert captured.info["untracked_included"] == []
    assert "note" not in captured.info


def test_detached_head_has_no_branch(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    write(repo / "a.txt", "a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "a")
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--detach")
    info = capture_git(repo).info
    assert info["branch"] is None
    assert info["commit"] == head


def test_first_remote_when_there_is_no_origin(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    git(repo, "remote", "add", "upstream", "https://bob:tok@example.com/x.git")
    git(repo, "remote", "add", "zeta", "https://example.com/z.git")
    assert capture_git(repo).info["remote"] == "https://example.com/x.git"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pass@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://ghp_token@github.com/o/r.git", "https://github.com/o/r.git"),
        ("http://u:p@host:8080/r", "http://host:8080/r"),
        ("ssh://git:pw@host/r.git", "ssh://git@host/r.git"),
        ("ssh://git@host/r.git", "ssh://git@host/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("/srv/repos/r.git", "/srv/repos/r.git"),
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert strip_credentials(url) == expected


def test_repository_without_commits(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "fresh")
    write(repo / "train.py", "print('staged')\n")
    write(repo / "lib" / "util.py", "X = 1\n")
    write(repo / "model.bin", b"\x00\xff" * 50)
    git(repo, "add", "train.py", "lib/util.py", "model.bin")
    write(repo / "lib" / "util.py", "X = 2  # changed after staging\n")
    write(repo / "notes.txt", "untracked\n")
    write(repo / "huge.txt", "z" * 200_000)

    captured = capture_git(repo)
    info = captured.info
    assert info["commit"] is None
    assert info["branch"] == "main"
    assert info["dirty"] is True
    assert info["untracked_included"] == ["notes.txt"]
    assert info["untracked_skipped"] == [{"path": "huge.txt", "reason": "too big", "size": 200_000}]
    assert "no commits yet" in info["note"]
    assert captured.patch is not None

    target = init_repo(tmp_path / "rebuilt")
    apply_patch(target, captured.patch)
    expected = tree(repo)
    del expected["huge.txt"]
    assert tree(target) == expected


def test_empty_repository_without_files(tmp_path: Path) -> None:
    captured = capture_git(init_repo(tmp_path / "empty"))
    assert captured.patch is None
    assert captured.info["commit"] is None
    assert captured.info["dirty"] is False


def test_not_a_repository(tmp_path: Path) -> None:
    captured = capture_git(tmp_path)
    assert captured.patch is None
    assert captured.info == {"skipped": f"not a git repository: {tmp_path}"}


def test_outside_a_repository_no_git_process_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("started git")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.delenv("GIT_DIR", raising=False)
    assert capture_git(tmp_path).info == {"skipped": f"not a git repository: {tmp_path}"}


def test_git_dir_in_the_environment_still_asks_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / "f.txt").write_text("x\n")
    git(repo, "add", "f.txt")
    git(repo, "commit", "-qm", "one")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(repo))
    assert capture_git(elsewhere).info["commit"] is not None


def test_missing_directory(tmp_path: Path) -> None:
    captured = capture_git(tmp_path / "nope")
    assert captured.patch is None
    assert "no such directory" in captured.info["skipped"]


def test_no_git_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = init_repo(tmp_path / "r")
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    captured = capture_git(repo)
    assert captured.patch is None
    assert captured.info == {"skipped": "git executable not found on PATH"}


def test_git_timeout_is_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def too_slow(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired(cmd="git", timeout=10)

    repo = init_repo(tmp_path / "r")
    monkeypatch.setattr(subprocess, "run", too_slow)
    captured = capture_git(repo)
    assert captured.info == {"skipped": "git did not answer within 10 s"}


def test_tracked_diff_over_the_limit_is_not_stored(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    write(repo / "a.txt", "a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "a")
    write(repo / "a.txt", "b\n" * 1000)
    write(repo / "small.txt", "s\n")
    captured = capture_git(repo, max_diff_bytes=500)
    assert captured.info["dirty"] is True
    assert "tracked changes exceed max_diff_bytes=500" in captured.info["note"]
    assert captured.patch is not None
    assert b"a.txt" not in captured.patch
    assert b"small.txt" in captured.patch


def test_untracked_files_beyond_the_patch_budget_are_skipped(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    for i in range(5):
        write(repo / f"f{i}.txt", "x" * 100 + "\n")
    captured = capture_git(repo, max_diff_bytes=600)
    reasons = [s["reason"] for s in captured.info["untracked_skipped"]]
    assert len(captured.info["untracked_included"]) in (2, 3)
    assert set(reasons) == {"patch size limit"}
    assert captured.patch is not None
    assert len(captured.patch) <= 600


def test_nested_repository_is_skipped(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    write(repo / "a.txt", "a\n")
    inner = init_repo(repo / "vendor" / "inner")
    write(inner / "x.txt", "x\n")
    git(inner, "add", "x.txt")
    git(inner, "commit", "-q", "-m", "x")
    info = capture_git(repo).info
    assert info["untracked_included"] == ["a.txt"]
    assert info["untracked_skipped"] == [{"path": "vendor/inner/", "reason": "nested git repository"}]


def test_apply_patch_failure_raises_with_gits_message(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    write(repo / "a.txt", "a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "a")
    write(repo / "a.txt", "changed\n")
    patch = capture_git(repo).patch
    assert patch is not None
    other = init_repo(tmp_path / "other")
    with pytest.raises(MltrailError, match=r"a\.txt"):
        apply_patch(other, patch)


def test_apply_empty_patch_is_a_no_op(tmp_path: Path) -> None:
    apply_patch(tmp_path, b"")


def test_apply_patch_without_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MltrailError, match="cannot run git apply"):
        apply_patch(tmp_path, b"diff --git a/x b/x\n")


def test_a_file_path_means_its_repository(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    script = write(repo / "src" / "train.py", "x = 1\n")
    info = capture_git(script).info
    assert info["root"] == str(repo.resolve())
    assert info["untracked_included"] == ["src/train.py"]
