"""Computing dataset fingerprints (``services.tracking.fingerprint``): files are hashed in chunks, tables
canonicalized and hashed, and every tabular input is summarized and profiled. numpy and pyarrow load here,
only when a data set is actually fingerprinted."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mltrail.services.tracking.fingerprint import CHUNK_SIZE, Fingerprint
from mltrail.stats.columns import ColumnSummaryBuilder
from mltrail.stats.profile import profile_batches

if TYPE_CHECKING:
    import pandas as pd
    from typing_extensions import Buffer

__all__ = ["fingerprint"]

_TABULAR = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".arrow": "ipc",
    ".feather": "ipc",
    ".ipc": "ipc",
}
_ACCEPTED = (
    "a file or folder path (str or os.PathLike), pyarrow.Table, pyarrow.RecordBatch, pandas.DataFrame "
    "or numpy.ndarray"
)


def fingerprint(obj: object, *, name: str | None = None) -> Fingerprint:
    """Fingerprint a file, a folder, or an in-memory table (Arrow table or batch, DataFrame, numpy array).

    Raises ``TypeError`` for anything else and ``FileNotFoundError`` for a path that does not exist.
    """
    if isinstance(obj, str | os.PathLike):
        path = Path(os.fspath(obj))
        if path.is_dir():
            return _fingerprint_folder(path, name)
        if path.is_file():
            return _fingerprint_file(path, name)
        raise FileNotFoundError(f"cannot fingerprint {str(path)!r}: no such file or folder")
    if isinstance(obj, pa.Table):
        return _fingerprint_table(obj, name or "table")
    if isinstance(obj, pa.RecordBatch):
        return _fingerprint_table(pa.Table.from_batches([obj]), name or "table")
    if isinstance(obj, np.ndarray):
        return _fingerprint_table(_table_from_numpy(obj), name or "array")
    if _is_dataframe(obj):
        return _fingerprint_table(_table_from_pandas(obj), name or "dataframe")
    raise TypeError(
        f"cannot fingerprint a {type(obj).__module__}.{type(obj).__qualname__}; expected {_ACCEPTED}"
    )


# -- files and folders ------------------------------------------------------------------------------------
def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    buf = bytearray(CHUNK_SIZE)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            digest.update(view[:n])
    return digest.hexdigest()


def _fingerprint_file(path: Path, name: str | None) -> Fingerprint:
    schema: pa.Schema | None = None
    rows: int | None = None
    summary: dict[str, Any] = {}
    profile: bytes | None = None
    fmt = _TABULAR.get(path.suffix.lower())
    if fmt is not None:
        schema, rows, summary, profile = _describe([path], fmt)
    return Fingerprint(
        name=name or path.name,
        digest=_file_sha256(path),
        kind="file",
        source=str(path.resolve()),
        num_rows=rows,
        num_bytes=path.stat().st_size,
        schema=_schema_list(schema),
        summary=summary,
        profile=profile,
    )


def _folder_files(root: Path) -> list[Path]:
    """Files under ``root``, sorted, leaving out hidden files and folders and ``__pycache__``."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__pycache__"]
        found.extend(Path(dirpath, f) for f in filenames if not f.startswith("."))
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _fingerprint_folder(root: Path, name: str | None) -> Fingerprint:
    files = _folder_files(root)
    digest = hashlib.sha256()
    total = 0
    for path in files:
        size = path.stat().st_size
        total += size
        digest.update(f"{path.relative_to(root).as_posix()}\t{_file_sha256(path)}\t{size}\n".encode())
    schema: pa.Schema | None = None
    rows: int | None = None
    summary: dict[str, Any] = {}
    profile: bytes | None = None
    formats = {_TABULAR.get(p.suffix.lower()) for p in files} - {None}
    if len(formats) == 1 and (fmt := formats.pop()) in ("parquet", "csv", "tsv"):
        data_files = [p for p in files if _TABULAR.get(p.suffix.lower()) == fmt]
        schema, rows, summary, profile = _describe(data_files, fmt)
    return Fingerprint(
        name=name or root.resolve().name,
        digest=digest.hexdigest(),
        kind="folder",
        source=str(root.resolve()),
        num_rows=rows,
        num_bytes=total,
        schema=_schema_list(schema),
        summary=summary,
        profile=profile,
    )


def _describe(
    paths: list[Path], fmt: str
) -> tuple[pa.Schema | None, int | None, dict[str, Any], bytes | None]:
    """Schema, row count and column summary, streamed batch by batch; nothing when the data do not parse.

    A file that does not parse is still fingerprinted by its bytes: recording a data set must not fail a run.
    """
    try:
        schema, batches = _open_batches(paths, fmt)
        builder = ColumnSummaryBuilder()
        rows = 0

        def counted() -> Iterator[pa.RecordBatch]:
            nonlocal rows
            for batch in batches:
                rows += batch.num_rows
                builder.update(batch)
                yield batch

        profile = profile_batches(counted()).to_bytes()
    except (pa.ArrowException, ValueError, TypeError):
        return None, None, {}, None
    return schema, rows, builder.result(), profile


