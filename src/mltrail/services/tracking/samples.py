"""Which samples got worse between two runs: two predictions tables joined by id.

Reports the rows that went from right to wrong and back (paged), the largest changes in loss (log loss
from the probabilities when both tables have them, else the 0/1 error; absolute error for a regression),
the change of the confusion matrix, and the slices where the error rose most (``stats/slices.py``), with
ids found in one table only counted, never an error. Vectorized over Arrow and numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mltrail.entities import RunTable
from mltrail.errors import InvalidInputError
from mltrail.services.tracking.arrow_numpy import arrow_indices, arrow_values, numpy_of
from mltrail.services.tracking.predictions import (
    Roles,
    class_values,
    label_codes,
    proba_matrix,
    recorded_class_values,
)
from mltrail.services.tracking.table_data import ID, Y_PRED, Y_TRUE
from mltrail.services.tracking.table_pages import MAX_PAGE_ROWS, plain_value
from mltrail.services.tracking.tables import TableService

if TYPE_CHECKING:
    import pyarrow as pa

    from mltrail.stats.slices import SliceColumn

__all__ = ["MAX_SLICE_COLUMNS", "SampleService"]

# Slice columns by default: the first features of the newer table (``slices=`` chooses others).
MAX_SLICE_COLUMNS = 20
# Values sampled to find the rows whose loss rose most.
_TOP_SAMPLE = 65_536
# np.choose takes at most 32 arrays; more classes are gathered one class at a time.
_CHOOSE_MAX = 32
_CATEGORICAL_INTS = 20  # an integer column with at most this many values is cut by value, else binned
# Joined row numbers in one table; None: every row, in order (both tables hold the same ids in one order).
Rows = npt.NDArray[np.int64] | None


class SampleService:
    def __init__(self, tables: TableService) -> None:
        self.tables = tables

    def compare(
        self,
        run_a: str,
        run_b: str,
        table: str,
        *,
        step_a: int | None = None,
        step_b: int | None = None,
        offset: int = 0,
        limit: int = 20,
        slices: Sequence[str] | None = None,
        bins: int = 10,
        min_rows: int = 10,
        pairs: bool = True,
        top: int = 20,
    ) -> dict[str, Any]:
        """Samples of ``table`` that got worse from run ``a`` to run ``b`` (and better), and where."""
        if offset < 0 or not 0 <= limit <= MAX_PAGE_ROWS:
            raise InvalidInputError(
                f"offset must be ≥ 0 and limit between 0 and {MAX_PAGE_ROWS}", field="limit"
            )
        if not 2 <= bins <= 100:
            raise InvalidInputError("bins must be between 2 and 100", field="bins")
        ta = self._predictions(run_a, table, step_a, "a")
        tb = self._predictions(run_b, table, step_b, "b")
        roles_a = Roles.from_dict(ta.summary["roles"])
        roles_b = Roles.from_dict(tb.summary["roles"])
        if roles_a.task != roles_b.task:
            raise InvalidInputError(
                f"run a's {table} is a {roles_a.task}, run b's a {roles_b.task}: they cannot be compared",
                field="table",
            )
        chosen = self._slice_columns(roles_b, slices)
        a, b = self._read_both(ta, tb, roles_a, roles_b, chosen)
        ia, ib = _join(a.column(ID), b.column(ID))
        matched = b.num_rows if ib is None else len(ib)
        result: dict[str, Any] = {
            "table": table,
            "task": roles_a.task,
            "a": {"run_id": ta.run_id, "step": ta.step, "rows": ta.rows},
            "b": {"run_id": tb.run_id, "step": tb.step, "rows": tb.rows},
            "matched": matched,
            "only_a": ta.rows - matched,
            "only_b": tb.rows - matched,
            "offset": offset,
            "limit": limit,
        }
        ids = _JoinedIds(b.column(ID), ib)

        def cut(name: str) -> SliceColumn | None:
            return self._cut(name, _rows(b.column(name), ib), bins)

        # The slice columns are cut in two threads while this one computes the errors: both are mostly
        # numpy and Arrow work that lets go of the GIL.
        with ThreadPoolExecutor(max_workers=2) as pool:
            cuts = [pool.submit(cut, name) for name in chosen]
            if roles_a.task == "regression":
                figures, change, err_a, err_b = _regression(a, b, ia, ib)
                paired = False
            else:
                figures, change, err_a, err_b = _classification(
                    a, b, ia, ib, roles_a, roles_b, ids, offset, limit, (ta.summary, tb.summary)
                )
                paired = True
            columns = [c for c in (cut.result() for cut in cuts) if c]
        loss_change = figures.pop("_loss_change")
        loss_a, loss_b = figures.pop("_loss_a"), figures.pop("_loss_b")
        result.update(figures)
        result["largest_changes"] = _largest(ids, loss_a, loss_b, loss_change, offset, limit)
        from mltrail.stats.slices import rank_slices

        result["slice_columns"] = [c.name for c in columns]
        result["slices"] = rank_slices(
            columns, change, err_a, err_b, paired_binary=paired, pairs=pairs, min_rows=min_rows, top=top
        )
        return result

    def _read_both(
        self, ta: RunTable, tb: RunTable, roles_a: Roles, roles_b: Roles, chosen: list[str]
    ) -> tuple[pa.Table, pa.Table]:
        """Both tables' columns, each file checked against its sha256 and read in a thread of its own (the
        check and Parquet's decoding release the GIL): run b's text slice columns as dictionary arrays."""

        def read_a() -> pa.Table:
            return self.tables.parquet(ta).read(columns=[ID, Y_TRUE, Y_PRED, *roles_a.proba.values()])

        def read_b() -> pa.Table:
            text = sorted({c.name for c in tb.columns if c.type in ("string", "large_string")} & set(chosen))
            parquet = self.tables.parquet(tb, read_dictionary=text)
            return parquet.read(columns=[ID, Y_TRUE, Y_PRED, *roles_b.proba.values(), *chosen])

        # pyarrow and its Parquet reader are imported here, before the threads start: a module imported by
        # two threads at once may be seen half made by one of them (CI saw a half-made pyarrow.lib from
        # pyarrow.compute, imported below while a reader thread was importing pyarrow itself).
        import pyarrow.parquet

        with ThreadPoolExecutor(max_workers=2) as pool:
            a, b = pool.submit(read_a), pool.submit(read_b)
            # While the two threads hash and decode (without the GIL), this one imports what comes next,
            # which they do not import.
            import pyarrow.compute  # noqa: F401

            import mltrail.stats.slices  # noqa: F401

            return a.result(), b.result()

    def _predictions(self, run_id: str, name: str, step: int | None, which: str) -> RunTable:
        found = self.tables.get(run_id, name, step)
        if found.kind != "predictions":
            raise InvalidInputError(
                f"table {name!r} of run {which} is a plain table; log it with log_predictions", field="table"
            )
        return found

    @staticmethod
    def _slice_columns(roles: Roles, slices: Sequence[str] | None) -> list[str]:
        if slices is None:
            return roles.features[:MAX_SLICE_COLUMNS]
        for name in slices:
            if name not in roles.features:
                raise InvalidInputError(f"{name!r} is not a feature column of run b's table", field="slices")
        if len(slices) > 100:
            raise InvalidInputError("at most 100 slice columns", field="slices")
        return list(dict.fromkeys(slices))

    @staticmethod
    def _cut(name: str, column: pa.ChunkedArray, bins: int) -> SliceColumn | None:
        import pyarrow as pa
        import pyarrow.compute as pc

        from mltrail.stats.slices import MAX_VALUES, SliceColumn, bin_numeric

        t = column.type
        numeric = pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t)
        few = pa.types.is_integer(t) and pc.count_distinct(column).as_py() <= _CATEGORICAL_INTS
        if numeric and not few:
            return bin_numeric(name, numpy_of(column.cast("double")), bins)
        if not pa.types.is_dictionary(t):
            column = pc.dictionary_encode(column.cast(pa.string()))
        unified = column.unify_dictionaries()  # one dictionary for every chunk: their codes agree
        dictionary = unified.chunk(0).dictionary if unified.num_chunks else arrow_values([], pa.string())
        if len(dictionary) > MAX_VALUES:
            return None  # an identifier or free text, not a slice
        labels = [str(plain_value(v)) for v in dictionary.to_pylist()]
        codes = [_codes(chunk.indices, np.int8) for chunk in unified.chunks]  # ≤ MAX_VALUES codes
        return SliceColumn(name, np.concatenate(codes) if codes else np.zeros(0, np.int8), labels)


def _codes(indices: pa.Array, dtype: type[np.signedinteger[Any]] = np.int64) -> npt.NDArray[Any]:
    """Integer codes as ``dtype``, a missing one as −1."""
    values = numpy_of(indices)
    if indices.null_count:
        values = np.where(np.isnan(values), -1, values)
    return values.astype(dtype)


def _rows(column: pa.ChunkedArray, rows: Rows) -> pa.ChunkedArray:
    """The column's joined rows (``None``: all of them, in order)."""
    return column if rows is None else column.take(arrow_indices(rows))


