"""The input example kept beside a model: its first rows, in formats that load without executing code.

DataFrames (and lists of records) become Parquet, arrays ``.npy`` and mappings of arrays ``.npz``, both
read back with ``allow_pickle=False``. Object arrays of strings are stored as fixed-width strings.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mltrail.errors import InvalidInputError

__all__ = ["EXAMPLE_ROWS", "read_example", "write_example"]

EXAMPLE_ROWS = 100


def write_example(example: Any, folder: Path) -> str:
    """Write the first ``EXAMPLE_ROWS`` rows of ``example`` into ``folder``; the file's name."""
    if isinstance(example, Sequence) and example and all(isinstance(r, Mapping) for r in example):
        import pandas

        example = pandas.DataFrame.from_records(list(example))
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(example, pd.DataFrame):
        import pyarrow as pa
        import pyarrow.parquet as pq

        frame = example.head(EXAMPLE_ROWS).rename(columns=str)
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"the input example cannot be stored as Parquet: {exc}", field="input_example"
            ) from exc
        pq.write_table(table, folder / "input_example.parquet")
        return "input_example.parquet"
    if isinstance(example, Mapping):
        arrays = {str(k): _storable(v) for k, v in example.items()}
        with (folder / "input_example.npz").open("wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)
        return "input_example.npz"
    with (folder / "input_example.npy").open("wb") as fh:
        np.save(fh, _storable(example), allow_pickle=False)
    return "input_example.npy"


def read_example(name: str, data: bytes) -> Any:
    """The example stored as ``name`` with content ``data``."""
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(data)).to_pandas()
    if name.endswith(".npz"):
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    return np.load(io.BytesIO(data), allow_pickle=False)


def _storable(value: Any) -> np.ndarray[Any, Any]:
    array = np.asarray(value)
    if array.ndim == 0:
        raise InvalidInputError(
            "an input example needs a batch dimension, got a scalar", field="input_example"
        )
    array = array[:EXAMPLE_ROWS]
    if array.dtype.kind == "O":
        values = array.ravel().tolist()
        if not all(isinstance(v, str) for v in values):
            raise InvalidInputError(
                "the input example holds Python objects that cannot be stored without pickle",
                field="input_example",
            )
        array = array.astype(str)
    return array
