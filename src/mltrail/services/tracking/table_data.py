"""Turning what a user logs into an Arrow table and Parquet bytes: pandas and polars DataFrames, Arrow
tables, dicts of columns, lists of row dicts; and the layout of a predictions table.

It imports no store, so the SDK uses it against a server too. Strings that are not valid UTF-8 (``bytes``,
or ``str`` holding lone surrogates from ``surrogateescape``) are kept: bytes as a binary column, such text
with its bad characters written as ``\\xNN`` escapes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail.errors import InvalidInputError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ID",
    "MAX_CHUNKS",
    "PREDICTION_GROUP_ROWS",
    "PROBA",
    "ROW_GROUP_ROWS",
    "Y_PRED",
    "Y_TRUE",
    "class_labels",
    "predictions_table",
    "row_group_rows",
    "to_arrow",
    "to_parquet",
    "validate_table_name",
]

ID, Y_TRUE, Y_PRED, PROBA = "id", "y_true", "y_pred", "proba"
# Rows per Parquet row group: a page reads only the row groups its rows fall in, and the 50 rows of a sorted
# page may lie in 50 groups, so groups are small; a wide table gets longer groups, so that groups × columns
# (the footer's size) stays near MAX_CHUNKS.
ROW_GROUP_ROWS = 2_048
# A predictions table is read whole (its core and slice columns) by ``runs samples``: longer groups halve the
# cost of that scan (8,192-row groups decode 1M rows in about half the CPU time of 2,048-row ones).
PREDICTION_GROUP_ROWS = 8_192
MAX_CHUNKS = 100_000
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")


def validate_table_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            f"a table name is 1–200 letters, digits, '_', '.' or '-', got {name!r}", field="name"
        )
    return name


def _column(name: str, values: Any) -> pa.Array | pa.ChunkedArray:
    import pyarrow as pa

    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    if hasattr(values, "to_arrow") and not hasattr(values, "columns"):  # a polars Series
        return values.to_arrow()
    try:
        return pa.array(values, from_pandas=True)
    except UnicodeEncodeError:
        return pa.array([_clean(v) for v in values], from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        try:  # mixed types: kept as text rather than refused
            return pa.array(
                [None if v is None else _clean(v if isinstance(v, str) else str(v)) for v in values]
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            raise InvalidInputError(f"column {name!r} cannot be stored: {exc}", field=f"data.{name}") from exc


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return value


def to_arrow(data: Any, field: str = "data") -> pa.Table:
    """An Arrow table from a pandas or polars DataFrame, an Arrow table or record batch, a dict of columns or
    a list of row dicts; anything else is an ``InvalidInputError`` naming ``field``."""
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    module = type(data).__module__.split(".")[0]
    if module == "polars" and hasattr(data, "to_arrow"):
        table = data.to_arrow()
        assert isinstance(table, pa.Table)
        return table
    if module == "pandas" and hasattr(data, "columns"):
        columns = {str(c): _column(str(c), data[c].to_numpy()) for c in data.columns}
        if len(columns) != len(data.columns):
            raise InvalidInputError("the DataFrame has two columns with the same name", field=field)
        return pa.table(columns)
    if isinstance(data, Mapping):
        return pa.table({str(k): _column(str(k), v) for k, v in data.items()})
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        if not all(isinstance(r, Mapping) for r in data):
            raise InvalidInputError(f"{field} as a list must hold one dict per row", field=field)
        names: dict[str, None] = {}
        for row in data:
            names.update(dict.fromkeys(str(k) for k in row))
        return pa.table({n: _column(n, [r.get(n) for r in data]) for n in names})
    raise InvalidInputError(
        f"{field} must be a pandas or polars DataFrame, an Arrow table, a dict of columns or a list of row "
        f"dicts, not {type(data).__name__}",
        field=field,
    )


def predictions_table(
    ids: Any, y_true: Any, y_pred: Any, proba: Any = None, features: Any = None, task: str | None = None
) -> pa.Table:
    """The predictions layout: ``id``, ``y_true``, ``y_pred``, then ``proba`` (a binary classifier's
    probability of its positive class, the larger label) or ``proba.<class>`` per class, then the feature
    columns under their own names. Duplicate or missing ids are refused here, naming ``ids``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns: dict[str, Any] = {ID: _column(ID, _values(ids)), Y_TRUE: _column(Y_TRUE, _values(y_true))}
    columns[Y_PRED] = _column(Y_PRED, _values(y_pred))
    n = len(columns[ID])
    for key in (Y_TRUE, Y_PRED):
        if len(columns[key]) != n:
            raise InvalidInputError(f"{key} has {len(columns[key])} values for {n} ids", field=key)
    if columns[ID].null_count:
        raise InvalidInputError("ids must not be missing", field="ids")
    if n and pc.count_distinct(columns[ID]).as_py() != n:
        raise InvalidInputError("ids must be unique: each row is one sample", field="ids")
    if proba is not None:
        columns.update(_proba_columns(proba, columns[Y_TRUE], columns[Y_PRED], n))
    if features is not None:
        feats = to_arrow(features, "features")
        if feats.num_rows != n and feats.num_columns:
            raise InvalidInputError(f"features has {feats.num_rows} rows for {n} ids", field="features")
        for name, column in zip(feats.column_names, feats.columns, strict=True):
            if name in columns or name == PROBA or name.startswith(PROBA + "."):
                raise InvalidInputError(
                    f"feature {name!r} clashes with a column of predictions", field="features"
                )
            columns[name] = column
    table = pa.table(columns)
    if task is not None:
        if task not in ("classification", "regression"):
            raise InvalidInputError("task must be 'classification' or 'regression'", field="task")
        table = table.replace_schema_metadata({b"mltrail.task": task.encode()})
    return table