def _open_batches(paths: list[Path], fmt: str) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    import pyarrow.csv as pacsv

    parse = pacsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",")
    if len(paths) > 1:
        import pyarrow.dataset as ds

        file_format: Any = "parquet" if fmt == "parquet" else ds.CsvFileFormat(parse_options=parse)
        dataset = ds.dataset([str(p) for p in paths], format=file_format)
        return dataset.schema, iter(dataset.to_batches())
    path = paths[0]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        return pf.schema_arrow, pf.iter_batches()
    if fmt in ("csv", "tsv"):
        reader = pacsv.open_csv(path, parse_options=parse)
        return reader.schema, iter(reader)
    try:
        ipc_file = pa.ipc.open_file(pa.memory_map(str(path)))
        return ipc_file.schema, (ipc_file.get_batch(i) for i in range(ipc_file.num_record_batches))
    except pa.ArrowInvalid:
        stream = pa.ipc.open_stream(pa.memory_map(str(path)))
        return stream.schema, iter(stream)


def _schema_list(schema: pa.Schema | None) -> list[dict[str, Any]]:
    if schema is None:
        return []
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


# -- in-memory tables -----------------------------------------------------------------------------------
class _HashingSink(io.RawIOBase):
    """A write-only file that feeds what is written to a hash and keeps nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.hash = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        view = memoryview(data)
        self.hash.update(view)
        return view.nbytes


def _canonical_type(type_: pa.DataType) -> pa.DataType:
    if pa.types.is_string(type_) or pa.types.is_string_view(type_):
        return pa.large_string()
    if pa.types.is_binary(type_) or pa.types.is_binary_view(type_):
        return pa.large_binary()
    return type_


def _canonical_column(column: pa.ChunkedArray) -> pa.Array:
    """One chunk; large string/binary offsets; zeros under the nulls of fixed-width columns.

    Arrow leaves the bytes under a null unspecified (pandas' NaN bits, an old value), and those bytes are
    serialized, so equal data could otherwise hash differently.
    """
    arr = column.combine_chunks()
    target = _canonical_type(arr.type)
    if target != arr.type:
        arr = arr.cast(target)
    if arr.null_count == 0 or arr.null_count == len(arr):
        return arr
    type_ = arr.type
    if pa.types.is_boolean(type_):
        filled = pc.fill_null(arr, False)
    elif pa.types.is_integer(type_) or pa.types.is_floating(type_):
        filled = pc.fill_null(arr, pa.scalar(0, type_))
    elif pa.types.is_temporal(type_) and type_.bit_width in (32, 64):
        storage = pa.int32() if type_.bit_width == 32 else pa.int64()
        filled = pc.fill_null(arr.view(storage), pa.scalar(0, storage))
    else:
        return arr
    mask = arr.is_null().to_numpy(zero_copy_only=False)
    rebuilt = pa.array(filled.to_numpy(zero_copy_only=False), mask=mask, type=filled.type)
    return rebuilt.view(type_) if rebuilt.type != type_ else rebuilt


def _table_digest(table: pa.Table) -> str:
    """sha256 of the table as an uncompressed Arrow IPC stream, without metadata, in one record batch."""
    fields = [pa.field(f.name, _canonical_type(f.type), nullable=True) for f in table.schema]
    schema = pa.schema(fields)
    arrays = [_canonical_column(col) for col in table.columns]
    canonical = pa.Table.from_arrays(arrays, schema=schema)
    sink = _HashingSink()
    options = pa.ipc.IpcWriteOptions(compression=None)
    with pa.PythonFile(sink, mode="w") as out, pa.ipc.new_stream(out, schema, options=options) as writer:
        writer.write_table(canonical)
    return sink.hash.hexdigest()


def _profile(table: pa.Table) -> bytes | None:
    """The drift profile, or None for data it cannot describe (recording a data set never fails a run)."""
    try:
        return profile_batches(table).to_bytes()
    except (pa.ArrowException, ValueError, TypeError):
        return None


def _fingerprint_table(table: pa.Table, name: str) -> Fingerprint:
    builder = ColumnSummaryBuilder()
    builder.update(table)
    return Fingerprint(
        name=name,
        digest=_table_digest(table),
        kind="table",
        source=None,
        num_rows=table.num_rows,
        num_bytes=table.nbytes,
        schema=_schema_list(table.schema),
        summary=builder.result(),
        profile=_profile(table),
    )


def _is_dataframe(obj: object) -> TypeGuard[pd.DataFrame]:
    # pandas is optional: only look for it when the object comes from it.
    if not type(obj).__module__.startswith("pandas"):
        return False
    import pandas as pd

    return isinstance(obj, pd.DataFrame)


def _table_from_pandas(df: pd.DataFrame) -> pa.Table:
    table = pa.Table.from_pandas(df, preserve_index=False)
    return table.replace_schema_metadata(None)


def _table_from_numpy(arr: np.ndarray) -> pa.Table:
    if arr.ndim == 0:
        raise ValueError("cannot fingerprint a 0-dimensional numpy array: it has no rows")
    matrix = arr.reshape(len(arr), -1) if arr.ndim > 1 else arr.reshape(-1, 1)
    columns: list[pa.Array] = []
    for i in range(matrix.shape[1]):
        try:
            columns.append(pa.array(matrix[:, i]))
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise TypeError(
                f"cannot fingerprint a numpy array of dtype {arr.dtype}: column {i} holds values that Arrow "
                f"cannot convert ({exc}); pass a DataFrame or an Arrow table with explicit types"
            ) from exc
    return pa.Table.from_arrays(columns, names=[str(i) for i in range(len(columns))])
