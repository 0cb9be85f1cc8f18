"""``HttpTransport``: the SDK's ``Transport`` over the team server's ``/api/v1`` (httpx), errors as embedded.

Metric batches go gzip-compressed, with their client id and sequence number, so a retried batch is applied
once. Connection errors and 5xx responses are retried with exponential backoff and full jitter; an error
response becomes the same ``mltrail.errors`` type the server raised. JSON has no NaN or infinity: metric
values travel as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import os
import random
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson

import mltrail.errors as errors
from mltrail.entities import (
    Artifact,
    DatasetLink,
    Fingerprint,
    MetricsBatch,
    Run,
    RunMedia,
    RunStatus,
    RunTable,
)
from mltrail.errors import ConflictError, InvalidInputError, MltrailError, StoreError
from mltrail.sdk.http_codec import artifact_from_json as _artifact
from mltrail.sdk.http_codec import dataset_from_json as _dataset
from mltrail.sdk.http_codec import encode_values as _encode_values
from mltrail.sdk.http_codec import run_from_json as _run
from mltrail.sdk.http_codec import run_media_from_json, run_table_from_json
from mltrail.services.tracking.validation import artifact_files

__all__ = ["HttpTransport", "close_http_transports", "http_transport"]

SHA256_HEADER = "X-Content-SHA256"
CHUNK_SIZE = 1 << 20
_RETRY_STATUS = frozenset({502, 503, 504})


def _error_from(response: httpx.Response) -> MltrailError:
    """The ``mltrail.errors`` exception an error response stands for."""
    body: dict[str, Any] = {}
    try:
        body = response.json()["error"]
        type_name, message = str(body["type"]), str(body["message"])
    except (ValueError, KeyError, TypeError):
        type_name, message = "", f"HTTP {response.status_code}: {response.text[:200]}"
    found = getattr(errors, type_name, None) if type_name in errors.__all__ else None
    cls: type[MltrailError]
    if isinstance(found, type) and issubclass(found, MltrailError):
        cls = found
    else:
        by_status = {404: errors.NotFoundError, 409: ConflictError}.get(response.status_code)
        cls = by_status or (InvalidInputError if response.status_code < 500 else StoreError)
    if issubclass(cls, errors.InvalidFilterError):
        return errors.InvalidFilterError(
            message,
            str(body.get("text") or ""),
            int(body.get("position") or 0),
            body.get("field") or "filter",
        )
    if issubclass(cls, InvalidInputError):
        return cls(message, field=body.get("field") if type_name else None)
    return cls(message)


def _is_mltrail_error(response: httpx.Response) -> bool:
    """Whether an error response is one of ours (``{"error": {"type": …, "message": …}}``)."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict)


def _retryable(response: httpx.Response) -> bool:
    """503 (store busy), gateway errors, and a 500 that is not one of ours (a crash, not IntegrityError)."""
    if response.status_code in _RETRY_STATUS:
        return True
    return response.status_code == 500 and not response.headers.get("content-type", "").startswith(
        "application/json"
    )


def _artifact_url(run_id: str, path: str) -> str:
    # Dot segments are percent-encoded so no URL normalization can turn "a/../b" into "b" before the
    # server sees (and refuses) it.
    parts = [quote(p, safe="") if p not in (".", "..") else p.replace(".", "%2E") for p in path.split("/")]
    return f"/runs/{quote(run_id, safe='')}/artifacts/{'/'.join(parts)}"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            yield chunk


