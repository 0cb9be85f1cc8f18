"""``RunReader``: reading runs, the same calls over the embedded store (``reader_embedded.py``) or a team
server (``reader_http.py``); ``Connection.runs`` hands one out.

Downloads are verified the same way on both sides: the bytes stream into a temporary file beside the
destination while their sha256 is computed, and only a file whose sha256 is the artifact's digest is renamed
into place; a mismatch raises ``IntegrityError`` and leaves nothing behind. Artifact paths are checked before
anything is asked (no ``..``, no absolute path: ``InvalidInputError``), and every path a listing returns is
checked again before it becomes a local file name, so a folder download cannot write outside ``dest``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from mltrail.entities import (
    Artifact,
    DatasetLink,
    MediaName,
    MetricHistory,
    Project,
    Run,
    RunMedia,
    RunPage,
    RunTable,
    TablePage,
)
from mltrail.errors import IntegrityError, InvalidInputError, NotFoundError, StoreError
from mltrail.services.tracking.validation import normalize_artifact_path

__all__ = [
    "Progress",
    "RunReader",
    "artifact_path",
    "download_artifacts",
    "plan_download",
    "verified_bytes",
    "write_verified",
]

# Called with the number of bytes just written, for progress bars.
Progress = Callable[[int], None]


class RunReader(Protocol):
    """Runs, their metrics, datasets and artifacts, wherever they live."""

    @property
    def where(self) -> str: ...

    def list_projects(self) -> list[Project]: ...

    def search(
        self,
        project: str,
        filter: str | None = None,
        sort: Sequence[str] = (),
        offset: int = 0,
        limit: int = 100,
    ) -> RunPage:
        """A page of ``project``'s runs; ``filter`` and ``sort`` in the filter language (docs/FILTERS.md)."""
        ...

    def get(self, ref: str, project: str | None = None) -> Run:
        """A run by id, unique id prefix (4+ characters) or unique name, optionally within ``project``."""
        ...

    def history(
        self,
        run_id: str,
        key: str,
        max_points: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> MetricHistory: ...

    def artifacts(self, run_id: str, prefix: str | None = None) -> list[Artifact]: ...

    def download(self, run_id: str, path: str, dest: str | Path, *, progress: Progress | None = None) -> Path:
        """The artifact ``path`` (a file, or every file under a folder path) into ``dest``: inside it under
        the artifact's base name when ``dest`` is an existing folder, else as ``dest`` itself. Verified;
        returns what was written (the file, or the folder)."""
        ...

    def read_artifact(self, run_id: str, path: str) -> bytes:
        """A small artifact's bytes, verified against its sha256."""
        ...

    def datasets(self, run_id: str) -> list[DatasetLink]: ...

    def delete(self, run_id: str) -> None: ...

    def tables(self, run_id: str) -> list[RunTable]:
        """The run's evaluation tables (without columns or figures)."""
        ...

    def table(self, run_id: str, name: str, step: int | None = None) -> RunTable:
        """One table with its columns and, for predictions, its figures; its last step by default."""
        ...

    def table_rows(
        self,
        run_id: str,
        name: str,
        *,
        step: int | None = None,
        filter: str | None = None,
        sort: Sequence[str] = (),
        offset: int = 0,
        limit: int = 50,
        columns: Sequence[str] | None = None,
    ) -> TablePage:
        """A page of the table's rows, filtered and sorted where the table lives."""
        ...

    def samples(self, run_a: str, run_b: str, table: str, **options: Any) -> dict[str, Any]:
        """Which samples of ``table`` got worse from run a to run b (``SampleService.compare``'s options:
        ``project``, ``step_a``, ``step_b``, ``offset``, ``limit``, ``slices``, ``bins``, ``min_rows``,
        ``pairs``, ``top``)."""
        ...

    def media(self, run_id: str) -> list[MediaName]:
        """The run's media names, each with its kind and steps."""
        ...

    def media_item(self, run_id: str, name: str, step: int | None = None) -> RunMedia:
        """One media item (its last step by default)."""
        ...

    def media_file(
        self, run_id: str, name: str, role: str, step: int | None = None
    ) -> tuple[RunMedia, bytes]:
        """The item and one of its files (``image``, ``mask``, ``svg``, ``png``, ``plotly``), checked against
        the sha256 the item records (``IntegrityError`` otherwise)."""
        ...


def artifact_path(path: str) -> str:
    """``path`` as a clean relative path inside the run, or ``InvalidInputError`` naming ``path``."""
    return normalize_artifact_path(path)


def verified_bytes(chunks: Iterable[bytes], digest: str, what: str) -> bytes:
    """Join ``chunks`` and check them against ``digest``."""
    data = b"".join(chunks)
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        raise IntegrityError(f"{what} arrived with sha256 {actual[:12]}…, but was stored as {digest[:12]}…")
    return data


def write_verified(
    chunks: Iterable[bytes], digest: str, target: Path, what: str, progress: Progress | None = None
) -> Path:
    """Stream ``chunks`` into a temporary file beside ``target``, check the sha256, rename into place.

    On a mismatch (``IntegrityError``) or any failure the temporary file is removed and ``target`` is left
    as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    hasher = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for chunk in chunks:
                hasher.update(chunk)
                out.write(chunk)
                if progress is not None:
                    progress(len(chunk))
        actual = hasher.hexdigest()
        if actual != digest:
            raise IntegrityError(
                f"{what} arrived with sha256 {actual[:12]}…, but was stored as {digest[:12]}…: "
                f"the stored copy is corrupt or was changed; {target} was not written"
            )
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"cannot write {target}: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def plan_download(
    run_id: str, path: str, dest: str | Path, listing: Callable[[str | None], list[Artifact]]
) -> tuple[Path, list[tuple[Artifact, Path]]]:
    """What a download of ``path`` writes where: ``(root written, [(artifact, local file)])``.

    ``listing(prefix)`` lists the run's artifacts under a prefix. A path naming no file and no folder is a
    ``NotFoundError``."""
    clean = artifact_path(path)
    target = Path(dest)
    exact = [a for a in listing(clean) if a.path == clean]
    if exact:
        out = target / Path(clean).name if target.is_dir() else target
        return out, [(exact[0], out)]
    under = [a for a in listing(clean + "/") if a.path.startswith(clean + "/")]
    if not under:
        raise NotFoundError(f"run {run_id} has no artifact or artifact folder {clean!r}")
    root = target / Path(clean).name if target.is_dir() else target
    plan = []
    for item in under:
        rel = artifact_path(item.path)  # a listing from a server is checked like user input
        if rel != item.path:
            raise InvalidInputError(f"the listing of {clean!r} returned {item.path!r}", field="path")
        plan.append((item, root / Path(*rel[len(clean) + 1 :].split("/"))))
    return root, plan


def download_artifacts(
    run_id: str,
    path: str,
    dest: str | Path,
    listing: Callable[[str | None], list[Artifact]],
    chunks: Callable[[Artifact], Iterable[bytes]],
    progress: Progress | None = None,
) -> Path:
    """``RunReader.download`` from a listing and a byte source: every file verified and renamed into place."""
    root, plan = plan_download(run_id, path, dest, listing)
    for artifact, out in plan:
        write_verified(chunks(artifact), artifact.digest, out, f"{artifact.path} of run {run_id}", progress)
    return root
