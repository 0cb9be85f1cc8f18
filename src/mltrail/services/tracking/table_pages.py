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
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mltrail.entities import SortKey, TableColumn
from mltrail.errors import InvalidInputError
from mltrail.query_ast import And, Comparison, Exists, Expr, Not, Or

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

__all__ = ["MAX_PAGE_ROWS", "OrderCache", "columns_of", "page_rows", "plain_value", "row_order"]

MAX_PAGE_ROWS = 1_000
_ROW = "__mltrail_row"


def columns_of(schema: pa.Schema) -> list[TableColumn]:
    return [TableColumn(f.name, str(f.type)) for f in schema]


def _referenced(expr: Expr | None, out: set[str]) -> set[str]:
    if isinstance(expr, Comparison | Exists):
        out.add(expr.field.key)
    elif isinstance(expr, And | Or):
        for item in expr.items:
            _referenced(item, out)
    elif isinstance(expr, Not):
        _referenced(expr.item, out)
    return out


def _compile(expr: Expr, schema: pa.Schema) -> pc.Expression:
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(expr, And | Or):
        parts = [_compile(item, schema) for item in expr.items]
        result = parts[0]
        for part in parts[1:]:
            result = result & part if isinstance(expr, And) else result | part
        return result
    if isinstance(expr, Not):
        return ~_compile(expr.item, schema)
    name = expr.field.key
    field = pc.field(name)
    if isinstance(expr, Exists):
        return field.is_valid()
    arrow_type = schema.field(name).type
    values = expr.value if isinstance(expr.value, tuple) else (expr.value,)
    for value in values:
        _check_literal(name, arrow_type, value)
    if expr.op == "contains":
        if not (pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)):
            raise InvalidInputError(
                f"'contains' applies to text columns; {name} is {arrow_type}", field="filter"
            )
        return pc.match_substring(field, str(expr.value))
    if expr.op in ("in", "not_in"):
        present = [v for v in values if v is not None]
        test = field.isin(pa.array(present, type=arrow_type)) if present else pc.scalar(False)
        if any(v is None for v in values):
            test = test | field.is_null()
        return ~test if expr.op == "not_in" else test
    value = values[0]
    if value is None:
        return field.is_null() if expr.op == "=" else field.is_valid()
    scalar = pc.scalar(value)
    ops: dict[str, Callable[[Any, Any], pc.Expression]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return ops[expr.op](field, scalar)


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


class OrderCache:
    """The last few row orders computed, by (blob digest, filter, sort): blobs never change, so neither do
    they. Thread-safe; ``capacity`` orders of at most 8 bytes a row each."""

    def __init__(self, capacity: int = 4) -> None:
        self.capacity = capacity
        self._orders: OrderedDict[tuple[object, ...], npt.NDArray[np.int64]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> npt.NDArray[np.int64] | None:
        with self._lock:
            found = self._orders.get(key)
            if found is not None:
                self._orders.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], order: npt.NDArray[np.int64]) -> None:
        with self._lock:
            self._orders[key] = order
            while len(self._orders) > self.capacity:
                self._orders.popitem(last=False)


def row_order(
    parquet: pq.ParquetFile, expr: Expr | None, sort: Sequence[SortKey]
) -> npt.NDArray[np.int64] | None:
    """Row numbers of the rows ``expr`` keeps, in ``sort`` order (missing values last, ties in table
    order); None when there is neither (every row, in order)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    if expr is None and not sort:
        return None
    names = sorted(_referenced(expr, set()) | {k.field for k in sort})
    table = parquet.read(columns=names)
    n = table.num_rows
    table = table.append_column(_ROW, pa.array(np.arange(n, dtype=np.int64)))
    if expr is not None:
        compiled = _compile(expr, parquet.schema_arrow)
        try:
            table = ds.dataset(table).to_table(filter=compiled)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise InvalidInputError(
                f"the filter cannot be applied to this table: {exc}", field="filter"
            ) from exc
    if sort:
        keys = [(k.field, "descending" if k.descending else "ascending", "at_end") for k in sort]
        try:
            indices = pc.sort_indices(table, sort_keys=keys)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidInputError(f"the table cannot be sorted that way: {exc}", field="sort") from exc
        rows = table.column(_ROW).take(indices)
    else:
        rows = table.column(_ROW)
    order: npt.NDArray[np.int64] = rows.to_numpy()
    return order


def page_rows(
    parquet: pq.ParquetFile, rows: npt.NDArray[np.int64], columns: Sequence[str]
) -> list[list[Any]]:
    """The values of ``rows`` (row numbers, in the order to return them) in ``columns``, read from the row
    groups those rows fall in only, as JSON-ready Python values."""
    meta = parquet.metadata
    if len(rows) == 0:
        return []
    sizes = np.array([meta.row_group(i).num_rows for i in range(meta.num_row_groups)], dtype=np.int64)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    groups = np.searchsorted(starts, rows, side="right") - 1
    needed = np.unique(groups)
    table = parquet.read_row_groups([int(g) for g in needed], columns=list(columns))
    # Where each needed group begins inside the table just read.
    offsets = dict(zip(needed.tolist(), np.r_[0, np.cumsum(sizes[needed])[:-1]].tolist(), strict=True))
    local = rows - starts[groups] + np.array([offsets[g] for g in groups.tolist()], dtype=np.int64)
    taken = table.take(local)
    values = [[plain_value(v) for v in column.to_pylist()] for column in taken.columns]
    return [list(row) for row in zip(*values, strict=True)] if values else [[] for _ in rows]


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
