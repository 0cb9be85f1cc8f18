"""Saving a model into a folder and loading it back, with digests checked before anything is deserialized.

Loading runs in this order, and stops at the first failure: read ``mltrail-model.json`` (and compare its
sha256 with ``expected_digest`` when given) → check that the flavor and format are known and that the
format's ``executes_code`` (decided by mltrail's code, never by the file) agrees with the metadata →
refuse a code-executing format without ``trust=True`` → read every listed file and check its size and
sha256 → only then deserialize, from those same verified bytes.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from mltrail.errors import (
    ConflictError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    UntrustedModelError,
)
from mltrail.sdk.flavors.base import Flavor, Trust, qualified_name
from mltrail.sdk.flavors.detect import flavor_named, pick_flavor
from mltrail.sdk.flavors.example import write_example
from mltrail.sdk.flavors.loaded import LoadedModel
from mltrail.sdk.flavors.meta import META_FILE, FileEntry, ModelMeta
from mltrail.sdk.flavors.signature import Signature, infer_schema

__all__ = ["load_model", "save_model"]

_CHUNK = 1 << 20


def save_model(
    model: Any,
    folder: str | Path,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: Signature | None = None,
    format: str | None = None,
) -> ModelMeta:
    """Save ``model`` into ``folder`` (which must not exist, or be empty) and return its metadata."""
    chosen = pick_flavor(model, flavor)
    fmt = format if format is not None else chosen.default_format(model)
    if fmt not in chosen.formats:
        raise InvalidInputError(
            f"the {chosen.name} flavor has no format {fmt!r}; it has {list(chosen.formats)}", field="format"
        )
    if signature is not None and not isinstance(signature, Signature):
        raise InvalidInputError("signature must be a Signature (see infer_signature)", field="signature")
    target = Path(folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConflictError(f"cannot save a model into {target}: it exists and is not an empty folder")
    if signature is None and input_example is not None:
        signature = _infer_signature(chosen, model, input_example)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.saving-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        saved = chosen.save(model, staging, fmt)
        example = None if input_example is None else write_example(input_example, staging)
        names = [*saved.files, *([example] if example is not None else [])]
        meta = ModelMeta(
            flavor=chosen.name,
            format=fmt,
            executes_code=chosen.executes_code(fmt),
            model_class=qualified_name(model),
            files=tuple(_entry(staging, name) for name in names),
            info=dict(saved.info),
            libraries={"mltrail": _mltrail_version(), "numpy": np.__version__, **saved.libraries},
            signature=signature,
            input_example=example,
        )
        raw = meta.to_json()
        (staging / META_FILE).write_bytes(raw)  # last: a folder without it is not a model
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return meta.with_digest(hashlib.sha256(raw).hexdigest())


def load_model(
    folder: str | Path,
    *,
    trust: bool = False,
    trusted_types: Iterable[str] = (),
    check_signature: bool = False,
    expected_digest: str | None = None,
) -> LoadedModel:
    """Load a model saved by ``save_model``; see the module docstring for the order of the checks."""
    root = Path(folder)
    try:
        raw = (root / META_FILE).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise NotFoundError(f"no saved model in {root}: {META_FILE} is missing") from None
    digest = hashlib.sha256(raw).hexdigest()
    if expected_digest is not None and digest != expected_digest.lower():
        raise IntegrityError(
            f"{root / META_FILE} has sha256 {digest}, not the expected {expected_digest}: "
            "the model was changed after it was recorded; nothing was loaded"
        )
    meta = ModelMeta.from_json(raw)
    flavor = flavor_named(meta.flavor, field=META_FILE)
    if meta.format not in flavor.formats:
        raise InvalidInputError(f"the {flavor.name} flavor has no format {meta.format!r}", field=META_FILE)
    executes = flavor.executes_code(meta.format)
    if meta.executes_code != executes:
        raise IntegrityError(
            f"{root / META_FILE} says executes_code={meta.executes_code} for format {meta.format!r}, "
            f"which does{'' if executes else ' not'} execute code on load: the metadata was altered; "
            "nothing was loaded"
        )
    if executes and not trust:
        raise UntrustedModelError(_untrusted_message(root, meta), field="trust")
    if check_signature and meta.signature is None:
        raise InvalidInputError(
            "check_signature=True, but the model was saved without a signature", field="check_signature"
        )
    files = {entry.path: _verified_bytes(root, entry) for entry in meta.files}
    native = flavor.load(files, meta, Trust(all=trust, types=frozenset(trusted_types)))
    example = None if meta.input_example is None else files[meta.input_example]
    return LoadedModel(native, meta, flavor, check_signature=check_signature, example=example)


def _infer_signature(flavor: Flavor, model: Any, example: Any) -> Signature:
    inputs = infer_schema(example, field="input_example")
    runner = flavor.runnable(model)
    if runner is None:
        return Signature(inputs)
    try:
        prediction = flavor.predict(runner, example)
    except Exception as exc:
        raise InvalidInputError(
            f"the model's predict failed on the input example: {exc!r}", field="input_example"
        ) from exc
    try:
        outputs = infer_schema(prediction, field="output")
    except InvalidInputError:  # e.g. a scalar: no output schema, the input one still holds
        return Signature(inputs)
    return Signature(inputs, outputs)


def _entry(folder: Path, name: str) -> FileEntry:
    digest = hashlib.sha256()
    size = 0
    with (folder / name).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileEntry(name, digest.hexdigest(), size)


def _verified_bytes(root: Path, entry: FileEntry) -> bytes:
    path = root / entry.path
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise IntegrityError(f"{path} is listed in {META_FILE} but missing; nothing was loaded") from None
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != entry.size or digest != entry.sha256:
        raise IntegrityError(
            f"{path} has sha256 {digest} ({len(data)} bytes), but {META_FILE} records {entry.sha256} "
            f"({entry.size} bytes): the file was changed or damaged; nothing was loaded"
        )
    return data


def _untrusted_message(root: Path, meta: ModelMeta) -> str:
    return (
        f"the model in {root} ({meta.model_class}, {meta.flavor} flavor) is saved as {meta.format}, a "
        "format that executes code when it is loaded: unpickling calls whatever functions the file names, "
        "so a tampered or malicious file runs its own code on this machine. Load it only if you trust "
        "where it comes from: load_model(..., trust=True). To avoid the question, save models in a format "
        "that does not execute code: format='skops' for scikit-learn (the default), XGBoost's and "
        "LightGBM's native formats, or ONNX."
    )


def _mltrail_version() -> str:
    try:
        return importlib.metadata.version("mltrail")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
