"""Pages of a Parquet table without loading it whole: the filter language compiled to Arrow compute
expressions, server-side sort, offset and limit.

Only the columns a filter or sort names are read whole (one pass over those columns); the page's own
columns are read from the row groups the page's rows fall in. Blobs never change (they are named by their
sha256), so the order a filter and sort give is kept in a small per-process cache: the next pages of the
same view skip the scan.
"""

from __future__ import annotations

import datetime as dt
import decimal
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mltrail.entities import SortKey, TableColumn
from mltrail.errors import InvalidInputError
from mltrail.query_ast import And, Comparison, Exists, Expr, Not, Or

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

__all__ = [
    "MAX_PAGE_ROWS",
    "Order",
    "OrderCache",
    "columns_of",
    "page_rows",
    "plain_value",
    "referenced_columns",
    "row_order",
]

MAX_PAGE_ROWS = 1_000


def columns_of(schema: pa.Schema) -> list[TableColumn]:
    return [TableColumn(f.name, str(f.type)) for f in schema]


def referenced_columns(expr: Expr) -> set[str]:
    """The columns a filter names."""
    return _referenced(expr, set())


def _referenced(expr: Expr | None, out: set[str]) -> set[str]:
    if isinstance(expr, Comparison | Exists):
        out.add(expr.field.key)
    elif isinstance(expr, And | Or):
        for item in expr.items:
            _referenced(item, out)
    elif isinstance(expr, Not):
        _referenced(expr.item, out)
    return out


def _check_literal(name: str, arrow_type: pa.DataType, value: Any) -> None:
    import pyarrow as pa

    if value is None:
        return
    numeric = pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)
    if numeric and (isinstance(value, str | bool)):
        raise InvalidInputError(
            f"column {name} is a number ({arrow_type}): compare it with a number", field="filter"
        )
    text = pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
    if text and not isinstance(value, str):
        raise InvalidInputError(
            f'column {name} is text: put the value in quotes, e.g. "{value}"', field="filter"
        )
    if pa.types.is_boolean(arrow_type) and not isinstance(value, bool):
        raise InvalidInputError(
            f"column {name} is true or false: compare it with true or false", field="filter"
        )
    if not (numeric or text or pa.types.is_boolean(arrow_type)):
        raise InvalidInputError(
            f"column {name} ({arrow_type}) cannot be compared in a filter", field="filter"
        )


@dataclass(frozen=True, slots=True)
class Order:
    """The rows at positions ``start`` to ``start + len(rows)`` of a filtered and sorted view, and its row
    count."""

    rows: npt.NDArray[np.int64]
    total: int
    start: int = 0

    def covers(self, start: int, stop: int) -> bool:
        """Whether positions ``start`` to ``stop`` are here (or lie past the view's end)."""
        end = self.start + len(self.rows)
        return self.start <= min(start, self.total) and min(stop, self.total) <= end


class OrderCache:
    """The last few row orders computed, by (blob digest, filter, sort): blobs never change, so neither do
    they. Thread-safe; ``capacity`` orders of at most 8 bytes a row each."""

    def __init__(self, capacity: int = 4) -> None:
        self.capacity = capacity
        self._orders: OrderedDict[tuple[object, ...], Order] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> Order | None:
        with self._lock:
            found = self._orders.get(key)
            if found is not None:
                self._orders.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], order: Order) -> None:
        with self._lock:
            self._orders[key] = order
            while len(self._orders) > self.capacity:
                self._orders.popitem(last=False)


