"""Schemas of ``/api/v1/runs/{run}/media``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from mltrail.entities import MediaName, RunMedia

__all__ = ["MediaFilePublic", "MediaNamePublic", "MediaPagePublic", "MediaPublic"]


class MediaNamePublic(BaseModel):
    """A name the run logged media under, its kind and steps (ascending)."""

    name: str
    kind: str
    steps: list[int]

    @classmethod
    def of(cls, m: MediaName) -> MediaNamePublic:
        return cls(name=m.name, kind=m.kind, steps=list(m.steps))


class MediaFilePublic(BaseModel):
    """A file of an item: fetch it from ``…/media/{name}/files/{role}?step=``; check it against ``digest``."""

    role: str
    digest: str
    size: int
    mime: str


class MediaPublic(BaseModel):
    """A media item: ``meta`` has an image's width, height, format, caption, boxes and mask labels, a
    histogram's counts and edges, a figure's library."""

    run_id: str
    name: str
    step: int
    kind: str
    files: list[MediaFilePublic]
    meta: dict[str, Any]
    created_at: float

    @classmethod
    def of(cls, m: RunMedia) -> MediaPublic:
        files = [MediaFilePublic(role=f.role, digest=f.digest, size=f.size, mime=f.mime) for f in m.files]
        return cls(
            run_id=m.run_id,
            name=m.name,
            step=m.step,
            kind=m.kind,
            files=files,
            meta=m.meta,
            created_at=m.created_at,
        )


class MediaPagePublic(BaseModel):
    items: list[MediaPublic]
    total: int
    offset: int
    limit: int
