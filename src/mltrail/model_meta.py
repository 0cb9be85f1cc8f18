"""``mltrail-model.json``, the one reader of its format: what a saved model folder holds and the digests that
pin its files. The SDK's flavors write and load it (``sdk/flavors/meta.py``), the registry checks a folder
against it when a version is registered (``services/registry/checks.py``); both read it here.

The file is written last when a model is saved, so a folder without it is not a model. Its own sha256 is
the model's ``digest``: it pins every file through the list it holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import orjson

from mltrail.errors import InvalidInputError

__all__ = ["META_FILE", "META_VERSION", "FileEntry", "MetaDocument", "check_relative_path", "parse_meta"]

META_FILE = "mltrail-model.json"
META_VERSION = 1


@dataclass(frozen=True)
class FileEntry:
    """One file of a saved model: its path inside the folder, sha256 and size in bytes."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class MetaDocument:
    """The content as read and checked: ``signature`` in its JSON form, ``digest`` the file's sha256."""

    flavor: str
    format: str
    executes_code: bool
    model_class: str
    files: tuple[FileEntry, ...]
    info: dict[str, Any] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=dict)
    python_version: str = ""
    signature: dict[str, Any] | None = None
    input_example: str | None = None
    digest: str = ""


def parse_meta(raw: bytes) -> MetaDocument:
    """Parse and validate the file's bytes (``InvalidInputError`` naming ``mltrail-model.json``)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"{META_FILE} is not valid JSON: {exc}", field=META_FILE) from exc
    if not isinstance(data, dict):
        raise InvalidInputError(f"{META_FILE} must hold a JSON object", field=META_FILE)
    version = data.get("mltrail_model_version")
    if not isinstance(version, int) or version > META_VERSION:
        raise InvalidInputError(
            f"{META_FILE} has format version {version!r}; this mltrail reads up to {META_VERSION} "
            "(upgrade mltrail to load this model)",
            field=META_FILE,
        )
    try:
        files = tuple(_file_entry(f) for f in data["files"])
        signature = data.get("signature")
        doc = MetaDocument(
            flavor=_str(data["flavor"]),
            format=_str(data["format"]),
            executes_code=_bool(data["executes_code"]),
            model_class=_str(data["model_class"]),
            files=files,
            info=_dict(data.get("info", {})),
            libraries={_str(k): _str(v) for k, v in _dict(data.get("libraries", {})).items()},
            python_version=_str(data.get("python_version", "")),
            signature=None if signature is None else _dict(signature),
            input_example=None if data.get("input_example") is None else _str(data["input_example"]),
            digest=hashlib.sha256(raw).hexdigest(),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"{META_FILE} is malformed: {exc!r}", field=META_FILE) from exc
    paths = [f.path for f in files]
    if len(set(paths)) != len(paths):
        raise InvalidInputError(f"{META_FILE} lists a file twice", field=META_FILE)
    if doc.input_example is not None and doc.input_example not in paths:
        raise InvalidInputError(f"{META_FILE}: the input example is not a listed file", field=META_FILE)
    return doc


def check_relative_path(path: str) -> str:
    """``path`` if it is a plain relative path inside the folder (no ``..``, no absolute, no backslash)."""
    pure = PurePosixPath(path)
    if (
        not path
        or "\\" in path
        or "\x00" in path
        or pure.is_absolute()
        or any(part in ("..", ".", "") for part in path.split("/"))
        or path == META_FILE
    ):
        raise InvalidInputError(f"{META_FILE} lists an unsafe file path {path!r}", field=META_FILE)
    return path


def _file_entry(data: Any) -> FileEntry:
    sha, size = data["sha256"], data["size"]
    if not isinstance(sha, str) or len(sha) != 64 or not isinstance(size, int) or size < 0:
        raise ValueError(f"bad file entry {data!r}")
    return FileEntry(check_relative_path(_str(data["path"])), sha, size)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {value!r}")
    return value
