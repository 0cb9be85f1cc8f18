"""Checks and normalizations of user-supplied keys, values and artifact paths, shared by every service."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from mltrail.entities import Value
from mltrail.errors import InvalidInputError

__all__ = [
    "DATASET_ROLES",
    "MAX_KEY_LENGTH",
    "flatten_config",
    "metric_float",
    "normalize_artifact_path",
    "to_value",
    "validate_key",
]

MAX_KEY_LENGTH = 250
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # what the check looks for: ord < 32 or 127 (DEL)
DATASET_ROLES = ("train", "validation", "test", "other")


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
    return key


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
