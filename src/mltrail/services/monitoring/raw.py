"""The raw rows of ingested batches: kept as Parquet files, one per UTC day a batch spans, indexed by day for
drill-down, and read back for a period.

The files lie in the blob store as a Hive-partitioned lake, ``lake/monitor=<name>/day=<YYYY-MM-DD>/
<sha256>.parquet``, so Spark, DuckDB, pandas or ``pyarrow.dataset`` read a monitor's traffic directly (a
replayed batch has the same name and is not written twice). Batches kept before the lake existed are
content-addressed blobs (``sha256/…``) and are still read from there."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from mltrail.entities import GRANULARITIES, Monitor, PredictionBatch
from mltrail.errors import NotFoundError
from mltrail.services.monitoring.inputs import TIME_COLUMN, epoch_seconds
from mltrail.store.blobs import BlobStore
from mltrail.store.monitoring import MonitorStore

__all__ = ["LAKE", "keep_raw", "lake_file", "lake_folder", "raw_tables"]

LAKE = "lake"


def lake_folder(monitor: str) -> str:
    """The folder of a monitor's raw batches under the blob store's root."""
    return f"{LAKE}/monitor={monitor}"


def lake_file(monitor: str, day: str, digest: str) -> str:
    """Where one day's part of a batch lies: Hive partitions ``monitor=`` and ``day=``, named by digest."""
    return f"{lake_folder(monitor)}/day={day}/{digest}.parquet"


def keep_raw(
    store: MonitorStore, blobs: BlobStore, monitor: Monitor, table: pa.Table, times: np.ndarray, now: float
) -> None:
    """The batch as Parquet, one lake file per UTC day it spans (named by digest, so a replay is free)."""
    days = np.floor(times / GRANULARITIES["day"]).astype(np.int64)
    unique_days = np.unique(days)
    for day in unique_days:
        part = table if len(unique_days) == 1 else table.filter(pa.array(days == day))
        buffer = io.BytesIO()
        # Dictionary encoding pays off for labels only; on float columns it was most of the ingest time.
        labels = [f.name for f in part.schema if pa.types.is_string(f.type) or pa.types.is_dictionary(f.type)]
        pq.write_table(part, buffer, compression="snappy", use_dictionary=labels)
        data = buffer.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        mask = days == day
        label = dt.datetime.fromtimestamp(int(day) * 86400, tz=dt.UTC).date().isoformat()
        blobs.put_named(lake_file(monitor.name, label, digest), data)
        store.add_prediction_batch(
            PredictionBatch(
                monitor.id,
                label,
                digest,
                part.num_rows,
                float(times[mask].min()),
                float(times[mask].max()),
                now,
            )
        )


def raw_tables(
    store: MonitorStore,
    blobs: BlobStore,
    monitor: Monitor,
    since: float | None,
    until: float | None,
    limit: int | None,
) -> list[pa.Table]:
    """The Parquet batches kept for [since, until), oldest first, until ``limit`` rows are in hand."""
    tables = []
    rows = 0
    for batch in store.list_prediction_batches(monitor.id, since=since, until=until):
        if limit is not None and rows >= limit:
            break
        try:
            stream = blobs.open_named(lake_file(monitor.name, batch.day, batch.digest))
        except NotFoundError:  # kept before the lake: a content-addressed blob
            stream = blobs.open(batch.digest)
        with stream:
            part = pq.read_table(io.BytesIO(stream.read()))
        if (since is not None or until is not None) and TIME_COLUMN in part.column_names:
            # a batch overlapping the period may hold rows outside it
            times = epoch_seconds(part.column(TIME_COLUMN))
            inside = np.ones(part.num_rows, dtype=bool)
            if since is not None:
                inside &= times >= since
            if until is not None:
                inside &= times < until
            part = part.filter(pa.array(inside))
        tables.append(part)
        rows += part.num_rows
    return tables