def _mask(expr: Expr, table: pa.Table) -> pa.ChunkedArray | pa.Array:
    """``expr`` evaluated over ``table``'s columns: true, false or null (unknown) per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(expr, And | Or):
        combine = pc.and_kleene if isinstance(expr, And) else pc.or_kleene
        result = _mask(expr.items[0], table)
        for item in expr.items[1:]:
            result = combine(result, _mask(item, table))
        return result
    if isinstance(expr, Not):
        return pc.invert(_mask(expr.item, table))
    column = table.column(expr.field.key)
    if isinstance(expr, Exists):
        return pc.is_valid(column)
    if pa.types.is_dictionary(column.type):
        return _through_dictionary(expr, column)
    arrow_type = column.type
    values = expr.value if isinstance(expr.value, tuple) else (expr.value,)
    for value in values:
        _check_literal(expr.field.key, arrow_type, value)
    if expr.op == "contains":
        if not (pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)):
            raise InvalidInputError(
                f"'contains' applies to text columns; {expr.field.key} is {arrow_type}", field="filter"
            )
        return pc.match_substring(column, str(expr.value))
    if expr.op in ("in", "not_in"):
        present = [v for v in values if v is not None]
        test = pc.is_in(column, value_set=pa.array(present).cast(arrow_type)) if present else None
        if any(v is None for v in values):
            test = pc.is_null(column) if test is None else pc.or_(test, pc.is_null(column))
        if test is None:
            test = pa.array(np.zeros(len(column), dtype=bool))
        return pc.invert(test) if expr.op == "not_in" else test
    value = values[0]
    if value is None:
        return pc.is_null(column) if expr.op == "=" else pc.is_valid(column)
    compare = {
        "=": pc.equal,
        "!=": pc.not_equal,
        "<": pc.less,
        "<=": pc.less_equal,
        ">": pc.greater,
        ">=": pc.greater_equal,
    }[expr.op]
    return compare(column, pa.scalar(value))


def _through_dictionary(expr: Comparison, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """``expr`` over a dictionary column (text read as Parquet stores it: each distinct value once and an
    index per row): evaluated once per distinct value and once for a missing one, then looked up by each
    row's index. Every comparison is row by row, so this is what the rows' own values would give."""
    import pyarrow as pa
    import pyarrow.compute as pc

    unified = column.unify_dictionaries()  # one dictionary for every chunk
    value_type = column.type.value_type
    values = unified.chunk(0).dictionary if unified.num_chunks else pa.array([], value_type)
    slots = pa.concat_arrays([values, pa.nulls(1, value_type)])  # the last slot: a missing value
    inner = _mask(expr, pa.table({expr.field.key: slots}))
    if isinstance(inner, pa.ChunkedArray):
        inner = inner.combine_chunks()
    missing = pa.scalar(len(values), pa.int64())
    chunks = [
        pc.take(inner, pc.fill_null(chunk.indices.cast(pa.int64()), missing)) for chunk in unified.chunks
    ]
    return pa.chunked_array(chunks, type=inner.type)


def _sort_key(column: pa.ChunkedArray, descending: bool) -> npt.NDArray[np.float64]:
    """A float key per row that sorts ascending as ``column`` should (missing values: NaN). Numbers are
    their value; anything else its rank among the sorted distinct values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = column.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        key = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    elif pa.types.is_dictionary(t):  # each distinct value ranked once, each row by its index
        unified = column.unify_dictionaries()
        values = unified.chunk(0).dictionary if unified.num_chunks else pa.array([], t.value_type)
        rank = np.empty(len(values) + 1, dtype=np.float64)
        rank[np.asarray(pc.sort_indices(values), dtype=np.int64)] = np.arange(len(values))
        rank[-1] = np.nan  # a missing value
        indices = [
            pc.fill_null(chunk.indices.cast(pa.int64()), len(values)).to_numpy() for chunk in unified.chunks
        ]
        key = rank[np.concatenate(indices)] if indices else np.zeros(0)
    else:
        uniq = pc.unique(column)
        uniq = uniq.filter(pc.is_valid(uniq))
        ordered = uniq.take(pc.sort_indices(uniq))
        codes = pc.index_in(column, value_set=ordered).cast(pa.float64())
        key = codes.to_numpy(zero_copy_only=False)
    result: npt.NDArray[np.float64] = -key if descending else key
    return result