def _pick(values: npt.NDArray[Any], rows: Rows) -> npt.NDArray[Any]:
    """The joined rows of ``values`` (``None``: all of them, in order)."""
    return values if rows is None else values[rows]


class _JoinedIds:
    """The ids of the joined rows, taken only for the rows a response lists."""

    def __init__(self, column: pa.ChunkedArray, rows: Rows) -> None:
        self.column = column
        self.rows = rows

    def take(self, positions: npt.NDArray[np.int64]) -> pa.ChunkedArray:
        return self.column.take(arrow_indices(positions if self.rows is None else self.rows[positions]))


def _join(ids_a: pa.ChunkedArray, ids_b: pa.ChunkedArray) -> tuple[Rows, Rows]:
    """Row numbers of the ids present in both tables, pairwise, in b's order; ``None`` for a table whose
    every row is joined in its order: both when the two hold the same ids in one order (the same evaluation
    set logged twice), b's when each of b's ids is in a."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if ids_a.type != ids_b.type:
        try:
            ids_a = ids_a.cast(ids_b.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidInputError(
                f"the ids of the two tables are not of one type: {exc}", field="ids"
            ) from exc
    if ids_a.equals(ids_b):
        return None, None
    position = _positions_by_value(ids_a, ids_b) if pa.types.is_integer(ids_b.type) else None
    if position is None:
        # A hash lookup of each of b's ids among a's (unique, checked when logged): a's row number, or null.
        found = pc.index_in(ids_b, value_set=ids_a.combine_chunks())
        position = (
            np.concatenate([_codes(chunk) for chunk in found.chunks])
            if found.num_chunks
            else np.zeros(0, dtype=np.int64)
        )
    ib = np.flatnonzero(position >= 0).astype(np.int64)
    if len(ib) == len(position):  # every row of b matched: b as it is, a's rows gathered to b's order
        return position, None
    return position[ib], ib


def _positions_by_value(ids_a: pa.ChunkedArray, ids_b: pa.ChunkedArray) -> npt.NDArray[np.int64] | None:
    """For integer ids spanning a range at most a few times the row count (row numbers, shuffled or not, and
    most keys): a's row number of each of b's ids (−1: not in a) through one lookup array indexed by value,
    several times faster than a hash table. None when the span is too wide for that."""
    a, b = numpy_of(ids_a), numpy_of(ids_b)
    if not len(a) or not len(b) or a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
        return None  # no rows, or ids with missing values (made float)
    low, high = min(int(a.min()), int(b.min())), max(int(a.max()), int(b.max()))
    span = high - low + 1
    if span > 4 * (len(a) + len(b)) or max(abs(low), abs(high)) >= 2**62:  # the offsets fit in int64
        return None
    lookup = np.full(span, -1, dtype=np.int64)
    lookup[a.astype(np.int64) - low] = np.arange(len(a), dtype=np.int64)
    found: npt.NDArray[np.int64] = lookup[b.astype(np.int64) - low]
    return found


def _regression(
    a: pa.Table, b: pa.Table, ia: Rows, ib: Rows
) -> tuple[dict[str, Any], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    def err(t: pa.Table, rows: Rows) -> npt.NDArray[np.float64]:
        truth = _pick(numpy_of(t.column(Y_TRUE).cast("double")), rows)
        pred = _pick(numpy_of(t.column(Y_PRED).cast("double")), rows)
        out: npt.NDArray[np.float64] = np.abs(pred - truth)
        return out

    err_a, err_b = err(a, ia), err(b, ib)
    change = np.nan_to_num(err_b - err_a, nan=0.0, posinf=0.0, neginf=0.0)
    n = len(err_b)
    figures = {
        "loss": "absolute_error",
        "error_a": round(float(np.nanmean(err_a)), 6) if n else None,
        "error_b": round(float(np.nanmean(err_b)), 6) if n else None,
        "worse": int((change > 0).sum()),
        "better": int((change < 0).sum()),
        "_loss_a": err_a,
        "_loss_b": err_b,
        "_loss_change": change,
    }
    return figures, change, np.nan_to_num(err_a), np.nan_to_num(err_b)


def _classification(
    a: pa.Table,
    b: pa.Table,
    ia: Rows,
    ib: Rows,
    roles_a: Roles,
    roles_b: Roles,
    ids: _JoinedIds,
    offset: int,
    limit: int,
    summaries: Sequence[dict[str, Any]] = (),
) -> tuple[dict[str, Any], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """A classifier's figures. The classes are those the two tables' ``summaries`` recorded when logged
    (none given: read from the labels)."""
    labels = (b.column(Y_TRUE), b.column(Y_PRED), a.column(Y_TRUE), a.column(Y_PRED))
    values = (
        recorded_class_values(summaries, labels[0].type)
        if summaries and all(column.type == labels[0].type for column in labels)
        else None
    )
    if values is None:
        try:
            values = class_values(*labels)
        except Exception as exc:  # pyarrow raises several types for an impossible cast
            raise InvalidInputError(
                f"the labels of the two tables are not of one type: {exc}", field="table"
            ) from exc
    classes = [str(v) for v in values.to_pylist()]
    k = len(classes)
    true_a = _pick(label_codes(a.column(Y_TRUE), values), ia)
    pred_a = _pick(label_codes(a.column(Y_PRED), values), ia)
    truth = _pick(label_codes(b.column(Y_TRUE), values), ib)
    pred_b = _pick(label_codes(b.column(Y_PRED), values), ib)
    wrong_a = (pred_a != truth).astype(np.float64)
    wrong_b = (pred_b != truth).astype(np.float64)
    change = wrong_b - wrong_a
    worse = np.flatnonzero(change > 0)
    better = np.flatnonzero(change < 0)
    if roles_a.proba and roles_b.proba:
        loss_name = "log_loss"
        loss_a = _log_loss(truth, proba_matrix(a, roles_a, classes, finite=False), ia, k)
        loss_b = _log_loss(truth, proba_matrix(b, roles_b, classes, finite=False), ib, k)
    else:
        loss_name, loss_a, loss_b = "error", wrong_a, wrong_b
    conf_a = np.bincount(truth * k + pred_a, minlength=k * k).reshape(k, k)
    conf_b = np.bincount(truth * k + pred_b, minlength=k * k).reshape(k, k)
    n = len(truth)

    def listing(rows: npt.NDArray[np.int64]) -> dict[str, Any]:
        page = rows[offset : offset + limit]
        return {
            "count": len(rows),
            "rows": [
                {"id": plain_value(i), "y_true": classes[t], "y_pred_a": classes[p], "y_pred_b": classes[q]}
                for i, t, p, q in zip(
                    ids.take(page).to_pylist(), truth[page], pred_a[page], pred_b[page], strict=True
                )
            ],
        }

    figures = {
        "loss": loss_name,
        "error_a": round(float(wrong_a.mean()), 6) if n else None,
        "error_b": round(float(wrong_b.mean()), 6) if n else None,
        "label_changed": int((true_a != truth).sum()),
        "right_to_wrong": listing(worse),
        "wrong_to_right": listing(better),
        "confusion": {
            "classes": classes,
            "a": conf_a.tolist(),
            "b": conf_b.tolist(),
            "change": (conf_b - conf_a).tolist(),
        },
        "_loss_a": loss_a,
        "_loss_b": loss_b,
        "_loss_change": loss_b - loss_a,
    }
    return figures, change, wrong_a, wrong_b


def _log_loss(
    truth: npt.NDArray[np.int64],
    proba: dict[int, npt.NDArray[np.float64]],
    rows: Rows,
    k: int,
) -> npt.NDArray[np.float64]:
    """Each joined row's log loss: −log of the probability its table gave the true class (a class without a
    column: 0, or in a two-class table with one column, its complement), clipped as ``log_loss_per_row``
    (a missing probability counts as 0, an infinite one is clipped like any other)."""
    from mltrail.stats.evaluation import EPS

    choices: list[Any] = [0.0] * k  # arrays, and 0.0 for a class without a column
    for c, column in proba.items():
        given = _pick(column, rows)
        choices[c] = given
        if k == 2 and len(proba) == 1:
            choices[1 - c] = 1.0 - given
    if 0 < k <= _CHOOSE_MAX:  # one pass over the rows
        p_true = np.choose(truth, choices)
    else:
        p_true = np.zeros(len(truth))
        for c, chosen in enumerate(choices):
            if isinstance(chosen, np.ndarray):
                np.copyto(p_true, chosen, where=truth == c)
    # fmax takes EPS over NaN: a missing probability is 0 clipped to EPS.
    loss: npt.NDArray[np.float64] = np.fmax(p_true, EPS)
    np.fmin(loss, 1.0, out=loss)
    np.log(loss, out=loss)
    np.negative(loss, out=loss)
    return loss


def _top_rises(change: npt.NDArray[np.float64], want: int) -> npt.NDArray[np.int64]:
    """Row numbers of the ``want`` largest positive changes, largest first (ties by row number; NaN is not
    a rise). Instead of a partition of every row, the rows at or above the ``want``-th largest of every
    k-th value are kept: that value is at most the ``want``-th largest of all rows, so they hold the answer,
    and they are few. Two passes over the rows, and no copy of them."""
    sample = change[:: max(1, len(change) // _TOP_SAMPLE)]
    floor = 0.0
    if want <= len(sample):
        cut = len(sample) - want
        floor = max(floor, float(np.partition(np.nan_to_num(sample, nan=-np.inf), cut)[cut]))
    rows = np.flatnonzero(change >= floor) if floor > 0 else np.flatnonzero(change > 0)
    if len(rows) > want:  # too many ties with the floor, or too few positive values sampled
        values = change[rows]
        cut = len(values) - want
        rows = rows[values >= np.partition(values, cut)[cut]]
    ordered: npt.NDArray[np.int64] = rows[np.lexsort((rows, -change[rows]))][:want]
    return ordered


def _largest(
    ids: _JoinedIds,
    loss_a: npt.NDArray[np.float64],
    loss_b: npt.NDArray[np.float64],
    change: npt.NDArray[np.float64],
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    """The rows whose loss rose most (largest first), ``offset``..``offset + limit``."""
    want = offset + limit
    if want == 0 or len(change) == 0:
        return []
    top = _top_rises(change, want)[offset:]
    return [
        {
            "id": plain_value(i),
            "loss_a": float(loss_a[r]),
            "loss_b": float(loss_b[r]),
            "change": float(change[r]),
        }
        for i, r in zip(ids.take(top).to_pylist(), top.tolist(), strict=True)
    ]
