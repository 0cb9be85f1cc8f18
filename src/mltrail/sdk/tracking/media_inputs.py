"""What ``run.log_image``, ``log_histogram`` and ``log_figure`` accept, turned into a media item's files and
meta: matplotlib and plotly are recognized by their classes' modules and only used when a figure of theirs
is passed (neither is ever imported here otherwise)."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

from mltrail.errors import InvalidInputError
from mltrail.services.tracking.media_images import image_bytes, mask_bytes

__all__ = ["figure_files", "histogram_meta", "image_files"]

DEFAULT_BINS = 64


def image_files(
    image: Any, boxes: Any, masks: Any, caption: str | None
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """``masks``: an H×W array of class numbers, ``(array, labels)`` or ``{"mask": array, "labels": {…}}``
    with labels a dict class number → name."""
    files = {"image": image_bytes(image, "image")}
    meta: dict[str, Any] = {"caption": caption, "boxes": list(boxes) if boxes is not None else None}
    if masks is not None:
        labels: Any = None
        if isinstance(masks, Mapping):
            mask, labels = masks.get("mask"), masks.get("labels")
        elif isinstance(masks, tuple) and len(masks) == 2:
            mask, labels = masks
        else:
            mask = masks
        files["mask"] = mask_bytes(mask, "masks")
        meta["mask_labels"] = {str(k): str(v) for k, v in (labels or {}).items()}
    return files, meta


def histogram_meta(values: Any, bins: int = DEFAULT_BINS) -> dict[str, Any]:
    """Values (any array-like of numbers; NaN and ±inf are left out) or ``(counts, edges)``."""
    import numpy as np

    from mltrail.services.tracking.media_check import MAX_BINS

    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= MAX_BINS:
        raise InvalidInputError(f"bins must be an integer from 1 to {MAX_BINS:,}, got {bins!r}", field="bins")
    if isinstance(values, tuple) and len(values) == 2 and all(np.ndim(v) == 1 for v in values):
        try:
            counts = np.asarray(values[0], dtype=np.float64)
            edges = np.asarray(values[1], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"(counts, edges) must be numbers: {exc}", field="counts") from exc
        return {"counts": _plain(counts), "edges": edges.tolist()}
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"values must be numbers or (counts, edges): {exc}", field="values") from exc
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        raise InvalidInputError("values hold no finite number", field="values")
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(finite, bins=bins, range=(low, high))
    return {"counts": counts.tolist(), "edges": edges.tolist()}


def _plain(counts: Any) -> list[float | int]:
    """Whole counts as ints; NaN and ±inf stay floats (and are refused by the check, naming counts)."""
    return [int(c) if math.isfinite(c) and float(c).is_integer() else float(c) for c in counts.tolist()]


def _from_module(obj: Any, prefix: str) -> bool:
    return any(cls.__module__.split(".")[0] == prefix for cls in type(obj).__mro__)


def figure_files(fig: Any) -> tuple[dict[str, bytes], dict[str, Any]]:
    """A matplotlib figure (or axes) as SVG and PNG; a plotly figure (or its dict) as plotly JSON."""
    if _from_module(fig, "matplotlib"):
        figure = fig.figure if hasattr(fig, "get_figure") and not hasattr(fig, "savefig") else fig
        svg, png = io.BytesIO(), io.BytesIO()
        # No date in the SVG, so the same figure gives the same bytes (and the same blob).
        figure.savefig(svg, format="svg", metadata={"Date": None}, bbox_inches="tight")
        figure.savefig(png, format="png", dpi=100, bbox_inches="tight")
        return {"svg": svg.getvalue(), "png": png.getvalue()}, {"library": "matplotlib"}
    if _from_module(fig, "plotly") and hasattr(fig, "to_json"):
        return {"plotly": fig.to_json().encode("utf-8")}, {"library": "plotly"}
    if isinstance(fig, Mapping) and isinstance(fig.get("data"), list):
        import orjson

        return {"plotly": orjson.dumps(dict(fig), option=orjson.OPT_SERIALIZE_NUMPY)}, {"library": "plotly"}
    raise InvalidInputError(
        f"fig must be a matplotlib figure or a plotly figure, got {type(fig).__name__}", field="fig"
    )
