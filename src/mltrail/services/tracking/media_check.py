"""What a media item may hold, checked the same way in the SDK (before anything is sent) and in the service
(whatever a client sent): the files of each kind, image sizes read from the bytes, boxes, mask labels,
histogram counts and edges. Also the one wire form of an item (``encode_bundle``/``decode_bundle``): a JSON
document with the files in base64, which the HTTP client sends and the journal keeps."""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import re
from collections.abc import Mapping
from typing import Any

import orjson

from mltrail.entities import MEDIA_KINDS, MEDIA_ROLES
from mltrail.errors import InvalidInputError
from mltrail.services.tracking.media_images import sniff_image

__all__ = [
    "MAX_BINS",
    "MAX_BOXES",
    "CheckedMedia",
    "check_media",
    "decode_bundle",
    "encode_bundle",
    "validate_media_name",
]

MAX_BOXES = 10_000
MAX_BINS = 10_000
MAX_TEXT = 2_000
_ROLES = {"image": ("image", "mask"), "histogram": (), "figure": ("svg", "png", "plotly")}
_LIBRARIES = ("matplotlib", "plotly")
_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,200}\Z")


def validate_media_name(name: Any) -> str:
    """A media name: as a table's, 1–200 letters, digits, '_', '.' or '-' (it is a segment of API paths)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            f"a media name is 1–200 letters, digits, '_', '.' or '-', got {name!r}", field="name"
        )
    return name


def encode_bundle(kind: str, files: Mapping[str, bytes], meta: Mapping[str, Any]) -> bytes:
    body = {
        "kind": kind,
        "meta": dict(meta),
        "files": {role: base64.b64encode(data).decode("ascii") for role, data in files.items()},
    }
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def decode_bundle(data: bytes) -> tuple[str, dict[str, bytes], dict[str, Any]]:
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"the body is not a JSON media item: {exc}", field="body") from exc
    if not isinstance(body, dict) or not isinstance(body.get("files", {}), dict):
        raise InvalidInputError("the body must be an object with kind, meta and files", field="body")
    meta = body.get("meta") or {}
    if not isinstance(meta, dict):
        raise InvalidInputError("meta must be an object", field="meta")
    files: dict[str, bytes] = {}
    for role, text in (body.get("files") or {}).items():
        if role not in MEDIA_ROLES or not isinstance(text, str):
            raise InvalidInputError(
                f"files: unknown role {role!r}; roles are {', '.join(MEDIA_ROLES)}", field="files"
            )
        try:
            files[role] = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInputError(f"files.{role} is not base64: {exc}", field=f"files.{role}") from exc
    return str(body.get("kind")), files, meta


class CheckedMedia:
    """An item as it will be kept: files with their content types, and ``meta`` rebuilt from checked parts
    (nothing a client sent is kept unchecked)."""

    def __init__(self, kind: str, files: dict[str, tuple[bytes, str]], meta: dict[str, Any]) -> None:
        self.kind = kind
        self.files = files
        self.meta = meta


def check_media(kind: str, files: Mapping[str, bytes], meta: Mapping[str, Any]) -> CheckedMedia:
    if kind not in MEDIA_KINDS:
        raise InvalidInputError(f"kind must be one of {', '.join(MEDIA_KINDS)}, got {kind!r}", field="kind")
    for role in files:
        if role not in _ROLES[kind]:
            allowed = ", ".join(_ROLES[kind]) or "none"
            raise InvalidInputError(f"a {kind} has no file {role!r} (files: {allowed})", field="files")
    caption = _caption(meta.get("caption"))
    if kind == "image":
        return _check_image(files, meta, caption)
    if kind == "histogram":
        counts, edges = check_histogram(meta.get("counts"), meta.get("edges"))
        return CheckedMedia(kind, {}, {"counts": counts, "edges": edges, "caption": caption})
    return _check_figure(files, meta, caption)


def _caption(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise InvalidInputError(f"caption must be text of at most {MAX_TEXT} characters", field="caption")
    return value


def _check_image(files: Mapping[str, bytes], meta: Mapping[str, Any], caption: str | None) -> CheckedMedia:
    if "image" not in files:
        raise InvalidInputError("an image needs its PNG or JPEG bytes", field="image")
    mime, width, height = sniff_image(files["image"], "image")
    kept: dict[str, tuple[bytes, str]] = {"image": (files["image"], mime)}
    out: dict[str, Any] = {"width": width, "height": height, "format": mime.split("/")[1], "caption": caption}
    out["boxes"] = check_boxes(meta.get("boxes"))
    labels = meta.get("mask_labels")
    if "mask" in files:
        mask_mime, mask_w, mask_h = sniff_image(files["mask"], "masks")
        if mask_mime != "image/png":
            raise InvalidInputError("masks must be a PNG of class numbers", field="masks")
        if (mask_w, mask_h) != (width, height):
            raise InvalidInputError(
                f"masks is {mask_w}×{mask_h} but the image is {width}×{height}; they must match",
                field="masks",
            )
        kept["mask"] = (files["mask"], "image/png")
        out["mask_labels"] = check_mask_labels(labels)
    elif labels:
        raise InvalidInputError("mask labels were given without a mask", field="masks")
    return CheckedMedia("image", kept, out)


def check_boxes(boxes: Any) -> list[dict[str, Any]]:
    """Boxes as ``{x, y, w, h, label, score?}`` in pixels from the top-left corner."""
    if boxes is None:
        return []
    if not isinstance(boxes, list | tuple) or len(boxes) > MAX_BOXES:
        raise InvalidInputError(f"boxes must be a list of at most {MAX_BOXES:,} boxes", field="boxes")
    clean = []
    for i, box in enumerate(boxes):
        if not isinstance(box, Mapping):
            raise InvalidInputError(f"boxes[{i}] must be a dict with x, y, w, h, label", field="boxes")
        item: dict[str, Any] = {}
        for key in ("x", "y", "w", "h"):
            value = _number(box.get(key), f"boxes[{i}].{key}")
            if key in ("w", "h") and value < 0:
                raise InvalidInputError(f"boxes[{i}].{key} must be ≥ 0", field="boxes")
            item[key] = value
        label = box.get("label", "")
        if not isinstance(label, str) or len(label) > 200:
            raise InvalidInputError(f"boxes[{i}].label must be text of at most 200 characters", field="boxes")
        item["label"] = label
        if box.get("score") is not None:
            item["score"] = _number(box["score"], f"boxes[{i}].score")
        unknown = set(box) - {"x", "y", "w", "h", "label", "score"}
        if unknown:
            raise InvalidInputError(f"boxes[{i}] has unknown keys {sorted(unknown)}", field="boxes")
        clean.append(item)
    return clean


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or (not isinstance(value, int | float) and not hasattr(value, "__float__")):
        raise InvalidInputError(f"{where} must be a number, got {value!r}", field="boxes")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInputError(f"{where} must be finite, got {number}", field="boxes")
    return number


def check_mask_labels(labels: Any) -> dict[str, str]:
    """Class number → label, kept with the numbers as text keys."""
    if labels is None:
        return {}
    if not isinstance(labels, Mapping) or len(labels) > 65_536:
        raise InvalidInputError("mask labels must be a dict of class number → label", field="masks")
    clean: dict[str, str] = {}
    for key, value in labels.items():
        try:
            number = int(key)
        except (TypeError, ValueError):
            raise InvalidInputError(f"mask label key {key!r} is not a class number", field="masks") from None
        if not 0 <= number < 65_536 or not isinstance(value, str) or len(value) > 200:
            raise InvalidInputError(f"mask label {key!r}: a class 0..65535 and a short text", field="masks")
        clean[str(number)] = value
    return clean


def check_histogram(counts: Any, edges: Any) -> tuple[list[float], list[float]]:
    """Counts (finite, ≥ 0) and one more edge than counts (finite, increasing)."""
    if not isinstance(counts, list | tuple) or not 0 < len(counts) <= MAX_BINS:
        raise InvalidInputError(f"counts must be a list of 1 to {MAX_BINS:,} numbers", field="counts")
    if not isinstance(edges, list | tuple) or len(edges) != len(counts) + 1:
        raise InvalidInputError("edges must have one more value than counts", field="edges")
    clean_counts = []
    for c in counts:
        if isinstance(c, bool) or not isinstance(c, int | float) or not math.isfinite(c) or c < 0:
            raise InvalidInputError(f"counts must be finite numbers ≥ 0, got {c!r}", field="counts")
        clean_counts.append(c)
    clean_edges = []
    for e in edges:
        if isinstance(e, bool) or not isinstance(e, int | float) or not math.isfinite(e):
            raise InvalidInputError(f"edges must be finite numbers, got {e!r}", field="edges")
        clean_edges.append(float(e))
    if any(b <= a for a, b in itertools.pairwise(clean_edges)):
        raise InvalidInputError("edges must increase", field="edges")
    return clean_counts, clean_edges


def _check_figure(files: Mapping[str, bytes], meta: Mapping[str, Any], caption: str | None) -> CheckedMedia:
    if not files:
        raise InvalidInputError("a figure needs an SVG, a PNG or plotly JSON", field="figure")
    kept: dict[str, tuple[bytes, str]] = {}
    if "svg" in files:
        head = files["svg"][:4096].lstrip()
        if not (head.startswith((b"<?xml", b"<svg", b"<!DOCTYPE svg")) and b"<svg" in files["svg"]):
            raise InvalidInputError("the figure's svg is not an SVG document", field="figure")
        kept["svg"] = (files["svg"], "image/svg+xml")
    if "png" in files:
        mime, _, _ = sniff_image(files["png"], "figure")
        if mime != "image/png":
            raise InvalidInputError("the figure's png is not a PNG", field="figure")
        kept["png"] = (files["png"], "image/png")
    if "plotly" in files:
        try:
            spec = orjson.loads(files["plotly"])
        except orjson.JSONDecodeError as exc:
            raise InvalidInputError(
                f"the figure's plotly JSON cannot be read: {exc}", field="figure"
            ) from exc
        if not isinstance(spec, dict) or not isinstance(spec.get("data", []), list):
            raise InvalidInputError(
                "the figure's plotly JSON must be an object with a data list", field="figure"
            )
        kept["plotly"] = (files["plotly"], "application/json")
    library = meta.get("library")
    if library is not None and library not in _LIBRARIES:
        raise InvalidInputError(f"library must be one of {', '.join(_LIBRARIES)}", field="library")
    return CheckedMedia("figure", kept, {"library": library, "caption": caption})