class HttpTransport:
    """The team server, e.g. ``HttpTransport("http://ml-box:5500", api_key=...)``; threads may share it."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        attempts: int = 5,
        backoff: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        headers = {"User-Agent": "mltrail-sdk"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.base_url = base_url.rstrip("/")
        self.has_key = bool(api_key)
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._client = httpx.Client(base_url=f"{self.base_url}/api/v1", headers=headers, timeout=timeout)

    # -- plumbing -----------------------------------------------------------------------------------------
    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send, retrying connection errors and 5xx with backoff; raise the mapped error on a 4xx/5xx."""
        body_factory = kwargs.pop("body_factory", None)
        for attempt in range(self.attempts):
            if body_factory is not None:
                kwargs["content"] = body_factory()
            try:
                response = self._client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if attempt + 1 >= self.attempts:
                    raise StoreError(f"cannot reach the mltrail server at {self.base_url}: {exc}") from exc
            else:
                if response.status_code < 400:
                    return response
                if not _retryable(response) or attempt + 1 >= self.attempts:
                    raise self._explained(_error_from(response), response)
            # Full jitter: sleep a random time up to the exponential bound, so clients spread out.
            time.sleep(random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt)))  # noqa: S311
        raise StoreError("unreachable")  # pragma: no cover - the loop returns or raises

    def _explained(self, error: MltrailError, response: httpx.Response) -> MltrailError:
        """``error`` with what to do about it where the server's message cannot know: a refused key (the
        key of another server, or none), or an answer that is not from an mltrail server at all."""
        if isinstance(error, errors.AuthenticationError):
            what = "refused the API key" if self.has_key else "needs an API key and none was given"
            return errors.AuthenticationError(
                f"the mltrail server at {self.base_url} {what}: {error.message}. "
                f"Run `mltrail login {self.base_url}` or set MLTRAIL_API_KEY to a key of this server"
            )
        # A route the server does not have (Starlette's own "Not Found"): the URL has a wrong path in it.
        route_missing = isinstance(error, errors.NotFoundError) and error.message == "Not Found"
        if route_missing or not _is_mltrail_error(response):
            what = f"{response.request.method} {response.request.url.path}"
            message = (
                f"{self.base_url} did not answer as an mltrail server (HTTP {response.status_code} for "
                f"{what}); check the server URL (--server, MLTRAIL_SERVER or `mltrail login`)"
            )
            if response.status_code >= 500:
                return StoreError(message)
            return type(error)(message) if not isinstance(error, InvalidInputError) else error
        return error

    @contextlib.contextmanager
    def stream(self, url: str, params: Mapping[str, Any] | None = None) -> Iterator[httpx.Response]:
        """A streamed ``GET``: the response, whose body is read with ``iter_bytes``; errors as ``_request``
        (connection errors and 5xx before the body starts are retried, a failure mid-body is a
        ``StoreError``)."""
        response: httpx.Response | None = None
        for attempt in range(self.attempts):
            try:
                request = self._client.build_request("GET", url, params=params)
                response = self._client.send(request, stream=True)
            except httpx.TransportError as exc:
                if attempt + 1 >= self.attempts:
                    raise StoreError(f"cannot reach the mltrail server at {self.base_url}: {exc}") from exc
            else:
                if response.status_code < 400:
                    break
                response.read()
                response.close()
                if not _retryable(response) or attempt + 1 >= self.attempts:
                    raise self._explained(_error_from(response), response)
            time.sleep(random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt)))  # noqa: S311
        assert response is not None
        try:
            yield response
        except httpx.TransportError as exc:
            raise StoreError(f"the download from {self.base_url} broke off: {exc}") from exc
        finally:
            response.close()

    def _json(self, method: str, url: str, body: Any = None, params: Any = None) -> Any:
        content = None if body is None else orjson.dumps(body)
        headers = {"Content-Type": "application/json"} if content is not None else None
        response = self._request(method, url, content=content, headers=headers, params=params)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise StoreError(
                f"{self.base_url} did not answer as an mltrail server ({method} {url} gave no JSON); "
                "check the server URL (--server, MLTRAIL_SERVER or `mltrail login`)"
            ) from exc

    @staticmethod
    def _run_url(run_id: str, suffix: str = "") -> str:
        return f"/runs/{quote(run_id, safe='')}{suffix}"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the Transport protocol ---------------------------------------------------------------------------
    def create_run(
        self,
        *,
        run_id: str,
        project: str,
        name: str,
        user: str | None,
        config: Mapping[str, Any],
        tags: Mapping[str, str],
        notes: str | None,
        context: Mapping[str, Any],
        start_time: float,
        resume: bool = False,
    ) -> Run:
        body = {
            "run_id": run_id,
            "project": project,
            "name": name,
            "user": user,
            "config": dict(config),
            "tags": dict(tags),
            "notes": notes,
            "context": dict(context),
            "start_time": start_time,
            "resume": resume,
        }
        try:
            return _run(self._json("POST", "/runs", body))
        except ConflictError:
            if resume:
                raise
            # A retry of a create whose response was lost: the run exists, and it is ours if it matches.
            existing = self.get_run(run_id)
            if existing.name != name or existing.project != project or existing.start_time != start_time:
                raise
            return existing

    def log_metrics(self, run_id: str, batch: MetricsBatch) -> None:
        payload = orjson.dumps(
            {
                "keys": batch.keys,
                "steps": batch.steps,
                "values": _encode_values(batch.values),
                "wall_times": batch.wall_times,
                "client_id": batch.client_id,
                "seq": batch.seq,
            }
        )
        self._request(
            "POST",
            self._run_url(run_id, "/metrics"),
            content=gzip.compress(payload, compresslevel=1),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )

    def set_params(self, run_id: str, config: Mapping[str, Any]) -> None:
        self._json("PATCH", self._run_url(run_id, "/params"), {"config": dict(config)})

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        self._json("PATCH", self._run_url(run_id, "/tags"), {"tags": dict(tags)})

    def delete_tags(self, run_id: str, keys: Sequence[str]) -> None:
        self._request("DELETE", self._run_url(run_id, "/tags"), params=[("key", k) for k in keys])

    def set_summary(self, run_id: str, values: Mapping[str, Any]) -> None:
        self._json("PATCH", self._run_url(run_id, "/summary"), {"values": dict(values)})

    def set_notes(self, run_id: str, notes: str) -> None:
        self._json("PATCH", self._run_url(run_id), {"notes": notes})

    def update_context(self, run_id: str, context: Mapping[str, Any]) -> None:
        self._json("PATCH", self._run_url(run_id, "/context"), {"context": dict(context)})

    def heartbeat(self, run_id: str) -> None:
        self._request("POST", self._run_url(run_id, "/heartbeat"))

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        error: Mapping[str, str] | None,
        end_time: float | None = None,
    ) -> None:
        body = {
            "status": RunStatus(status).value,
            "error": None if error is None else dict(error),
            "end_time": end_time,
        }
        self._json("POST", self._run_url(run_id, "/finish"), body)

    def log_artifact(self, run_id: str, local: Path, name: str | None) -> list[Artifact]:
        """Upload a file (as ``name`` or its file name) or a folder's files (under ``name``/folder name)."""
        source = Path(local)
        files = artifact_files(source)
        base = name if name is not None else source.name
        if files == [source]:
            return [self._upload_file(run_id, base, source)]
        return [
            self._upload_file(run_id, f"{base}/{file.relative_to(source).as_posix()}", file) for file in files
        ]

    def _upload_file(self, run_id: str, path: str, file: Path) -> Artifact:
        from mltrail.sdk.presigned import PRESIGNED_UPLOAD_ABOVE, upload_by_url

        size, digest = file.stat().st_size, _sha256_file(file)
        if size >= PRESIGNED_UPLOAD_ABOVE:  # straight to the server's object store, when it signs URLs
            stored = upload_by_url(self, run_id, path, file, digest, size)
            if stored is not None:
                return _artifact(stored)
        headers = {
            SHA256_HEADER: digest,
            "Content-Length": str(size),
            "Content-Type": "application/octet-stream",
        }
        response = self._request(
            "PUT", _artifact_url(run_id, path), headers=headers, body_factory=lambda: _file_chunks(file)
        )
        return _artifact(response.json())

    def log_artifact_bytes(self, run_id: str, path: str, data: bytes) -> Artifact:
        headers = {
            SHA256_HEADER: hashlib.sha256(data).hexdigest(),
            "Content-Type": "application/octet-stream",
        }
        response = self._request("PUT", _artifact_url(run_id, path), content=data, headers=headers)
        return _artifact(response.json())

    def log_table(self, run_id: str, name: str, data: bytes, step: int | None, kind: str) -> RunTable:
        params: dict[str, str | int] = {"kind": kind}
        if step is not None:
            params["step"] = step
        url = f"/runs/{quote(run_id, safe='')}/tables/{quote(name, safe='')}"
        headers = {"Content-Type": "application/octet-stream"}
        response = self._request("PUT", url, content=data, headers=headers, params=params)
        return run_table_from_json(response.json())

    def log_media(self, run_id: str, name: str, bundle: bytes, step: int | None) -> RunMedia:
        params = {} if step is None else {"step": step}
        url = f"/runs/{quote(run_id, safe='')}/media/{quote(name, safe='')}"
        headers = {"Content-Type": "application/json"}
        response = self._request("PUT", url, content=bundle, headers=headers, params=params)
        return run_media_from_json(response.json())

    def log_dataset(self, run_id: str, fingerprint: Fingerprint, role: str) -> DatasetLink:
        body = {
            "name": fingerprint.name,
            "digest": fingerprint.digest,
            "kind": fingerprint.kind,
            "source": fingerprint.source,
            "num_rows": fingerprint.num_rows,
            "num_bytes": fingerprint.num_bytes,
            "schema": list(fingerprint.schema),
            "summary": dict(fingerprint.summary),
            "role": role,
        }
        if fingerprint.profile is not None:  # the drift profile: a monitor's default reference
            body["profile"] = base64.b64encode(fingerprint.profile).decode("ascii")
        link = self._json("POST", self._run_url(run_id, "/datasets"), body)
        return DatasetLink(run_id=link["run_id"], role=link["role"], dataset=_dataset(link["dataset"]))

    def get_run(self, run_id: str) -> Run:
        return _run(self._json("GET", self._run_url(run_id)))


_shared: dict[tuple[str, str | None, int], HttpTransport] = {}
_shared_lock = threading.Lock()


def http_transport(base_url: str, api_key: str | None = None) -> HttpTransport:
    """One transport (one connection pool) per server and key in this process, shared by its runs."""
    key = (base_url.rstrip("/"), api_key, os.getpid())
    with _shared_lock:
        transport = _shared.get(key)
        if transport is None:
            transport = _shared[key] = HttpTransport(base_url, api_key)
        return transport


def close_http_transports() -> None:
    """Close every shared HTTP transport of this process (tests; tools switching servers)."""
    with _shared_lock:
        transports = list(_shared.values())
        _shared.clear()
    for transport in transports:
        transport.close()
