"""``/api/v1/runs/{run}/media``: images, histograms and figures of a run (a JSON item in, items and their
files out). Viewers read, members write, as for artifacts; files go out checked against their sha256, with
that sha256 in ``X-Content-SHA256``, and under a Content-Security-Policy that lets nothing run (an SVG
opened directly cannot run scripts or fetch anything)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from mltrail.api.access import RunMember, RunViewer
from mltrail.api.bodies import UPLOAD_ADVICE, read_body
from mltrail.api.deps import MaxUploadDep, from_state
from mltrail.api.tracking.artifacts import SHA256_HEADER
from mltrail.api.tracking.media_schemas import MediaNamePublic, MediaPagePublic, MediaPublic
from mltrail.errors import InvalidInputError
from mltrail.services.tracking.media import MAX_MEDIA_PAGE, MediaService

__all__ = ["router"]

router = APIRouter(prefix="/runs", tags=["media"])

# Served files are data, never documents: no script, no fetch, no frame; styles inline only (SVG needs them).
FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


MediaDep = Annotated[MediaService, from_state("media")]
StepQuery = Annotated[int | None, Query(ge=0, le=2**63 - 1, description="the item's step; default: its last")]


@router.get("/{run_id}/media")
def list_media(run_id: RunViewer, media: MediaDep) -> list[MediaNamePublic]:
    """The run's media names, each with its kind and steps."""
    return [MediaNamePublic.of(m) for m in media.list(run_id)]


@router.put(
    "/{run_id}/media/{name}",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {}}}},
)
async def log_media(
    run_id: RunMember,
    name: str,
    request: Request,
    media: MediaDep,
    max_bytes: MaxUploadDep,
    step: StepQuery = None,
) -> MediaPublic:
    """Store the body, ``{"kind", "meta", "files": {role: base64}}`` (docs/MEDIA.md), as ``name`` at ``step``
    (default: one past its last step). Images must be PNG or JPEG (checked from the bytes). Needs the member
    role."""
    body = await read_body(request, max_bytes, what="a media item", advice=UPLOAD_ADVICE, inflate=False)
    if not body:
        raise InvalidInputError("the body must be a JSON media item", field="body")
    logged = await run_in_threadpool(media.log, run_id, name, body, step=step)
    return MediaPublic.of(logged)


@router.get("/{run_id}/media/{name}")
def get_media(run_id: RunViewer, name: str, media: MediaDep, step: StepQuery = None) -> MediaPublic:
    """The item at ``step`` (default: the last), with its files' digests and its meta."""
    return MediaPublic.of(media.get(run_id, name, step))


@router.get("/{run_id}/media/{name}/steps")
def page_media(
    run_id: RunViewer,
    name: str,
    media: MediaDep,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=0, le=MAX_MEDIA_PAGE)] = 50,
) -> MediaPagePublic:
    """A page of the name's items by step."""
    items, total = media.page(run_id, name, offset=offset, limit=limit)
    return MediaPagePublic(items=[MediaPublic.of(i) for i in items], total=total, offset=offset, limit=limit)


@router.get("/{run_id}/media/{name}/files/{role}", response_class=Response, responses={304: {}})
def media_file(
    run_id: RunViewer,
    name: str,
    role: str,
    media: MediaDep,
    step: StepQuery = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """One file of the item (``image``, ``mask``, ``svg``, ``png``, ``plotly``), checked against its sha256
    first; the sha256 is in ``X-Content-SHA256`` and ``ETag``. A step logged again replaces its item, so
    browsers revalidate (``no-cache``): an unchanged file is a 304 without its bytes."""
    headers = {
        "Content-Security-Policy": FILE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
    }
    if if_none_match is not None:
        item = media.get(run_id, name, step)
        known = item.file(role)
        if known is not None and f'"{known.digest}"' in [t.strip() for t in if_none_match.split(",")]:
            headers |= {SHA256_HEADER: known.digest, "ETag": f'"{known.digest}"'}
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    found, data = media.read(run_id, name, role, step)
    headers |= {SHA256_HEADER: found.digest, "ETag": f'"{found.digest}"'}
    return Response(content=data, media_type=found.mime, headers=headers)