def _values(values: Any) -> Any:
    if hasattr(values, "to_numpy") and not hasattr(values, "to_arrow"):
        return values.to_numpy()
    return values


def _proba_columns(proba: Any, y_true: Any, y_pred: Any, n: int) -> dict[str, Any]:
    import numpy as np

    if isinstance(proba, Mapping):
        out = {f"{PROBA}.{k}": np.asarray(v, dtype=np.float64) for k, v in proba.items()}
    elif hasattr(proba, "columns") and type(proba).__module__.startswith("pandas"):
        out = {f"{PROBA}.{c}": proba[c].to_numpy(dtype=np.float64) for c in proba.columns}
    else:
        matrix = np.asarray(proba, dtype=np.float64)
        if matrix.ndim == 1:
            out = {PROBA: matrix}
        elif matrix.ndim == 2:
            classes = class_labels(y_true, y_pred)
            if matrix.shape[1] != len(classes):
                raise InvalidInputError(
                    f"proba has {matrix.shape[1]} columns but the labels hold {len(classes)} classes "
                    f"({', '.join(classes[:10])}); pass a dict {{class: probabilities}}",
                    field="proba",
                )
            out = {f"{PROBA}.{c}": matrix[:, i] for i, c in enumerate(classes)}
        else:
            raise InvalidInputError("proba must be one or two dimensional", field="proba")
    for name, values in out.items():
        if len(values) != n:
            raise InvalidInputError(f"{name} has {len(values)} values for {n} ids", field="proba")
    return out


def class_labels(y_true: Any, y_pred: Any) -> list[str]:
    """The classes of a classifier: the distinct labels of ``y_true`` and ``y_pred`` in sorted order, as
    text (the service names classes the same way)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    truth = _as_array(y_true)
    labels = pa.concat_arrays([truth, _as_array(y_pred).cast(truth.type)])
    uniq = pc.unique(labels)
    uniq = uniq.filter(pc.is_valid(uniq))
    return [str(v) for v in uniq.take(pc.sort_indices(uniq)).to_pylist()]


def _as_array(values: Any) -> pa.Array:
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    assert isinstance(values, pa.Array)
    return values


def row_group_rows(rows: int, columns: int, least: int = ROW_GROUP_ROWS) -> int:
    """Rows per row group for a table of this shape."""
    groups = max(1, MAX_CHUNKS // max(1, columns))
    return max(least, -(-rows // groups))


def to_parquet(table: pa.Table, least_group_rows: int = ROW_GROUP_ROWS) -> bytes:
    """Parquet bytes in small row groups (``row_group_rows``), with statistics, snappy-compressed (it
    decodes about 40% faster than zstd, and a page decodes many groups)."""
    import pyarrow.parquet as pq

    out = io.BytesIO()
    size = row_group_rows(table.num_rows, table.num_columns, least_group_rows)
    pq.write_table(table, out, row_group_size=size, compression="snappy")
    return out.getvalue()
