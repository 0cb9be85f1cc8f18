"""What a predictions table means: its columns' roles, its task, its classes, and the figures computed
from it when it is logged (``stats/evaluation.py``).

The task is ``mltrail.task`` in the Parquet metadata when the logger said it; otherwise a float label
column with fractional values, or a numeric one with more than ``MAX_CLASSES`` distinct values, is a
regression, and anything else a classification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mltrail.errors import InvalidInputError
from mltrail.services.tracking.arrow_numpy import arrow_values, numpy_of
from mltrail.services.tracking.table_data import ID, PROBA, Y_PRED, Y_TRUE

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

__all__ = [
    "MAX_CLASSES",
    "Roles",
    "class_values",
    "describe_predictions",
    "label_codes",
    "proba_matrix",
    "recorded_class_values",
    "roles_of",
]

MAX_CLASSES = 1_000


@dataclass(frozen=True, slots=True)
class Roles:
    """Which column is what: ``proba`` maps a class name to its probability column (``proba`` alone: the
    positive class of a binary classifier, named by ``positive``)."""

    task: str
    proba: dict[str, str] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "proba": self.proba, "features": self.features}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Roles:
        return Roles(
            task=str(data["task"]),
            proba=dict(data.get("proba") or {}),
            features=list(data.get("features") or []),
        )


def _numeric(t: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(t) or pa.types.is_floating(t))


def class_values(*columns: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The distinct labels of ``columns``, sorted (all cast to the first column's type)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    first = columns[0].type
    # Each column's distinct labels, then theirs: no copy of every label of every column in one array.
    uniq = pc.unique(pa.chunked_array([pc.unique(column.cast(first)) for column in columns], type=first))
    uniq = uniq.filter(pc.is_valid(uniq))
    return uniq.take(pc.sort_indices(uniq))


def recorded_class_values(summaries: Sequence[dict[str, Any]], type_: pa.DataType) -> pa.Array | None:
    """``class_values`` of tables from the classes their summaries recorded when they were logged, with no
    pass over the labels, for integer and text labels (of type ``type_``); None for other types, or a
    summary without classes (then ``class_values`` reads the labels)."""
    import pyarrow as pa

    known: set[str] = set()
    for summary in summaries:
        classes = summary.get("classes")
        if not isinstance(classes, list):
            return None
        known.update(str(c) for c in classes)
    if pa.types.is_integer(type_):
        try:
            numbers = sorted(int(c) for c in known)
        except ValueError:
            return None
        if any(str(v) != c for v, c in zip(numbers, sorted(known, key=int), strict=True)):
            return None  # not the text of an integer as the summary writes it ("07", "+1")
        return arrow_values(numbers, type_)
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        # Arrow sorts text by its UTF-8 bytes, Python by code points: the same order.
        return arrow_values(sorted(known), type_)
    return None


def label_codes(column: pa.ChunkedArray | pa.Array, values: pa.Array) -> npt.NDArray[np.int64]:
    """Each label's index in ``values`` (the sorted labels, ``class_values``). Integer labels 0..k−1, as
    scikit-learn's encoders give them, are their own codes: no lookup."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_integer(column.type) and pa.types.is_integer(values.type) and not column.null_count:
        given = numpy_of(values)
        if np.array_equal(given, np.arange(len(given))):
            return numpy_of(column).astype(np.int64, copy=False)
    codes: npt.NDArray[np.int64] = numpy_of(pc.index_in(column.cast(values.type), value_set=values)).astype(
        np.int64
    )
    return codes


def _task(table: pa.Table, metadata: dict[bytes, bytes] | None) -> str:
    import pyarrow as pa
    import pyarrow.compute as pc

    said = (metadata or {}).get(b"mltrail.task")
    if said in (b"classification", b"regression"):
        return said.decode()
    truth = table.column(Y_TRUE)
    if not _numeric(truth.type):
        return "classification"
    if pa.types.is_floating(truth.type):
        both = pa.chunked_array(truth.chunks + table.column(Y_PRED).cast(truth.type).chunks)
        finite = pc.filter(both, pc.is_finite(both))
        if len(finite) and not pc.all(pc.equal(pc.floor(finite), finite)).as_py():
            return "regression"
    distinct = pc.count_distinct(truth).as_py()
    return "regression" if distinct > 50 else "classification"


