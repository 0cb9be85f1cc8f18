"""Capture a run's code from git: commit, branch, remote, and one patch of every uncommitted change."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mltrail.errors import MltrailError

__all__ = ["GitCapture", "apply_patch", "capture_git"]

# How long one git call may take before we give up on it; a normal repo answers in milliseconds.
DEFAULT_TIMEOUT = 10.0
# Longest list kept in ``untracked_included`` / ``untracked_skipped``; ``note`` counts the rest.
MAX_LISTED_PATHS = 1000
# git's hash of the empty tree (SHA-1 object format); asked of git itself in a SHA-256 repository.
_EMPTY_TREE_SHA1 = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_BINARY_SNIFF_BYTES = 8192
# Options that make `git diff` output a patch `git apply` accepts whatever the user's configuration says
# (external diff tools, textconv filters, `diff.noprefix`, colour, submodule logs, `diff.relative`).
_DIFF_OPTIONS = (
    "--binary",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
    "--no-renames",
    "--submodule=short",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
_C_ESCAPES = {7: b"\\a", 8: b"\\b", 9: b"\\t", 10: b"\\n", 11: b"\\v", 12: b"\\f", 13: b"\\r"}
_URL_CREDENTIALS = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^@/]*)@")


@dataclass(slots=True)
class GitCapture:
    """``info`` is JSON-serializable; ``patch`` (``git apply``-able) is the uncommitted state, or None."""

    info: dict[str, Any]
    patch: bytes | None


class _GitFailedError(Exception):
    """A git call that exited with an unexpected status; ``str()`` is the start of git's stderr."""


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    # Never take the index lock (the user may run git at the same moment) and never prompt for anything.
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def _git(
    args: list[str],
    cwd: Path,
    timeout: float,
    *,
    ok_codes: tuple[int, ...] = (0,),
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        env=_git_env(),
        check=False,
    )
    if proc.returncode not in ok_codes:
        raise _GitFailedError(_first_line(proc.stderr) or f"git {args[0]} exited with {proc.returncode}")
    return proc


