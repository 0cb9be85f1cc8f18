"""Checks and normalizations of user-supplied keys, values and artifact paths, shared by every service."""

from __future__ import annotations

import logging
import os
import posixpath
import re
import stat
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from mltrail.entities import Value
from mltrail.errors import InvalidInputError

_log = logging.getLogger("mltrail")

__all__ = [
    "DATASET_ROLES",
    "MAX_KEY_LENGTH",
    "artifact_files",
    "check_text",
    "clean_tags",
    "flatten_config",
    "metric_float",
    "normalize_artifact_path",
    "to_value",
    "validate_key",
]

MAX_KEY_LENGTH = 250
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # what the check looks for: ord < 32 or 127 (DEL)
DATASET_ROLES = ("train", "validation", "test", "other")


def check_text(value: str, field: str) -> str:
    """``value`` if it is valid Unicode text: a lone UTF-16 surrogate (``"\\ud800"``, which JSON can carry)
    cannot be stored in any database or encoded as UTF-8, so it is refused naming the field."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(
            f"{field} holds an unpaired surrogate {value[exc.start : exc.end]!r} at offset {exc.start}: "
            "send valid UTF-8 text",
            field=field,
        ) from None
    return value


def validate_key(key: object, field: str) -> str:
    """A key is a non-empty string of at most 250 characters without control characters.

    Slashes, spaces, dots and any unicode are allowed: ``val/loss``, ``top 5 acc``, ``точность``.
    """
    if not isinstance(key, str):
        raise InvalidInputError(
            f"{field} keys must be strings, got {type(key).__name__}: {key!r}", field=field
        )
    if not key or not key.strip():
        raise InvalidInputError(f"{field} key must not be empty", field=field)
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"{field} key is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}: {key[:40]!r}…",
            field=f"{field}.{key[:40]}",
        )
    if _CONTROL.search(key):
        raise InvalidInputError(f"{field} key contains a control character: {key!r}", field=field)
    return check_text(key, field)


def to_value(value: Any) -> Value:
    """A JSON-representable value with its type kept: numpy scalars become Python numbers, paths strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:
        return to_value(item())
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, list | tuple):
        return [to_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_value(v) for k, v in value.items()}
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return to_value(tolist())
    return str(value)


def flatten_config(config: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Value]:
    """``{"model": {"depth": 6}}`` → ``{"model.depth": 6}``; values keep their types; lists stay values."""
    flat: dict[str, Value] = {}
    if not config:
        return flat
    for raw_key, value in config.items():
        key = f"{prefix}{raw_key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_config(value, prefix=f"{key}."))
        else:
            flat[validate_key(key, "params")] = to_value(value)
    return flat


def metric_float(key: str, value: Any) -> float:
    """A metric value as float; anything not a real number is a TypeError naming the key."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    # numpy scalars, one-element arrays and tensors expose .item()
    item = getattr(value, "item", None)
    if callable(item):
        try:
            out = item()
        except (ValueError, RuntimeError, TypeError) as exc:
            raise TypeError(f"metric {key!r} must be a number, got {type(value).__name__}") from exc
        if isinstance(out, bool | int | float):
            return float(out)
    raise TypeError(f"metric {key!r} must be a number, got {type(value).__name__}: {value!r:.60}")


def normalize_artifact_path(path: str) -> str:
    """A relative POSIX path inside the run: no ``..``, no absolute paths, no empty names."""
    if not isinstance(path, str) or not path.strip():
        raise InvalidInputError("artifact path must be a non-empty string", field="path")
    if "\x00" in path or any(ord(ch) < 32 for ch in path):
        raise InvalidInputError(f"artifact path contains a control character: {path!r}", field="path")
    unified = path.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        raise InvalidInputError(f"artifact path must be relative, got {path!r}", field="path")
    parts = [p for p in unified.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidInputError(f"artifact path must not contain '..': {path!r}", field="path")
    if not parts:
        raise InvalidInputError(f"artifact path names no file: {path!r}", field="path")
    normalized = posixpath.join(*parts)
    if len(normalized) > 1000:
        raise InvalidInputError("artifact path is longer than 1000 characters", field="path")
    return normalized


def clean_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    """Tags as stored: valid keys, values as text (``None`` as ``""``) of at most 5,000 characters."""
    clean: dict[str, str] = {}
    for key, value in tags.items():
        validate_key(key, "tags")
        text = check_text("" if value is None else str(value), f"tags.{key}")
        if len(text) > 5000:
            raise InvalidInputError(f"tag {key!r} is longer than 5000 characters", field=f"tags.{key}")
        clean[key] = text
    return clean


def artifact_files(source: Path) -> list[Path]:
    """The regular files to log for ``source``: the file itself, or a folder's files in order (without
    ``__pycache__``). Inside a folder, symbolic links are skipped with a warning (a link to ``/etc/passwd``
    must not upload the password file; one that points nowhere must not abort the folder), and so are named
    pipes, sockets and devices (reading a pipe would hang). Errors name the path."""
    try:
        mode = source.lstat().st_mode
    except OSError as exc:
        raise InvalidInputError(f"no such file or folder: {source} ({exc.strerror})", field="path") from None
    if stat.S_ISLNK(mode):  # a link named explicitly is what the caller asked for: follow it, once
        try:
            mode = source.stat().st_mode
        except OSError as exc:
            raise InvalidInputError(f"{source} is a link to nothing ({exc.strerror})", field="path") from None
    if stat.S_ISREG(mode):
        return [source]
    if not stat.S_ISDIR(mode):
        raise InvalidInputError(f"{source} is not a regular file or a folder", field="path")
    found: list[Path] = []
    for root, dirs, files in os.walk(source, onerror=_walk_error):
        here = Path(root)
        kept = []
        for name in sorted(dirs):
            if name == "__pycache__":
                continue
            if (here / name).is_symlink():
                _log.warning("mltrail: skipped %s: a link to a folder (links are not followed)", here / name)
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            path = here / name
            try:
                mode = path.lstat().st_mode
            except OSError as exc:
                raise InvalidInputError(f"cannot read {path}: {exc.strerror}", field="path") from None
            if stat.S_ISLNK(mode):
                _log.warning("mltrail: skipped %s: a symbolic link (links are not followed)", path)
            elif not stat.S_ISREG(mode):
                _log.warning("mltrail: skipped %s: not a regular file", path)
            else:
                found.append(path)
    return found


def _walk_error(exc: OSError) -> None:
    raise InvalidInputError(f"cannot read {exc.filename}: {exc.strerror}", field="path") from None
