"""``drift_report``: one call in a notebook, reference against current data, no monitor or store needed.

Data may be pandas or polars DataFrames, Arrow tables or record batches, paths to Parquet files or folders
of them (a folder is a ``pyarrow.dataset`` with Hive partitions such as ``monitor=…/day=…/``, which a
``reference_filter``/``current_filter`` can prune; a URL such as ``s3://…`` goes to pyarrow's filesystems),
``pyarrow.dataset.Dataset`` objects, or Spark DataFrames (profiled inside Spark, ``spark_profile.py``; only
the profiles reach this process). Files are read batch by batch, so data larger than memory still works.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mltrail.errors import InvalidInputError
from mltrail.render.html_report import render_report_html
from mltrail.services.monitoring.figures import drift_options, window_figures
from mltrail.services.monitoring.inputs import to_table
from mltrail.services.monitoring.report import distribution
from mltrail.services.monitoring.spark_profile import is_spark_dataframe, profile_spark
from mltrail.stats.drift import compare_profiles
from mltrail.stats.drift_model import DriftOptions, DriftResult
from mltrail.stats.profile import DatasetProfile, profile_batches

__all__ = ["DriftReport", "drift_report", "read_batches"]


Filter = Any  # a pyarrow.compute.Expression, or filters as pyarrow.parquet takes them: [("day", ">=", "…")]
_BATCH_ROWS = 131_072


def read_batches(
    data: Any, *, filter: Filter = None, columns: Sequence[str] | None = None
) -> Iterator[pa.RecordBatch] | pa.Table:
    """Record batches of a Parquet path (file, folder or URL) or a ``pyarrow.dataset.Dataset``, else the table
    of an in-memory object. ``filter`` (paths and datasets only) keeps the rows it matches, reading only the
    partitions it can match; Hive partition columns (``day=…``) are left out unless ``columns`` names them."""
    if filter is None and isinstance(data, str | os.PathLike) and "://" not in str(data):
        return _local_files(Path(data))  # streamed file by file: less memory than a dataset's readahead
    dataset = _dataset(data)
    if dataset is None:
        if filter is not None:
            raise InvalidInputError("a filter applies to Parquet paths and pyarrow datasets", field="filter")
        return to_table(data)
    expression = _expression(filter)
    keys = _partition_keys(dataset)
    read = list(columns) if columns is not None else [n for n in dataset.schema.names if n not in keys]
    read = [c for c in read if c in dataset.schema.names]  # a listed column no file has is profiled absent
    return iter(dataset.to_batches(columns=read, filter=expression, batch_size=_BATCH_ROWS))


def _local_files(path: Path) -> Iterator[pa.RecordBatch]:
    """The batches of a Parquet file or of every Parquet file under a folder (partition values, in the
    paths, are not columns of the files, so they are not read)."""
    if not path.exists():
        raise InvalidInputError(f"{path} does not exist", field="data")
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise InvalidInputError(f"no Parquet files under {path}", field="data")

    def batches() -> Iterator[pa.RecordBatch]:
        for file in files:
            yield from pq.ParquetFile(file).iter_batches(batch_size=_BATCH_ROWS)

    return batches()


def _dataset(data: Any) -> Any:
    import pyarrow.dataset as ds

    if isinstance(data, ds.Dataset):
        return data
    if isinstance(data, str) and "://" in data:
        return ds.dataset(data, format="parquet", partitioning="hive")
    if not isinstance(data, str | os.PathLike):
        return None
    path = Path(data)
    if not path.exists():
        raise InvalidInputError(f"{path} does not exist", field="data")
    if not path.is_dir():
        return ds.dataset([str(path)], format="parquet")
    files = sorted(str(f) for f in path.rglob("*.parquet"))
    if not files:
        raise InvalidInputError(f"no Parquet files under {path}", field="data")
    return ds.dataset(files, format="parquet", partitioning="hive", partition_base_dir=str(path))


def _partition_keys(dataset: Any) -> set[str]:
    """The columns a dataset's paths give (``day=…``), not its files: those the first file lacks."""
    first = next(iter(dataset.get_fragments()), None)
    if first is None:
        return set()
    return set(dataset.schema.names) - set(first.physical_schema.names)


def _expression(filter: Filter) -> Any:
    if filter is None:
        return None
    import pyarrow.compute as pc

    if isinstance(filter, pc.Expression):
        return filter
    try:
        return pq.filters_to_expression(filter)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"not a filter: {exc}", field="filter") from exc


def _profile(
    data: Any,
    *,
    filter: Filter,
    columns: Sequence[str] | None,
    categorical: Sequence[str],
    threads: int,
) -> DatasetProfile:
    if is_spark_dataframe(data):
        if filter is not None:
            raise InvalidInputError("filter a Spark DataFrame with df.where(…)", field="filter")
        found = profile_spark(data, columns=columns, categorical=categorical)
        assert isinstance(found, DatasetProfile)
        return found
    batches = read_batches(data, filter=filter, columns=columns)
    return profile_batches(batches, columns=columns, categorical=categorical, threads=threads)


@dataclass(frozen=True)
class DriftReport:
    result: DriftResult
    reference: DatasetProfile
    current: DatasetProfile

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        return self.result.drifted_columns

    @property
    def dataset_drifted(self) -> bool:
        return self.result.dataset_drifted

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict()

    def report(self) -> dict[str, Any]:
        """The report in the shape monitoring reports have (for ``to_html``)."""
        figures = window_figures(self.result)
        return {
            "monitor": {"name": "drift report"},
            "reference": {"rows": self.reference.rows},
            "current_rows": self.current.rows,
            "overall": self.result.to_dict(),
            "windows": [],
            "distributions": {
                name: d
                for name, col in self.reference.columns.items()
                if (d := distribution(col, self.current.columns.get(name))) is not None
            },
            "summary": figures,
        }

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """The self-contained HTML report; written to ``path`` when given."""
        page = render_report_html(self.report())
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page


def drift_report(
    reference: Any,
    current: Any,
    *,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    options: DriftOptions | Mapping[str, Any] | None = None,
    threads: int = 2,
    reference_filter: Filter = None,
    current_filter: Filter = None,
) -> DriftReport:
    """Profile both data sets in one pass each and test every column (see ``stats.drift`` for the tests
    and their defaults). Either side may also be a ``DatasetProfile`` already computed (by
    ``mltrail.spark.profile``, say). ``reference_filter``/``current_filter``: rows of a Parquet path or
    dataset to keep (``[("day", "=", "2026-03-01")]`` or a ``pyarrow.compute`` expression)."""
    opts = options if isinstance(options, DriftOptions) else drift_options(dict(options or {}))
    if isinstance(reference, DatasetProfile):
        ref = reference
    else:
        ref = _profile(
            reference, filter=reference_filter, columns=columns, categorical=categorical, threads=threads
        )
    if isinstance(current, DatasetProfile):
        cur = current
    else:
        cur = _profile(
            current,
            filter=current_filter,
            columns=columns or list(ref.columns),
            categorical=categorical,
            threads=threads,
        )
    return DriftReport(compare_profiles(ref, cur, opts), ref, cur)