class _Started:
    """A git call started now and collected later, so independent calls run side by side (a run's capture
    makes six; one after another they cost six process start-ups of waiting)."""

    def __init__(self, args: list[str], cwd: Path, *, stdout: Any = subprocess.PIPE) -> None:
        self.args = args
        self.done = False
        self.proc = subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=_git_env(),
        )

    def result(self, timeout: float, ok_codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[bytes]:
        """Wait for the call, as ``_git`` would have run it (the same timeout and exit-code check)."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.discard()
            raise
        self.done = True
        code = self.proc.returncode
        if code not in ok_codes:
            raise _GitFailedError(_first_line(err) or f"git {self.args[0]} exited with {code}")
        return subprocess.CompletedProcess(["git", *self.args], code, out or b"", err or b"")

    def discard(self) -> None:
        """Kill the call if it still runs and reap it; nothing for a call already collected."""
        if self.done:
            return
        self.done = True
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


def _discard(calls: list[_Started]) -> None:
    for call in calls:
        call.discard()


def _first_line(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else ""


def _display(path: bytes) -> str:
    return path.decode("utf-8", "backslashreplace")


def strip_credentials(url: str) -> str:
    """``url`` without a password, and for http(s) without any user part (a user may be a token).

    ``https://user:token@host/x`` → ``https://host/x``; ``ssh://git:pw@host/x`` → ``ssh://git@host/x``;
    scp-like ``git@host:x`` holds no secret and stays as it is.
    """
    match = _URL_CREDENTIALS.match(url)
    if match is None:
        return url
    scheme, userinfo = match.group("scheme"), match.group("userinfo")
    rest = url[match.end() :]
    if scheme.lower().startswith(("http", "ftp")):
        return scheme + rest
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{user}@{rest}" if user else scheme + rest


_REMOTE_URLS = ["config", "-z", "--get-regexp", r"^remote\..*\.url$"]


def _remote_url(proc: subprocess.CompletedProcess[bytes]) -> str | None:
    """``origin``'s URL (else the first remote's) from ``git config --get-regexp``, credentials stripped."""
    urls: dict[str, str] = {}
    for entry in proc.stdout.split(b"\0"):
        if not entry:
            continue
        key, _, value = entry.decode("utf-8", "replace").partition("\n")
        name = key[len("remote.") : -len(".url")]
        urls.setdefault(name, value)
    if not urls:
        return None
    url = urls.get("origin") or next(iter(urls.values()))
    return strip_credentials(url)


def _quote_path(path: bytes) -> bytes:
    """Quote a path the way git does in patch headers (C-style, octal escapes) when it needs quoting."""
    if not any(b < 0x20 or b >= 0x7F or b in b'"\\' for b in path):
        return path
    out = bytearray(b'"')
    for b in path:
        if b in _C_ESCAPES:
            out += _C_ESCAPES[b]
        elif b in b'"\\':
            out += b"\\" + bytes([b])
        elif b < 0x20 or b >= 0x7F:
            out += b"\\%03o" % b
        else:
            out.append(b)
    out += b'"'
    return bytes(out)


def _new_file_patch(path: bytes, content: bytes, mode: str) -> bytes:
    """A ``git diff --binary``-style patch creating ``path`` (relative to the root) with text ``content``."""
    old, new = _quote_path(b"a/" + path), _quote_path(b"b/" + path)
    blob = hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()
    parts = [
        b"diff --git " + old + b" " + new + b"\n",
        b"new file mode " + mode.encode() + b"\n",
        b"index 0000000.." + blob[:7].encode() + b"\n",
    ]
    if content:
        lines = content.split(b"\n")
        missing_newline = lines[-1] != b""
        if not missing_newline:
            lines.pop()
        count = b"" if len(lines) == 1 else b",%d" % len(lines)
        # Like git, end a name holding a space with a tab, so that `git apply` reads the whole name.
        tab = b"\t" if b" " in new else b""
        parts += [b"--- /dev/null\n", b"+++ " + new + tab + b"\n", b"@@ -0,0 +1" + count + b" @@\n"]
        parts += [b"+" + line + b"\n" for line in lines]
        if missing_newline:
            parts.append(b"\\ No newline at end of file\n")
    return b"".join(parts)


def _untracked_patch(root: Path, rel: bytes, max_bytes: int) -> tuple[bytes | None, dict[str, Any] | None]:
    """(patch, None) for a small text file, else (None, {path, reason}) saying why it is left out."""
    shown = _display(rel)
    full = root / os.fsdecode(rel)
    try:
        st = full.lstat()
        if stat.S_ISLNK(st.st_mode):
            target = os.fsencode(full.readlink())
            return _new_file_patch(rel, target, "120000"), None
        if not stat.S_ISREG(st.st_mode):
            return None, {"path": shown, "reason": "not a regular file"}
        if st.st_size > max_bytes:
            return None, {"path": shown, "reason": "too big", "size": st.st_size}
        with full.open("rb") as fh:
            content = fh.read(max_bytes + 1)
    except OSError as exc:
        return None, {"path": shown, "reason": f"unreadable: {exc.strerror or exc}"}
    if len(content) > max_bytes:  # grew since lstat
        return None, {"path": shown, "reason": "too big", "size": len(content)}
    if b"\0" in content[:_BINARY_SNIFF_BYTES]:
        return None, {"path": shown, "reason": "binary"}
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return None, {"path": shown, "reason": "binary"}
    mode = "100755" if st.st_mode & stat.S_IXUSR else "100644"
    return _new_file_patch(rel, content, mode), None


def _start_tracked_diff(root: Path, base: str, out: Any) -> _Started:
    """``git diff <base>``: staged and unstaged changes of tracked files, written to the file ``out``."""
    # Output goes to a temporary file, so a giant diff is measured on disk instead of held in memory.
    return _Started(["diff", *_DIFF_OPTIONS, base, "--"], root, stdout=out)


def _tracked_diff(call: _Started, out: Any, timeout: float, max_bytes: int) -> bytes | None:
    """The diff ``call`` wrote to ``out``; None when over ``max_bytes``."""
    call.result(timeout)
    size = out.tell()
    if size > max_bytes:
        return None
    out.seek(0)
    data: bytes = out.read()
    return data


def _capped(items: list[Any], what: str, notes: list[str]) -> list[Any]:
    if len(items) > MAX_LISTED_PATHS:
        notes.append(f"{len(items) - MAX_LISTED_PATHS} more {what} not listed")
        return items[:MAX_LISTED_PATHS]
    return items


def capture_git(
    path: Path,
    *,
    max_untracked_bytes: int = 100_000,
    max_diff_bytes: int = 20_000_000,
    timeout: float = DEFAULT_TIMEOUT,
) -> GitCapture:
    """Where the code in ``path`` comes from, and a patch of everything not committed; never raises.

    ``info`` holds ``root``, ``commit`` (None before the first commit), ``branch`` (None when detached),
    ``remote`` (``origin``'s URL, else the first remote's, credentials stripped), ``dirty`` (tracked changes
    or untracked, non-ignored files), ``untracked_included``, ``untracked_skipped`` (``{path, reason}``,
    reason one of ``too big`` (with ``size``), ``binary``, ``patch size limit``, ``nested git repository``,
    ``not a regular file``, ``unreadable: …``) and, when something was left out, ``note``. Paths are relative
    to ``root``; the lists stop at 1000 entries each. Without git or outside a repository ``info`` is
    ``{"skipped": why}``.

    ``patch`` rebuilds the working tree from a checkout of ``commit`` (or from an empty repository when
    there is no commit) with :func:`apply_patch`: tracked changes (``git diff <commit> --binary``) followed by
    a new-file patch for each untracked UTF-8 text file of at most ``max_untracked_bytes``. The whole patch
    stays under ``max_diff_bytes``; what does not fit is skipped and said so. ``patch`` is None when there is
    nothing uncommitted to store.
    """
    if shutil.which("git") is None:
        return GitCapture({"skipped": "git executable not found on PATH"}, None)
    try:
        return _capture(Path(path), max_untracked_bytes, max_diff_bytes, timeout)
    except subprocess.TimeoutExpired as exc:
        return GitCapture({"skipped": f"git did not answer within {exc.timeout:g} s"}, None)
    except _GitFailedError as exc:
        return GitCapture({"skipped": f"git failed: {exc}"}, None)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return GitCapture({"skipped": f"git could not run: {exc}"}, None)


def _inside_work_tree(path: Path) -> bool:
    """False only when certainly not in a repository: no ``.git`` in ``path`` or above it and no
    ``GIT_DIR``. Saves starting git (four processes) in every run outside a repository."""
    if os.environ.get("GIT_DIR"):
        return True
    try:
        here = path.resolve()
    except (OSError, RuntimeError):
        return True
    return any((folder / ".git").exists() for folder in (here, *here.parents))


def _capture(path: Path, max_untracked: int, max_diff: int, timeout: float) -> GitCapture:
    if path.is_file():
        path = path.parent
    if path.is_dir() and not _inside_work_tree(path):
        return GitCapture({"skipped": f"not a git repository: {path}"}, None)
    # Round one, side by side from ``path`` (git finds the same repository from anywhere inside it).
    calls: list[_Started] = []
    try:
        for args in (
            ["rev-parse", "--show-toplevel"],
            ["rev-parse", "--verify", "-q", "HEAD^{commit}"],
            ["symbolic-ref", "-q", "--short", "HEAD"],
            _REMOTE_URLS,
        ):
            calls.append(_Started(args, path))
    except FileNotFoundError:
        _discard(calls)
        return GitCapture({"skipped": f"no such directory: {path}"}, None)
    except BaseException:
        _discard(calls)
        raise
    try:
        try:
            top = calls[0].result(timeout)
        except _GitFailedError as exc:
            reason = str(exc)
            if "not a git repository" in reason:
                return GitCapture({"skipped": f"not a git repository: {path}"}, None)
            return GitCapture({"skipped": f"not a git work tree: {reason}"}, None)
        commit = calls[1].result(timeout, (0, 1)).stdout.decode().strip() or None
        branch = calls[2].result(timeout, (0, 1)).stdout.decode("utf-8", "replace").strip() or None
        remote = _remote_url(calls[3].result(timeout, (0, 1)))
    finally:
        _discard(calls)
    root = Path(os.fsdecode(top.stdout.rstrip(b"\n"))).resolve()
    notes: list[str] = []

    if commit is not None:
        base = commit
    else:
        notes.append("no commits yet: the patch creates every file from an empty repository")
        empty = _git(["hash-object", "-t", "tree", "--stdin"], root, timeout, stdin=b"")
        base = empty.stdout.decode().strip() or _EMPTY_TREE_SHA1
    # Round two, side by side from the root: the tracked diff and the untracked files.
    with tempfile.TemporaryFile() as out:
        diff_call = _start_tracked_diff(root, base, out)
        try:
            listing_call = _Started(["ls-files", "--others", "--exclude-standard", "-z"], root)
        except BaseException:
            _discard([diff_call])
            raise
        try:
            tracked = _tracked_diff(diff_call, out, timeout, max_diff)
            listing = listing_call.result(timeout)
        finally:
            _discard([diff_call, listing_call])
    if tracked is None:
        notes.append(f"tracked changes exceed max_diff_bytes={max_diff}: not stored")
        budget = max_diff
        tracked_dirty = True
    else:
        budget = max_diff - len(tracked)
        tracked_dirty = bool(tracked)

    untracked = [p for p in listing.stdout.split(b"\0") if p]
    included: list[str] = []
    skipped: list[dict[str, Any]] = []
    pieces = [tracked or b""]
    for rel in untracked:
        if rel.endswith(b"/"):  # ls-files shows a nested repository as its directory
            skipped.append({"path": _display(rel), "reason": "nested git repository"})
            continue
        piece, why = _untracked_patch(root, rel, max_untracked)
        if piece is None:
            skipped.append(why or {"path": _display(rel), "reason": "unknown"})
        elif len(piece) > budget:
            skipped.append({"path": _display(rel), "reason": "patch size limit"})
        else:
            budget -= len(piece)
            pieces.append(piece)
            included.append(_display(rel))

    patch = b"".join(pieces)
    info: dict[str, Any] = {
        "root": str(root),
        "commit": commit,
        "branch": branch,
        "remote": remote,
        "dirty": tracked_dirty or bool(untracked),
        "untracked_included": _capped(included, "included untracked files", notes),
        "untracked_skipped": _capped(skipped, "skipped untracked files", notes),
    }
    if skipped:
        notes.insert(0, f"{len(skipped)} untracked file(s) not stored in the patch")
    if notes:
        info["note"] = "; ".join(notes)
    return GitCapture(info, patch or None)


def apply_patch(repo_dir: Path, patch: bytes, *, timeout: float = 60.0) -> None:
    """Apply a patch from :func:`capture_git` to the working tree at ``repo_dir`` (the repository root).

    Raises :class:`~mltrail.errors.MltrailError` with git's message when git is missing or the patch does not
    apply; an empty patch changes nothing.
    """
    if not patch:
        return
    try:
        proc = subprocess.run(
            ["git", "apply", "--whitespace=nowarn", "-"],
            cwd=repo_dir,
            input=patch,
            capture_output=True,
            timeout=timeout,
            env=_git_env(),
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise MltrailError(f"cannot run git apply in {repo_dir}: {exc}") from exc
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise MltrailError(f"git apply failed in {repo_dir}: {message}")
