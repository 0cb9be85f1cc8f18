"""``POST /runs/{run}/artifact-uploads``: a large artifact written by the client straight to the object store.

The client sends the file's path, sha256 and size. The answer holds the artifact when the blob store has
that blob intact (stored already: nothing to send), else a presigned PUT (S3 checks the body against the
sha256); the client writes the object, then asks again, and the artifact is recorded once the store holds
it intact. A blob store that signs no URLs answers neither, and the client sends the bytes through
``PUT /runs/{run}/artifacts/{path}`` as always.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from mltrail.api.access import RunMember
from mltrail.api.deps import ArtifactsDep, MaxUploadDep
from mltrail.api.errors import UploadTooLargeError
from mltrail.api.tracking.schemas import INT64_MAX, ArtifactPublic, _In, _Out
from mltrail.entities import Artifact

__all__ = ["router"]

router = APIRouter(prefix="/runs/{run_id}/artifact-uploads", tags=["artifacts"])


class UploadIn(_In):
    path: Annotated[str, Field(min_length=1, max_length=1024)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    size: Annotated[int, Field(ge=0, le=INT64_MAX)]


class SignedUploadPublic(_Out):
    """``PUT`` the file's bytes to ``url`` with ``headers`` (and its Content-Length) within ``expires_in``
    seconds, then post the same body again."""

    url: str
    method: str = "PUT"
    headers: dict[str, str]
    expires_in: int


class UploadPublic(_Out):
    artifact: ArtifactPublic | None
    upload: SignedUploadPublic | None


@router.post("")
def begin_artifact_upload(
    run_id: RunMember, body: UploadIn, artifacts: ArtifactsDep, max_bytes: MaxUploadDep
) -> UploadPublic:
    """The artifact when the blob is stored intact, else where to write it (member role)."""
    if max_bytes is not None and body.size > max_bytes:
        raise UploadTooLargeError(f"the upload is larger than {max_bytes} bytes", field="size")
    outcome = artifacts.begin_upload(run_id, body.path, body.sha256, body.size)
    if outcome is None:
        return UploadPublic(artifact=None, upload=None)
    if isinstance(outcome, Artifact):
        return UploadPublic(artifact=ArtifactPublic.of(outcome), upload=None)
    signed = SignedUploadPublic(url=outcome.url, headers=outcome.headers, expires_in=outcome.expires_in)
    return UploadPublic(artifact=None, upload=signed)
