"""Rich media of runs (images with boxes and masks, histograms, figures): checked, their files kept as
content-addressed blobs, listed by name and step, and read back verified against their sha256."""

from __future__ import annotations

import builtins
import hashlib
import io
from typing import TYPE_CHECKING

from mltrail.entities import MediaFile, MediaName, RunMedia
from mltrail.errors import IntegrityError, InvalidInputError, NotFoundError
from mltrail.services.tracking.media_check import check_media, decode_bundle, validate_media_name

if TYPE_CHECKING:
    from mltrail.store.blobs import BlobStore
    from mltrail.store.media import MediaStore
    from mltrail.store.tracking import TrackingStore

__all__ = ["MAX_MEDIA_PAGE", "MediaService"]

MAX_MEDIA_PAGE = 500


class MediaService:
    """Media of runs over the media store and the blob store."""

    def __init__(self, store: MediaStore, blobs: BlobStore, runs: TrackingStore) -> None:
        self.store = store
        self.blobs = blobs
        self.runs = runs

    def log(self, run_id: str, name: str, bundle: bytes, *, step: int | None = None) -> RunMedia:
        """Record the media item ``bundle`` (``media_check.encode_bundle``) as ``name`` at ``step`` (default:
        one past the name's last step). Bad input is an ``InvalidInputError`` naming the field; nothing is
        kept then."""
        validate_media_name(name)
        if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 0):
            raise InvalidInputError(f"step must be an integer ≥ 0, got {step!r}", field="step")
        kind, files, meta = decode_bundle(bundle)
        checked = check_media(kind, files, meta)
        self.runs.get_run_status(run_id)  # no blob for a missing run
        stored = []
        for role, (data, mime) in checked.files.items():
            digest, size = self.blobs.put_stream(io.BytesIO(data))
            stored.append(MediaFile(role, digest, size, mime))
        return self.store.add_run_media(
            run_id, name, step, kind=checked.kind, files=stored, meta=checked.meta
        )

    def list(self, run_id: str) -> list[MediaName]:
        return self.store.list_run_media(run_id)

    def get(self, run_id: str, name: str, step: int | None = None) -> RunMedia:
        return self.store.get_run_media(run_id, name, step)

    def page(
        self, run_id: str, name: str, *, offset: int = 0, limit: int = 50
    ) -> tuple[builtins.list[RunMedia], int]:
        if offset < 0:
            raise InvalidInputError("offset must be ≥ 0", field="offset")
        if not 0 <= limit <= MAX_MEDIA_PAGE:
            raise InvalidInputError(f"limit must be between 0 and {MAX_MEDIA_PAGE}", field="limit")
        return self.store.page_run_media(run_id, name, offset=offset, limit=limit)

    def read(self, run_id: str, name: str, role: str, step: int | None = None) -> tuple[MediaFile, bytes]:
        """One file of the item, checked against its sha256 before it is handed out."""
        item = self.get(run_id, name, step)
        found = item.file(role)
        if found is None:
            roles = ", ".join(f.role for f in item.files) or "none"
            raise NotFoundError(f"media {name!r} at step {item.step} has no {role!r} file (it has: {roles})")
        with self.blobs.open(found.digest) as stream:
            data = stream.read()
        if hashlib.sha256(data).hexdigest() != found.digest:
            raise IntegrityError(
                f"the {role} of media {name!r} of run {run_id} does not match its recorded sha256: "
                "the blob store was changed"
            )
        return found, data
