"""Predictions in (JSON rows or columns, an Arrow IPC stream or a Parquet file) and delayed labels."""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from mltrail.api.bodies import read_body
from mltrail.api.deps import MaxUploadDep
from mltrail.api.errors import UploadTooLargeError
from mltrail.api.monitoring.access import MonitorAccess, MonitorAccessDep
from mltrail.api.monitoring.schemas import (
    IngestPublic,
    LabelsIn,
    LabelsPublic,
    PerformanceIn,
    PerformancePublic,
    PredictionsJsonIn,
    ProfileIn,
)
from mltrail.entities import Role
from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.inputs import to_table
from mltrail.services.monitoring.service import IngestResult

__all__ = [
    "ARROW_STREAM",
    "DEFAULT_MAX_BATCH_BYTES",
    "PARQUET",
    "UnsupportedMediaTypeError",
    "router",
]

router = APIRouter(prefix="/monitors/{name}", tags=["monitoring"])

JSON = "application/json"
ARROW_STREAM = "application/vnd.apache.arrow.stream"
PARQUET = ("application/vnd.apache.parquet", "application/x-parquet")
# Without an upload limit on the server, a batch is still bounded (it is decoded in memory), gzip or not.
DEFAULT_MAX_BATCH_BYTES = 256 << 20
# JSON costs ~10x its size to parse into Python objects: its own, smaller bound (after gunzipping too).
MAX_JSON_BATCH_BYTES = 32 << 20
# Rows of one batch, whatever its encoding: a small Parquet file can hold tens of millions of rows.
MAX_BATCH_ROWS = 2_000_000
IDEMPOTENCY_KEY = "Idempotency-Key"
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


def _batch_key(request: Request) -> str | None:
    """The ``Idempotency-Key`` header: 1-128 letters, digits and ``-_.:`` (else a 400 naming it)."""
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is None:
        return None
    if not 1 <= len(key) <= 128 or not set(key) <= _KEY_CHARS:
        raise InvalidInputError(
            f"{IDEMPOTENCY_KEY} must be 1 to 128 letters, digits and -_.: characters",
            field=IDEMPOTENCY_KEY,
        )
    return key


# The spec lists the JSON body only: the Arrow and Parquet bodies are described in the route's text
# (schemathesis, which fuzzes the spec, has no serializer for them).
_BODY = {"required": True, "content": {JSON: {"schema": PredictionsJsonIn.model_json_schema()}}}


class UnsupportedMediaTypeError(InvalidInputError):
    """A body of a type the route does not read (HTTP-specific: the status differs, the type stays)."""

    http_status = 415


def _media_type(request: Request) -> str:
    media = request.headers.get("content-type", JSON).split(";", 1)[0].strip().lower() or JSON
    if media not in (JSON, ARROW_STREAM, *PARQUET):
        raise UnsupportedMediaTypeError(
            f"cannot read a batch of {media[:100]!r}: send {JSON}, {ARROW_STREAM} or {PARQUET[0]}",
            field="Content-Type",
        )
    return media


def _from_json(body: bytes) -> Any:
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"the body is not valid JSON: {exc}", field="body") from exc
    try:
        batch = PredictionsJsonIn.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc
    if (batch.rows is None) == (batch.columns is None):
        raise InvalidInputError('give exactly one of "rows" and "columns"', field="body")
    return batch.rows if batch.rows is not None else batch.columns


def _too_many_rows(rows: int) -> InvalidInputError:
    return InvalidInputError(
        f"a batch holds at most {MAX_BATCH_ROWS:,} rows, this one {rows:,}: send it in parts", field="body"
    )


def _read_stream(body: bytes) -> pa.Table:
    """An Arrow IPC stream read batch by batch, stopping at ``MAX_BATCH_ROWS``."""
    reader = pa.ipc.open_stream(pa.py_buffer(body))
    batches, rows = [], 0
    for batch in reader:
        rows += batch.num_rows
        if rows > MAX_BATCH_ROWS:
            raise _too_many_rows(rows)
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=reader.schema)


def _read_parquet(body: bytes) -> pa.Table:
    """A Parquet file whose row count (from its footer) is checked before any column is read."""
    source = pq.ParquetFile(pa.BufferReader(body))
    if source.metadata.num_rows > MAX_BATCH_ROWS:
        raise _too_many_rows(source.metadata.num_rows)
    return source.read()


