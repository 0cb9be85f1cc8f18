"""``mltrail-model.json``: what a saved model folder holds, and the digests that pin its files.

The file is written last when a model is saved, so a folder without it is not a model. Its own sha256 is
the model's ``digest``: it pins every file through the list it holds, so a registry that records the
digest can detect any later change of any file, the metadata included.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from mltrail.errors import InvalidInputError
from mltrail.model_meta import META_FILE, META_VERSION, FileEntry, check_relative_path, parse_meta
from mltrail.sdk.flavors.signature import Signature

__all__ = ["META_FILE", "META_VERSION", "FileEntry", "ModelMeta", "check_relative_path"]


@dataclass(frozen=True)
class ModelMeta:
    """The content of ``mltrail-model.json``, plus ``digest`` (the sha256 of that file, not stored in it)."""

    flavor: str
    format: str
    executes_code: bool
    model_class: str
    files: tuple[FileEntry, ...]
    info: Mapping[str, Any] = field(default_factory=dict)
    libraries: Mapping[str, str] = field(default_factory=dict)
    python_version: str = field(default_factory=platform.python_version)
    signature: Signature | None = None
    input_example: str | None = None
    digest: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "mltrail_model_version": META_VERSION,
            "flavor": self.flavor,
            "format": self.format,
            "executes_code": self.executes_code,
            "model_class": self.model_class,
            "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in self.files],
            "info": dict(self.info),
            "libraries": dict(self.libraries),
            "python_version": self.python_version,
            "signature": None if self.signature is None else self.signature.to_dict(),
            "input_example": self.input_example,
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, raw: bytes) -> ModelMeta:
        """Parse and validate the file's bytes (``mltrail.model_meta``); ``digest`` is their sha256."""
        doc = parse_meta(raw)
        try:
            signature = None if doc.signature is None else Signature.from_dict(doc.signature)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"{META_FILE} is malformed: {exc!r}", field=META_FILE) from exc
        return cls(
            flavor=doc.flavor,
            format=doc.format,
            executes_code=doc.executes_code,
            model_class=doc.model_class,
            files=doc.files,
            info=doc.info,
            libraries=doc.libraries,
            python_version=doc.python_version,
            signature=signature,
            input_example=doc.input_example,
            digest=doc.digest,
        )

    def with_digest(self, digest: str) -> ModelMeta:
        return replace(self, digest=digest)