def row_order(
    parquet: pq.ParquetFile,
    expr: Expr | None,
    sort: Sequence[SortKey],
    want: int,
    start: int = 0,
) -> tuple[npt.NDArray[np.int64] | None, int]:
    """Row numbers of the rows ``expr`` keeps, in ``sort`` order (missing values last, ties in table
    order), and how many rows it keeps. With ``sort`` only the rows at positions ``start`` to ``want`` of
    that order are returned: those whose first sort key lies between the keys at the two positions (found by
    one partition) are sorted exactly, and the rows before them are only counted, so a page deep in a sorted
    view costs what the first page does. ``(None, rows)`` when there is neither filter nor sort. Only the
    columns the filter and sort name are read."""
    import pyarrow as pa

    if expr is None and not sort:
        return None, parquet.metadata.num_rows
    names = sorted(_referenced(expr, set()) | {k.field for k in sort})
    table = parquet.read(columns=names)
    rows: npt.NDArray[np.int64] = np.arange(table.num_rows, dtype=np.int64)
    if expr is not None:
        try:
            mask = _mask(expr, table).fill_null(False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise InvalidInputError(
                f"the filter cannot be applied to this table: {exc}", field="filter"
            ) from exc
        rows = np.flatnonzero(mask.to_numpy(zero_copy_only=False)).astype(np.int64)
    total = len(rows)
    if not sort:
        return rows[start:], total  # every kept row from start: later pages need no new scan
    start, want = min(start, total), min(want, total)
    if start >= want:
        return rows[:0], total
    try:
        keys = [_sort_key(table.column(k.field), k.descending)[rows] for k in sort]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(f"the table cannot be sorted that way: {exc}", field="sort") from exc
    missing = [np.isnan(k) for k in keys]
    keys = [np.where(m, np.inf, k) for k, m in zip(keys, missing, strict=True)]
    candidates = np.arange(total)
    before = 0  # rows that come before every candidate
    if start > 0 or want < total:
        # The first key, missing values as +inf (after every present one; the full sort below tells a
        # present +inf from a missing value). Every row at a position from start to want has a first key
        # between the keys found at those two positions.
        first = keys[0]
        bounds = sorted({start, want - 1})
        part = np.partition(first, bounds)
        low, high = part[start], part[want - 1]
        keep = first <= high
        if start > 0:
            keep &= first >= low
            before = int(np.count_nonzero(first < low))
        if np.isfinite(high):
            # Rows tied with the last position's first key: only the first ``need`` of them (by the next
            # key, or by table order) come before ``want``. A text or small-integer first key ties many.
            tied = np.flatnonzero(first == high)
            need = want - int(np.count_nonzero(first < high))
            if len(tied) > need:
                if len(keys) > 1:
                    following = keys[1][tied]
                    keep[tied[following > np.partition(following, need - 1)[need - 1]]] = False
                else:
                    keep[tied[need:]] = False
        candidates = np.flatnonzero(keep)
    # np.lexsort sorts by its last key first: the first sort key, missing after present, then the next…
    columns: list[npt.NDArray[Any]] = [candidates]
    for key, miss in reversed(list(zip(keys, missing, strict=True))):
        columns.extend((key[candidates], miss[candidates]))
    ordered = candidates[np.lexsort(columns)][start - before : want - before]
    return rows[ordered], total


def page_rows(
    parquet: pq.ParquetFile, rows: npt.NDArray[np.int64], columns: Sequence[str]
) -> list[list[Any]]:
    """The values of ``rows`` (row numbers, in the order to return them) in ``columns``, as JSON-ready
    Python values, read from the row groups those rows fall in only (a sorted page's rows lie in up to
    as many groups as it has rows: hence small row groups)."""
    if len(rows) == 0:
        return []
    meta = parquet.metadata
    sizes = np.array([meta.row_group(i).num_rows for i in range(meta.num_row_groups)], dtype=np.int64)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    groups = np.searchsorted(starts, rows, side="right") - 1
    needed = np.unique(groups)
    table = parquet.read_row_groups([int(g) for g in needed], columns=list(columns))
    # Where each needed group begins inside the table just read.
    offsets = dict(zip(needed.tolist(), np.r_[0, np.cumsum(sizes[needed])[:-1]].tolist(), strict=True))
    local = rows - starts[groups] + np.array([offsets[g] for g in groups.tolist()], dtype=np.int64)
    return _python_rows(table.take(local), len(rows))


def _python_rows(taken: pa.Table, n: int) -> list[list[Any]]:
    values = [[plain_value(v) for v in column.to_pylist()] for column in taken.columns]
    return [list(row) for row in zip(*values, strict=True)] if values else [[] for _ in range(n)]


def plain_value(value: Any) -> Any:
    """A value JSON can carry: bytes as text (bytes that are not UTF-8 as ``\\xNN``), times as ISO text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, tuple):  # map entries
        return [plain_value(v) for v in value]
    return value
