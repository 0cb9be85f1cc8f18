"""Per-column summaries of Arrow data, built batch by batch and mergeable (pure, no I/O)."""

from __future__ import annotations

import hashlib
import heapq
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DISTINCT_EXACT_LIMIT", "TOP_K", "ColumnSummaryBuilder"]

# Distinct values are counted exactly up to this many; past it, counts are approximate (see _Categorical).
DISTINCT_EXACT_LIMIT = 10_000
TOP_K = 5
_KMV_SIZE = 4096  # hashes kept by the distinct-count sketch: relative error about 1/sqrt(4096) ≈ 1.6 %


def _json_float(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


class _Numeric:
    """count/mean/M2 merged with Chan et al.'s parallel algorithm; ``std`` is the sample std (ddof=1)."""

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.min: int | float | None = None
        self.max: int | float | None = None

    def update(self, arr: pa.Array) -> int:
        """Add the values of ``arr``; return how many of them were NaN."""
        if pa.types.is_boolean(arr.type):
            arr = arr.cast(pa.int8())
        values = arr.drop_null()
        nan = 0
        if pa.types.is_floating(values.type):
            values = values.cast(pa.float64())
            is_nan = pc.is_nan(values)
            nan = int(pc.sum(is_nan).as_py() or 0)
            if nan:
                values = values.filter(pc.invert(is_nan))
        n = len(values)
        if n == 0:
            return nan
        as_float = values.cast(pa.float64())
        mean = float(pc.mean(as_float).as_py())
        m2 = float(pc.variance(as_float, ddof=0).as_py()) * n
        mm = pc.min_max(values)
        self.merge_parts(n, mean, m2, mm["min"].as_py(), mm["max"].as_py())
        return nan

    def merge_parts(
        self, n: int, mean: float, m2: float, lo: int | float | None, hi: int | float | None
    ) -> None:
        if n == 0:
            return
        total = self.n + n
        delta = mean - self.mean
        if self.n == 0:
            self.mean, self.m2 = mean, m2
        else:
            self.mean += delta * n / total
            self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total
        self.min = lo if self.min is None or (lo is not None and lo < self.min) else self.min
        self.max = hi if self.max is None or (hi is not None and hi > self.max) else self.max

    def merge(self, other: _Numeric) -> None:
        self.merge_parts(other.n, other.mean, other.m2, other.min, other.max)

    def result(self) -> dict[str, Any]:
        if self.n == 0:
            return {"min": None, "max": None, "mean": None, "std": None}
        std = math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 and self.m2 >= 0 else None
        return {
            "min": _json_float(self.min) if isinstance(self.min, float) else self.min,
            "max": _json_float(self.max) if isinstance(self.max, float) else self.max,
            "mean": _json_float(self.mean),
            "std": None if std is None else _json_float(std),
        }


class _Categorical:
    """Exact value counts up to DISTINCT_EXACT_LIMIT distinct values.

    Past the limit only the most frequent DISTINCT_EXACT_LIMIT counters are kept (so ``top`` stays right for
    frequent values) and ``distinct`` comes from a k-minimum-values sketch over blake2b hashes.
    """

    def __init__(self) -> None:
        self.counts: dict[Any, int] = {}
        self.approx = False
        self.kmv = np.empty(0, dtype=np.uint64)

    def update(self, arr: pa.Array) -> None:
        if isinstance(arr, pa.DictionaryArray):
            arr = arr.dictionary_decode()
        vc = pc.value_counts(arr.drop_null())
        self.add_counts(
            dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True))
        )

    def add_counts(self, counts: dict[Any, int], kmv: np.ndarray | None = None) -> None:
        if self.approx:
            self._sketch(counts.keys())
        for value, count in counts.items():
            self.counts[value] = self.counts.get(value, 0) + count
        if kmv is not None:
            self._merge_kmv(kmv)
        if len(self.counts) > DISTINCT_EXACT_LIMIT:
            if not self.approx:
                self.approx = True
                self._sketch(self.counts.keys())
            kept = heapq.nlargest(DISTINCT_EXACT_LIMIT, self.counts.items(), key=lambda kv: kv[1])
            self.counts = dict(kept)

    def merge(self, other: _Categorical) -> None:
        if other.approx and not self.approx:
            self.approx = True
            self._sketch(self.counts.keys())
        self.add_counts(other.counts, other.kmv if other.approx else None)

    def _sketch(self, values: Any) -> None:
        hashes = [
            int.from_bytes(hashlib.blake2b(repr(v).encode(), digest_size=8).digest(), "little")
            for v in values
        ]
        self._merge_kmv(np.asarray(hashes, dtype=np.uint64))

    def _merge_kmv(self, hashes: np.ndarray) -> None:
        self.kmv = np.unique(np.concatenate([self.kmv, hashes]))[:_KMV_SIZE]

    def result(self) -> dict[str, Any]:
        top = sorted(self.counts.items(), key=lambda kv: (-kv[1], repr(kv[0])))[:TOP_K]
        out: dict[str, Any] = {"distinct": len(self.counts)}
        if self.approx:
            distinct = len(self.kmv)
            if distinct >= _KMV_SIZE:
                distinct = round((_KMV_SIZE - 1) / (float(self.kmv[-1]) / 2.0**64))
            out = {"distinct": max(distinct, DISTINCT_EXACT_LIMIT), "distinct_approx": True}
        out["top"] = [{"value": _json_value(v), "count": c} for v, c in top]
        return out


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    return str(v)


