"""``drift_report``: one call in a notebook, reference against current data, no monitor or store needed.

Data may be pandas or polars DataFrames, Arrow tables or record batches, or paths to Parquet files (or
folders of them), read batch by batch so a file larger than memory still works.
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
from mltrail.stats.drift import compare_profiles
from mltrail.stats.drift_model import DriftOptions, DriftResult
from mltrail.stats.profile import DatasetProfile, profile_batches

__all__ = ["DriftReport", "drift_report", "read_batches"]


def read_batches(data: Any) -> Iterator[pa.RecordBatch] | pa.Table:
    """Record batches of a Parquet path (file or folder), else the table of an in-memory object."""
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if not path.exists():
            raise InvalidInputError(f"{path} does not exist", field="data")
        files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
        if not files:
            raise InvalidInputError(f"no Parquet files under {path}", field="data")

        def batches() -> Iterator[pa.RecordBatch]:
            for file in files:
                yield from pq.ParquetFile(file).iter_batches(batch_size=131_072)

        return batches()
    return to_table(data)


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
) -> DriftReport:
    """Profile both data sets in one pass each and test every column (see ``stats.drift`` for the tests
    and their defaults)."""
    opts = options if isinstance(options, DriftOptions) else drift_options(dict(options or {}))
    ref = profile_batches(read_batches(reference), columns=columns, categorical=categorical, threads=threads)
    cur = profile_batches(
        read_batches(current), columns=columns or list(ref.columns), categorical=categorical, threads=threads
    )
    return DriftReport(compare_profiles(ref, cur, opts), ref, cur)
