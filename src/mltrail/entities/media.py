"""Rich media of runs (issue 17): images (with boxes and masks), histograms and figures, each at a step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MEDIA_KINDS", "MEDIA_ROLES", "MediaFile", "MediaName", "RunMedia"]

# "image": a PNG or JPEG (role "image"), optionally a class mask (role "mask", a PNG of class numbers);
# "histogram": counts and edges in ``meta``, no file; "figure": matplotlib as SVG ("svg") and PNG ("png"),
# plotly as its JSON ("plotly").
MEDIA_KINDS = ("image", "histogram", "figure")
MEDIA_ROLES = ("image", "mask", "svg", "png", "plotly")


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One blob of a media item: its role, sha256, size and content type."""

    role: str
    digest: str
    size: int
    mime: str


@dataclass(frozen=True, slots=True)
class RunMedia:
    """A media item a run logged as ``name`` at ``step``.

    ``meta`` holds what is not a blob: an image's width, height, format, caption, boxes and mask labels; a
    histogram's counts and edges; a figure's library.
    """

    run_id: str
    name: str
    step: int
    kind: str
    files: list[MediaFile]
    meta: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0

    def file(self, role: str) -> MediaFile | None:
        return next((f for f in self.files if f.role == role), None)


@dataclass(frozen=True, slots=True)
class MediaName:
    """A name a run logged media under: its kind and the steps it has (ascending)."""

    name: str
    kind: str
    steps: list[int]