def _decode(media: str, body: bytes) -> pa.Table:
    """The batch as an Arrow table; a body that does not parse is a 400 naming ``body``."""
    try:
        if media == JSON:
            if len(body) > MAX_JSON_BATCH_BYTES:
                raise UploadTooLargeError(
                    f"a JSON batch is limited to {MAX_JSON_BATCH_BYTES} bytes: send Arrow, Parquet or parts",
                    field="body",
                )
            table = to_table(_from_json(body))
            if table.num_rows > MAX_BATCH_ROWS:
                raise _too_many_rows(table.num_rows)
            return table
        if media == ARROW_STREAM:
            return _read_stream(body)
        return _read_parquet(body)
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        if isinstance(exc, InvalidInputError | RequestValidationError):
            raise
        kind = {JSON: "JSON batch", ARROW_STREAM: "Arrow IPC stream"}.get(media, "Parquet file")
        raise InvalidInputError(f"the body is not a readable {kind}: {exc}", field="body") from exc


def _ingest(ma: MonitorAccess, name: str, media: str, body: bytes, key: str | None) -> IngestResult:
    table = _decode(media, body)
    try:
        return ma.monitoring.ingest(name, table, batch_key=key)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError) as exc:
        # Columns Arrow holds but cannot profile (nested lists), or whose kind contradicts the one the
        # window's profile has (``stats`` raises TypeError when told to merge numbers with text).
        raise InvalidInputError(f"the batch's columns cannot be profiled: {exc}", field="body") from exc


@router.post("/predictions", openapi_extra={"requestBody": _BODY})
async def ingest_predictions(
    name: str, request: Request, ma: MonitorAccessDep, max_upload: MaxUploadDep
) -> IngestPublic:
    """Profile a batch of predictions into the monitor's windows and keep its rows (member).

    The body, by ``Content-Type``: ``application/json`` ``{"rows": [{…}, …]}`` or ``{"columns": {name:
    [values]}}``; ``application/vnd.apache.arrow.stream``; ``application/vnd.apache.parquet`` (or
    ``application/x-parquet``). ``Content-Encoding: gzip`` is accepted. Columns: the monitor's features and
    prediction, optionally ``timestamp`` (epoch seconds or an Arrow timestamp), ``id`` (for delayed labels),
    ``score``; missing or extra columns are counted as validation violations, never refused. An
    ``Idempotency-Key`` header makes a retry of the same batch (after a lost response) land once: a key
    seen before (kept a week) answers ``duplicate: true`` and merges nothing.
    """
    await run_in_threadpool(ma.monitor, name, Role.MEMBER)
    key = _batch_key(request)
    media = _media_type(request)
    limit = DEFAULT_MAX_BATCH_BYTES if max_upload is None else max_upload
    if media == JSON:  # bounded before it is parsed, and while a gzip body inflates
        limit = min(limit, MAX_JSON_BATCH_BYTES)
    body = await read_body(request, limit, what="a JSON batch" if media == JSON else "a batch")
    result = await run_in_threadpool(_ingest, ma, name, media, body, key)
    return IngestPublic.of(result)


@router.post("/profiles")
def log_profile(name: str, body: ProfileIn, request: Request, ma: MonitorAccessDep) -> IngestPublic:
    """Merge a profile computed elsewhere (a Spark job's ``mltrail.spark.profile``) into the monitor's
    window starting at ``window_start`` (member, as for predictions): drift, validation and alerts follow as
    for rows; no raw rows are kept. An ``Idempotency-Key`` header makes a retry land once."""
    ma.monitor(name, Role.MEMBER)
    key = _batch_key(request)
    profile = body.dataset_profile()
    try:
        result = ma.monitoring.log_profile(
            name,
            profile,
            window_start=body.window_start,
            granularity=body.granularity,
            segment=body.segment,
            batch_key=key,
        )
    except TypeError as exc:  # a column numeric in the window and categorical in the profile
        raise InvalidInputError(f"the profile cannot merge into the window: {exc}", field="profile") from exc
    return IngestPublic.of(result)


@router.post("/performance")
def log_performance(
    name: str, body: PerformanceIn, request: Request, ma: MonitorAccessDep
) -> PerformancePublic:
    """Merge performance accumulators computed elsewhere (``mltrail.spark.performance``) into the window
    starting at ``window_start``, as delayed labels would (member); a window never profiled is skipped. An
    ``Idempotency-Key`` header makes a retry land once: a key seen before answers ``duplicate: true``."""
    ma.monitor(name, Role.MEMBER)
    key = _batch_key(request)
    result = ma.monitoring.log_performance(
        name, body.accumulators, window_start=body.window_start, granularity=body.granularity, batch_key=key
    )
    return PerformancePublic(windows=list(result.windows), duplicate=result.duplicate)


@router.post("/labels")
def log_labels(name: str, body: LabelsIn, ma: MonitorAccessDep) -> LabelsPublic:
    """Join delayed labels to their predictions by request id (member); ids never predicted are counted
    (``unknown``, and in the monitor's ``unmatched_labels``), not refused."""
    ma.monitor(name, Role.MEMBER)
    matched, unknown = ma.monitoring.log_labels(name, body.ids, body.labels)
    return LabelsPublic(matched=matched, unknown=unknown)