class _Temporal:
    """Min and max of timestamps and dates, kept as their integer representation."""

    def __init__(self, type_: pa.DataType) -> None:
        self.type = type_
        self.min: int | None = None
        self.max: int | None = None

    def update(self, arr: pa.Array) -> None:
        storage = pa.int32() if pa.types.is_date32(arr.type) else pa.int64()
        mm = pc.min_max(arr.cast(storage))
        self.merge_parts(mm["min"].as_py(), mm["max"].as_py())

    def merge_parts(self, lo: int | None, hi: int | None) -> None:
        if lo is not None and (self.min is None or lo < self.min):
            self.min = lo
        if hi is not None and (self.max is None or hi > self.max):
            self.max = hi

    def merge(self, other: _Temporal) -> None:
        self.merge_parts(other.min, other.max)

    def _iso(self, value: int | None) -> str | None:
        if value is None:
            return None
        storage = pa.int32() if pa.types.is_date32(self.type) else pa.int64()
        text = pa.array([value], storage).cast(self.type).cast(pa.string())[0].as_py()
        return str(text).replace(" ", "T", 1)

    def result(self) -> dict[str, Any]:
        return {"min": self._iso(self.min), "max": self._iso(self.max)}


_Stats = _Numeric | _Categorical | _Temporal | None


def _stats_for(type_: pa.DataType) -> _Stats:
    if pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_boolean(type_):
        return _Numeric()
    if (
        pa.types.is_string(type_)
        or pa.types.is_large_string(type_)
        or pa.types.is_string_view(type_)
        or pa.types.is_dictionary(type_)
    ):
        return _Categorical()
    if pa.types.is_timestamp(type_) or pa.types.is_date(type_):
        return _Temporal(type_)
    return None


class _Column:
    def __init__(self, type_: pa.DataType) -> None:
        self.type = type_
        self.count = 0
        self.missing = 0
        self.stats = _stats_for(type_)

    def update(self, arr: pa.Array) -> None:
        self.count += len(arr)
        self.missing += arr.null_count
        if isinstance(self.stats, _Numeric):
            self.missing += self.stats.update(arr)
        elif self.stats is not None:
            self.stats.update(arr)

    def merge(self, other: _Column) -> None:
        self.count += other.count
        self.missing += other.missing
        if self.stats is not None and other.stats is not None:
            self.stats.merge(other.stats)  # type: ignore[arg-type]  # same type: checked by the caller

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": str(self.type), "count": self.count, "missing": self.missing}
        if self.stats is not None:
            out.update(self.stats.result())
        return out


class ColumnSummaryBuilder:
    """Summarise columns over record batches: ``update`` each batch (or ``merge`` partial builders), then
    ``result()`` gives ``{column: {type, count, missing, ...}}`` ready for JSON.

    Numeric columns (ints, floats, bools) add min, max, mean and sample std; NaN counts as missing and is left
    out of them. Strings and dictionaries add ``distinct`` and ``top`` (the TOP_K most frequent values with
    counts); past DISTINCT_EXACT_LIMIT distinct values both are approximate and ``distinct_approx`` is true.
    Timestamps and dates add min and max as ISO strings. Other types give count and missing only.
    """

    def __init__(self) -> None:
        self._columns: dict[str, _Column] = {}

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            col = self._column(name, column.type)
            chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
            for chunk in chunks:
                col.update(chunk)

    def merge(self, other: ColumnSummaryBuilder) -> None:
        """Fold in a builder that summarised other batches of the same columns."""
        for name, theirs in other._columns.items():
            self._column(name, theirs.type).merge(theirs)

    def _column(self, name: str, type_: pa.DataType) -> _Column:
        col = self._columns.get(name)
        if col is None:
            col = self._columns[name] = _Column(type_)
        elif col.type != type_:
            raise ValueError(f"column {name!r} changed type from {col.type} to {type_} between batches")
        return col

    def result(self) -> dict[str, dict[str, Any]]:
        return {name: col.result() for name, col in self._columns.items()}
