"""``/api/v1/models/{name}/versions``: register from a run, resolve, cards, verified downloads, stages."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from mltrail.api.audit_log import record_integrity_error
from mltrail.api.deps import AuditDep
from mltrail.api.registry.access import Limit, Offset, RegistryAccessDep
from mltrail.api.registry.schemas import (
    ModelCardPublic,
    TransitionIn,
    TransitionPublic,
    VersionCreate,
    VersionPagePublic,
    VersionPatch,
    VersionPublic,
)
from mltrail.api.tracking.presigned import PRESIGN_DOC, etag_matches, presigned_response
from mltrail.api.tracking.schemas import INT64_MAX
from mltrail.entities import Role, Stage
from mltrail.errors import IntegrityError
from mltrail.services.tracking.validation import normalize_artifact_path

__all__ = ["SHA256_HEADER", "router"]

router = APIRouter(prefix="/models/{name}/versions", tags=["models"])
SHA256_HEADER = "X-Content-SHA256"
CHUNK = 1 << 20
VersionPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="the version number")]
Selector = Annotated[str, Path(description="a version number, an alias, or a stage (its newest version)")]


@router.get("")
def list_model_versions(
    name: str,
    ra: RegistryAccessDep,
    stage: Annotated[Stage | None, Query()] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> VersionPagePublic:
    """The model's versions, newest first (only those in ``stage`` when given)."""
    ra.model(name, Role.VIEWER)
    versions, total = ra.registry.list_versions(name, stage=stage, offset=offset, limit=limit)
    return VersionPagePublic(versions=[VersionPublic.of(v) for v in versions], total=total)


@router.post("", status_code=status.HTTP_201_CREATED)
def register_model_version(name: str, body: VersionCreate, ra: RegistryAccessDep) -> VersionPublic:
    """A new version from the model folder a run logged at ``path`` (saved with ``save_model``).

    Needs the member role on the run's project, and on the model's project if the model exists (they must
    be the same); a model that does not exist yet is created in the run's project.
    """
    ra.model_if_exists(name, Role.MEMBER)  # hidden: 404 here rather than a 400 naming its project
    ra.run(body.run_id, Role.MEMBER)
    version = ra.registry.register_version(
        name,
        run_id=body.run_id,
        source=body.path,
        principal=ra.actor(body.user),
        description=body.description,
        tags=body.tags,
        origin=ra.origin,
    )
    return VersionPublic.of(version)


@router.get("/{selector}")
def get_model_version(name: str, selector: Selector, ra: RegistryAccessDep) -> VersionPublic:
    """A version by number (``3``), alias (``champion``) or stage (``production``: the newest there)."""
    ra.model(name, Role.VIEWER)
    return VersionPublic.of(ra.version(name, selector))


@router.patch("/{version}")
def update_model_version(
    name: str, version: VersionPath, body: VersionPatch, ra: RegistryAccessDep
) -> VersionPublic:
    """Change the version's description or tags (merged; an empty tag value deletes the tag)."""
    ra.model(name, Role.MEMBER)
    updated = ra.registry.update_version(
        name,
        version,
        principal=ra.actor(body.user),
        description=body.description,
        tags=body.tags,
        origin=ra.origin,
    )
    return VersionPublic.of(updated)


@router.get("/{selector}/card")
def get_model_card(name: str, selector: Selector, ra: RegistryAccessDep) -> ModelCardPublic:
    """What a reviewer reads: descriptions, card text, flavor and signature, and the source run's lineage."""
    ra.model(name, Role.VIEWER)
    return ModelCardPublic.of(ra.registry.model_card(ra.version(name, selector)))


@router.post("/{version}/transitions")
def transition_model_version(
    name: str, version: VersionPath, body: TransitionIn, ra: RegistryAccessDep
) -> TransitionPublic:
    """Move the version to a stage or point an alias at it (exactly one of ``stage`` and ``alias``).

    An unprotected target is applied at once (``applied`` true); a protected one opens a request that
    waits for approval (``request``), its gates evaluated now (a failed gate: 409).
    """
    ra.model(name, Role.MEMBER)
    moved = ra.registry.transition(
        name,
        version,
        principal=ra.actor(body.user),
        stage=body.stage,
        alias=body.alias,
        comment=body.comment,
        origin=ra.origin,
    )
    return TransitionPublic.of(moved)


def _digest_of(stream: BinaryIO) -> str:
    hasher = hashlib.sha256()
    with stream:
        while chunk := stream.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def _verified_chunks(stream: BinaryIO, digest: str, size: int) -> Iterator[bytes]:
    """The file's bytes, hashed on the way; a mismatch at the end raises, which aborts the response
    before its last byte, so a client never gets a complete body that is not the pinned file."""
    hasher = hashlib.sha256()
    sent = 0
    with stream:
        while chunk := stream.read(CHUNK):
            hasher.update(chunk)
            sent += len(chunk)
            if sent > size:
                break
            yield chunk
    if sent != size or hasher.hexdigest() != digest:
        raise IntegrityError(f"blob {digest} changed while it was sent; the download was aborted")


@router.get(
    "/{selector}/files/{path:path}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}, "application/json": {"schema": {}}}},
        304: {},
    },
)
def download_model_file(
    name: str,
    selector: Selector,
    path: str,
    ra: RegistryAccessDep,
    audit: AuditDep,
    request: Request,
    if_none_match: Annotated[str | None, Header()] = None,
    presign: Annotated[bool, Query(description=PRESIGN_DOC)] = False,
) -> Response:
    """One file of the version, streamed, with its sha256 in ``ETag`` and ``X-Content-SHA256``.

    The file is checked against the sha256 the version pinned before anything is sent (a corrupt blob is a
    500 ``IntegrityError``) and again while it streams (a blob changed in between aborts the response).
    Every download is recorded in the registry's trail (``downloaded``); a 304 is not a download. With
    ``presign=true`` and a blob store that signs URLs, a presigned URL instead (``PresignedPublic``),
    recorded as a download too; the client checks the sha256.
    """
    ra.model(name, Role.VIEWER)
    version = ra.version(name, selector)
    file_path = normalize_artifact_path(path)
    if presign:
        size, digest, signed = ra.registry.file_url(version, file_path)
        if signed is not None and etag_matches(digest, if_none_match):
            headers = {"ETag": f'"{digest}"', SHA256_HEADER: digest}
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        if signed is not None:
            ra.registry.record_download(version, principal=ra.principal, origin=ra.origin, path=file_path)
            return presigned_response(signed, digest, size)
    size, digest, stream = ra.registry.open_file(version, file_path)
    etag = f'"{digest}"'
    headers = {"ETag": etag, SHA256_HEADER: digest}
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        stream.close()
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    actual = _digest_of(stream)
    if actual != digest:
        record_integrity_error(audit, request, ra.principal.name, version.run_id)
        raise IntegrityError(
            f"{version.ref} file {file_path!r} is corrupt: its blob hashes to {actual}, the version pinned"
            f" {digest}; nothing was sent"
        )
    _, _, stream = ra.registry.open_file(version, file_path)
    try:
        ra.registry.record_download(version, principal=ra.principal, origin=ra.origin, path=file_path)
    except BaseException:
        stream.close()
        raise
    headers["Content-Length"] = str(size)
    return StreamingResponse(
        _verified_chunks(stream, digest, size), headers=headers, media_type="application/octet-stream"
    )
