"""Evaluation tables of runs: logged as Parquet blobs (with schema, row count and, for predictions, the
figures of ``predictions.py``), listed, and read a page at a time with filter and sort.

A table's blob is verified against its sha256 the first time this process opens it; later pages of the
same blob read it directly (a blob is named by its content, so an unchanged name means unchanged bytes
unless the store was altered on disk, which that first check catches for each process).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mltrail.entities import TABLE_KINDS, RunTable, TablePage
from mltrail.errors import IntegrityError, InvalidInputError
from mltrail.query import parse_table_filter, parse_table_sorts
from mltrail.services.tracking.table_data import validate_table_name
from mltrail.services.tracking.table_pages import (
    MAX_PAGE_ROWS,
    Order,
    OrderCache,
    columns_of,
    page_rows,
    referenced_columns,
    row_order,
)

_TEXT = ("string", "large_string")  # a column's type as ``TableColumn`` names it

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mltrail.store.blobs import BlobStore
    from mltrail.store.tables import TableStore
    from mltrail.store.tracking import TrackingStore

__all__ = ["MAX_COLUMNS", "TableService"]

MAX_COLUMNS = 20_000


class TableService:
    """Tables of runs over the table store and the blob store."""

    def __init__(
        self,
        store: TableStore,
        blobs: BlobStore,
        runs: TrackingStore,
        *,
        open_files: int = 16,
        memory_bytes: int = 512 << 20,
        memory_file_bytes: int = 128 << 20,
    ) -> None:
        self.store = store
        self.runs = runs
        self.blobs = blobs
        self.orders = OrderCache()
        self._files: OrderedDict[tuple[str, tuple[str, ...]], pq.ParquetFile] = OrderedDict()
        self._open_files = open_files
        # The bytes of the files pages read, held in memory up to ``memory_bytes`` in all (least recently
        # used out first): Parquet reads them 4x faster than through a memory mapping. A file over
        # ``memory_file_bytes`` stays mapped: a first page of it should not read it whole.
        self._buffers: OrderedDict[str, _Held] = OrderedDict()
        self._memory_bytes = memory_bytes
        self._memory_file_bytes = min(memory_file_bytes, memory_bytes)
        self._lock = threading.Lock()

    # -- writing ----------------------------------------------------------------------------------------
    def log(
        self, run_id: str, name: str, data: bytes, *, step: int | None = None, kind: str = "table"
    ) -> RunTable:
        """Record Parquet ``data`` as the table ``name`` of the run; a predictions table must have
        unique ids and is summarized here. Bad input is an ``InvalidInputError`` naming the field, and
        nothing is kept."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        validate_table_name(name)
        if kind not in TABLE_KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(TABLE_KINDS)}", field="kind")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 0):
            raise InvalidInputError(f"step must be an integer ≥ 0, got {step!r}", field="step")
        try:
            parquet = pq.ParquetFile(io.BytesIO(data))
            schema = parquet.schema_arrow
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InvalidInputError(f"the table is not a readable Parquet file: {exc}", field="data") from exc
        if len(schema) > MAX_COLUMNS:
            raise InvalidInputError(
                f"the table has {len(schema)} columns; at most {MAX_COLUMNS:,}", field="data"
            )
        if len(set(schema.names)) != len(schema.names):
            raise InvalidInputError("two columns of the table have the same name", field="data")
        summary: dict[str, Any] = {}
        if kind == "predictions":
            from mltrail.services.tracking.predictions import describe_predictions

            try:
                summary = describe_predictions(parquet)
            except (pa.ArrowException, OSError) as exc:
                raise InvalidInputError(f"the predictions cannot be read: {exc}", field="data") from exc
        self.runs.get_run_status(run_id)  # no blob for a missing run
        digest, size = self.blobs.put_stream(io.BytesIO(data))
        return self.store.add_run_table(
            run_id,
            name,
            step,
            kind=kind,
            digest=digest,
            size=size,
            rows=parquet.metadata.num_rows,
            columns=columns_of(schema),
            summary=summary,
        )

    # -- reading ----------------------------------------------------------------------------------------
    def list(self, run_id: str) -> list[RunTable]:
        return self.store.list_run_tables(run_id)

    def get(self, run_id: str, name: str, step: int | None = None) -> RunTable:
        return self.store.get_run_table(run_id, name, step)

    def parquet(self, table: RunTable, *, read_dictionary: Sequence[str] = ()) -> pq.ParquetFile:
        """The table's Parquet file, verified against its sha256 on first open in this process;
        ``read_dictionary``: text columns read as dictionary arrays (codes and distinct values, as they are
        stored), not as one string per row."""
        import pyarrow.parquet as pq

        key = (table.digest, tuple(read_dictionary))
        with self._lock:
            found = self._files.get(key)
            if found is not None:
                self._files.move_to_end(key)
                return found
            # Checked when first opened; an open file of the same blob (read another way) was checked then.
            verified = any(digest == table.digest for digest, _ in self._files)
        dictionary = list(read_dictionary) or None
        local = self.blobs.local_path(table.digest)
        if local is not None:
            import pyarrow as pa

            # One mapping of the file, hashed and then read: its pages come in once, not once for the
            # check and again for the reader.
            mapped = pa.memory_map(local)
            if not verified:
                what = f"table {table.name} of run {table.run_id}"
                _verify_buffer(mapped.read_buffer(), table.digest, what)
                mapped.seek(0)
            opened = pq.ParquetFile(mapped, read_dictionary=dictionary)
        else:
            with self.blobs.open(table.digest) as stream:
                data = stream.read()
            _verify_buffer(data, table.digest, f"table {table.name} of run {table.run_id}")
            opened = pq.ParquetFile(io.BytesIO(data), read_dictionary=dictionary)
        with self._lock:
            self._files[key] = opened
            while len(self._files) > self._open_files:
                self._files.popitem(last=False)  # checked again when opened again
        return opened

    def _in_memory(self, table: RunTable, read_dictionary: Sequence[str] = ()) -> pq.ParquetFile | None:
        """The table's file read from its bytes held in memory (read and checked against its sha256 when
        they are not held yet), ``read_dictionary`` as for ``parquet``; None for a remote store, or a file
        bigger than ``memory_file_bytes``. The opened readers are kept with the bytes (a footer is parsed
        once)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        how = tuple(read_dictionary)
        with self._lock:
            held = self._buffers.get(table.digest)
            if held is not None:
                self._buffers.move_to_end(table.digest)
                opened = held.files.get(how)
                if opened is not None:
                    return opened
        if held is None:
            local = self.blobs.local_path(table.digest)
            if local is None or table.size > self._memory_file_bytes:
                return None
            data = pa.py_buffer(Path(local).read_bytes())
            _verify_buffer(data, table.digest, f"table {table.name} of run {table.run_id}")
            held = _Held(data)
        opened = pq.ParquetFile(pa.BufferReader(held.data), read_dictionary=list(how) or None)
        with self._lock:
            held.files[how] = opened
            self._buffers[table.digest] = held
            while sum(h.data.size for h in self._buffers.values()) > self._memory_bytes:
                self._buffers.popitem(last=False)  # read and checked again when next needed
        return opened

    def page(
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
        """Rows ``offset`` to ``offset + limit`` of the table after ``filter`` (the filter language over its
        columns) and ``sort`` (``-col`` descending; missing values last), with ``columns`` only if given."""
        if offset < 0:
            raise InvalidInputError("offset must be ≥ 0", field="offset")
        if not 0 <= limit <= MAX_PAGE_ROWS:
            raise InvalidInputError(f"limit must be between 0 and {MAX_PAGE_ROWS}", field="limit")
        table = self.get(run_id, name, step)
        names = [c.name for c in table.columns]
        known = set(names)
        chosen = list(columns) if columns else names
        for column in chosen:
            if column not in known:
                raise InvalidInputError(f"the table has no column {column!r}", field="columns")
        expr = parse_table_filter(filter, known) if filter else None
        keys = parse_table_sorts(list(sort), known)
        parquet = self._in_memory(table) or self.parquet(table)
        want = offset + limit
        order = None
        if expr is not None or keys:
            cache_key = (table.digest, repr(expr), tuple(keys))
            order = self.orders.get(cache_key)
            if order is None or not order.covers(offset, want):
                # A little beyond this page, so that the next pages come from the cache: from the view's
                # start for the first pages, from this page for one deep in the view.
                ahead = max(limit * 4, 1_000)
                start = 0 if offset < ahead else offset
                # Text columns the view names are read as Parquet stores them, as dictionaries: half the
                # decoding, and each distinct value compared or ranked once.
                named = {k.field for k in keys} | (referenced_columns(expr) if expr is not None else set())
                text = sorted(c.name for c in table.columns if c.name in named and c.type in _TEXT)
                scanned = (
                    (self._in_memory(table, text) or self.parquet(table, read_dictionary=text))
                    if text
                    else parquet
                )
                found, total = row_order(scanned, expr, keys, max(want, start + ahead), start)
                order = Order(
                    rows=np.arange(0) if found is None else found, total=total, start=min(start, total)
                )
                self.orders.put(cache_key, order)
        if order is None:
            total = table.rows
            rows = np.arange(min(offset, total), min(want, total), dtype=np.int64)
        else:
            total = order.total
            rows = order.rows[max(0, offset - order.start) : max(0, want - order.start)]
        by_name = {c.name: c for c in table.columns}
        return TablePage(
            columns=[by_name[c] for c in chosen],
            rows=page_rows(parquet, rows, chosen),
            total=total,
            offset=offset,
            limit=limit,
        )


@dataclass
class _Held:
    """A file's bytes held in memory, and the Parquet readers opened over them (by dictionary columns)."""

    data: pa.Buffer
    files: dict[tuple[str, ...], pq.ParquetFile] = field(default_factory=dict)


def _verify_buffer(data: Any, digest: str, what: str) -> None:
    """``data`` (any buffer; hashlib lets go of the GIL while it hashes it) against its sha256."""
    if hashlib.sha256(data).hexdigest() != digest:
        raise IntegrityError(f"{what} does not match its recorded sha256: the blob store was changed")