def roles_of(schema: pa.Schema, task: str, classes: list[str]) -> Roles:
    names = schema.names
    for required in (ID, Y_TRUE, Y_PRED):
        if required not in names:
            raise InvalidInputError(f"a predictions table needs a column {required!r}", field=required)
    proba: dict[str, str] = {}
    for name in names:
        if name == PROBA:
            if task != "classification" or len(classes) > 2:
                raise InvalidInputError(
                    "one proba column is a binary classifier's; give one per class (proba.<class>)",
                    field="proba",
                )
            proba[classes[-1] if classes else "1"] = name
        elif name.startswith(PROBA + "."):
            label = name[len(PROBA) + 1 :]
            if label not in classes:
                raise InvalidInputError(
                    f"{name} names no class of the labels ({', '.join(classes[:10])})", field="proba"
                )
            proba[label] = name
    reserved = {ID, Y_TRUE, Y_PRED, *proba.values()}
    return Roles(task=task, proba=proba, features=[n for n in names if n not in reserved])


def proba_matrix(
    table: pa.Table, roles: Roles, classes: list[str], *, finite: bool = True
) -> dict[int, npt.NDArray[np.float64]]:
    """Class index → probability column, for the classes that have one; infinities made the largest finite
    numbers (``finite``), or kept for a caller that clips them anyway."""
    index = {c: i for i, c in enumerate(classes)}
    out: dict[int, npt.NDArray[np.float64]] = {}
    for label, column in roles.proba.items():
        values = numpy_of(table.column(column).cast("double"))
        out[index[label]] = np.nan_to_num(values, nan=np.nan) if finite else values
    return out


def describe_predictions(parquet: pq.ParquetFile) -> dict[str, Any]:
    """The summary kept with a predictions table: roles, then the evaluation figures. Duplicate or missing
    ids and missing labels are refused, naming the field."""
    import pyarrow.compute as pc

    from mltrail.stats.evaluation import classification_summary, regression_summary

    names = parquet.schema_arrow.names
    for required in (ID, Y_TRUE, Y_PRED):
        if required not in names:
            raise InvalidInputError(f"a predictions table needs a column {required!r}", field=required)
    core = [n for n in names if n in (ID, Y_TRUE, Y_PRED) or n == PROBA or n.startswith(PROBA + ".")]
    table = parquet.read(columns=core)
    n = table.num_rows
    ids = table.column(ID)
    if ids.null_count:
        raise InvalidInputError("ids must not be missing", field="ids")
    if n and pc.count_distinct(ids).as_py() != n:
        raise InvalidInputError("ids must be unique: each row is one sample", field="ids")
    for label in (Y_TRUE, Y_PRED):
        if table.column(label).null_count:
            raise InvalidInputError(f"{label} has missing values", field=label)
    task = _task(table, parquet.schema_arrow.metadata)
    if task == "regression":
        if not (_numeric(table.column(Y_TRUE).type) and _numeric(table.column(Y_PRED).type)):
            raise InvalidInputError("a regression's y_true and y_pred must be numbers", field="y_pred")
        roles = roles_of(parquet.schema_arrow, task, [])
        truth = table.column(Y_TRUE).cast("double").to_numpy(zero_copy_only=False)
        pred = table.column(Y_PRED).cast("double").to_numpy(zero_copy_only=False)
        return {"roles": roles.to_dict(), **regression_summary(truth, pred)}
    try:
        values = class_values(table.column(Y_TRUE), table.column(Y_PRED))
    except Exception as exc:  # pyarrow raises several types for an impossible cast
        raise InvalidInputError(f"y_pred's labels are not of y_true's type: {exc}", field="y_pred") from exc
    classes = [str(v) for v in values.to_pylist()]
    if len(classes) > MAX_CLASSES:
        raise InvalidInputError(
            f"{len(classes)} classes: at most {MAX_CLASSES}; for a regression say task='regression'",
            field="y_true",
        )
    roles = roles_of(parquet.schema_arrow, task, classes)
    truth_codes = label_codes(table.column(Y_TRUE), values)
    pred_codes = label_codes(table.column(Y_PRED), values)
    proba = proba_matrix(table, roles, classes)
    return {"roles": roles.to_dict(), **classification_summary(truth_codes, pred_codes, classes, proba)}
