"""``HttpRunReader``: reading runs from a team server through ``/api/v1`` and the shared ``HttpTransport``.

Every ``/runs/{ref}/…`` route resolves a reference (id, unique prefix, unique name) itself, so references
are passed through as they are; artifact paths are checked here first, so a path outside the run is refused
without a request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

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
from mltrail.errors import IntegrityError, NotFoundError
from mltrail.sdk.http_codec import (
    artifact_from_json,
    dataset_from_json,
    decode_float,
    media_name_from_json,
    run_from_json,
    run_media_from_json,
    run_table_from_json,
    table_page_from_json,
)
from mltrail.sdk.presigned import PRESIGN_PARAMS, is_presigned, presigned_chunks
from mltrail.sdk.tracking.http import SHA256_HEADER, HttpTransport
from mltrail.sdk.tracking.reader import Progress, artifact_path, download_artifacts, verified_bytes

__all__ = ["HttpRunReader", "history_from_json", "project_from_json"]

CHUNK = 1 << 20


def _run_url(ref: str, suffix: str = "") -> str:
    return f"/runs/{quote(ref, safe='')}{suffix}"


def _artifact_url(run_id: str, path: str) -> str:
    return _run_url(run_id, "/artifacts/" + "/".join(quote(p, safe="") for p in path.split("/")))


def project_from_json(data: Mapping[str, Any]) -> Project:
    last = data.get("last_run_at")
    return Project(
        id=int(data["id"]),
        name=str(data["name"]),
        created_at=float(data["created_at"]),
        run_count=int(data.get("run_count") or 0),
        last_run_at=None if last is None else float(last),
    )


def history_from_json(data: Mapping[str, Any]) -> MetricHistory:
    return MetricHistory(
        run_id=str(data["run_id"]),
        key=str(data["key"]),
        steps=[int(s) for s in data["steps"]],
        values=[decode_float(v) for v in data["values"]],
        wall_times=[decode_float(w) for w in data["wall_times"]],
        total_points=int(data["total_points"]),
        downsampled=bool(data["downsampled"]),
    )


def _link_from_json(data: Mapping[str, Any]) -> DatasetLink:
    return DatasetLink(run_id=data["run_id"], role=data["role"], dataset=dataset_from_json(data["dataset"]))


class HttpRunReader:
    """``RunReader`` over a team server: what the API key's user may see (a hidden run is a missing one)."""

    def __init__(self, http: HttpTransport) -> None:
        self.http = http

    @property
    def where(self) -> str:
        return f"the mltrail server at {self.http.base_url}"

    def list_projects(self) -> list[Project]:
        return [project_from_json(p) for p in self.http._json("GET", "/projects")]

    def search(
        self,
        project: str,
        filter: str | None = None,
        sort: Sequence[str] = (),
        offset: int = 0,
        limit: int = 100,
    ) -> RunPage:
        params: list[tuple[str, str | int]] = [("project", project), ("offset", offset), ("limit", limit)]
        if filter:
            params.append(("filter", filter))
        params.extend(("sort", s) for s in sort)
        data = self.http._json("GET", "/runs", params=params)
        return RunPage(
            runs=[run_from_json(r) for r in data["runs"]],
            total=int(data["total"]),
            offset=int(data["offset"]),
            limit=int(data["limit"]),
        )

    def get(self, ref: str, project: str | None = None) -> Run:
        params = {"project": project} if project else None
        return run_from_json(self.http._json("GET", _run_url(ref.strip()), params=params))

    def history(
        self,
        run_id: str,
        key: str,
        max_points: int | None = None,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> MetricHistory:
        given = {"key": key, "max_points": max_points, "min_step": min_step, "max_step": max_step}
        params = {k: v for k, v in given.items() if v is not None}
        return history_from_json(self.http._json("GET", _run_url(run_id, "/metrics/history"), params=params))

    def artifacts(self, run_id: str, prefix: str | None = None) -> list[Artifact]:
        params = {"prefix": artifact_path(prefix)} if prefix else None
        found = self.http._json("GET", _run_url(run_id, "/artifacts"), params=params)
        return [artifact_from_json(a) for a in found]

    def _chunks(self, run_id: str, path: str, digest: str) -> Iterator[bytes]:
        """The artifact's bytes from the server, or from its object store when the server hands out a
        presigned URL; the caller checks them against ``digest``."""
        with self.http.stream(_artifact_url(run_id, path), params=PRESIGN_PARAMS) as response:
            if not is_presigned(response):
                yield from response.iter_bytes(CHUNK)
                return
            link = response.read()
        yield from presigned_chunks(orjson.loads(link), digest, f"{path} of run {run_id}")

    def download(self, run_id: str, path: str, dest: str | Path, *, progress: Progress | None = None) -> Path:
        artifact_path(path)  # refused before anything is asked
        run_id = self.get(run_id).id  # one resolution, so every file comes from the same run
        return download_artifacts(
            run_id,
            path,
            dest,
            lambda prefix: self.artifacts(run_id, prefix),
            lambda artifact: self._chunks(run_id, artifact.path, artifact.digest),
            progress,
        )

    def read_artifact(self, run_id: str, path: str) -> bytes:
        clean = artifact_path(path)
        what = f"{clean} of run {run_id}"
        with self.http.stream(_artifact_url(run_id, clean), params=PRESIGN_PARAMS) as response:
            digest = response.headers.get(SHA256_HEADER, "")
            if not is_presigned(response):
                return verified_bytes(response.iter_bytes(CHUNK), digest, what)
            link = response.read()
        return verified_bytes(presigned_chunks(orjson.loads(link), digest, what), digest, what)

    def datasets(self, run_id: str) -> list[DatasetLink]:
        return [_link_from_json(d) for d in self.http._json("GET", _run_url(run_id, "/datasets"))]

    def delete(self, run_id: str) -> None:
        self.http._request("DELETE", _run_url(run_id))

    def tables(self, run_id: str) -> list[RunTable]:
        return [run_table_from_json(t) for t in self.http._json("GET", _run_url(run_id, "/tables"))]

    def table(self, run_id: str, name: str, step: int | None = None) -> RunTable:
        params = None if step is None else {"step": step}
        url = _run_url(run_id, "/tables/" + quote(name, safe=""))
        return run_table_from_json(self.http._json("GET", url, params=params))

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
        params: list[tuple[str, str | int]] = [("offset", offset), ("limit", limit)]
        if step is not None:
            params.append(("step", step))
        if filter:
            params.append(("filter", filter))
        params.extend(("sort", s) for s in sort)
        params.extend(("columns", c) for c in columns or ())
        url = _run_url(run_id, "/tables/" + quote(name, safe="") + "/rows")
        return table_page_from_json(self.http._json("GET", url, params=params))

    def samples(self, run_a: str, run_b: str, table: str, **options: Any) -> dict[str, Any]:
        params: list[tuple[str, str | int]] = [("a", run_a), ("b", run_b), ("table", table)]
        for key, value in options.items():
            if value is None:
                continue
            if key == "slices":
                params.extend(("slices", s) for s in value)
            elif isinstance(value, bool):
                params.append((key, "true" if value else "false"))
            else:
                params.append((key, value))
        found: dict[str, Any] = self.http._json("GET", "/samples", params=params)
        return found

    def media(self, run_id: str) -> list[MediaName]:
        return [media_name_from_json(m) for m in self.http._json("GET", _run_url(run_id, "/media"))]

    def media_item(self, run_id: str, name: str, step: int | None = None) -> RunMedia:
        params = None if step is None else {"step": step}
        url = _run_url(run_id, "/media/" + quote(name, safe=""))
        return run_media_from_json(self.http._json("GET", url, params=params))

    def media_file(
        self, run_id: str, name: str, role: str, step: int | None = None
    ) -> tuple[RunMedia, bytes]:
        item = self.media_item(run_id, name, step)  # the step and the sha256 the file must have
        found = item.file(role)
        if found is None:
            raise NotFoundError(f"media {name!r} at step {item.step} has no {role!r} file")
        url = _run_url(item.run_id, "/media/" + quote(name, safe="") + "/files/" + quote(role, safe=""))
        with self.http.stream(url, params={"step": item.step}) as response:
            if response.headers.get(SHA256_HEADER, found.digest) != found.digest:
                raise IntegrityError(f"the server sent another file than the {role} of media {name!r}")
            data = verified_bytes(response.iter_bytes(CHUNK), found.digest, f"the {role} of media {name!r}")
        return item, data
