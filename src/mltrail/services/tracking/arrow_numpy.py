"""Arrow ↔ numpy for numeric columns straight from Arrow's buffers.

pyarrow's own ``to_numpy``, ``np.asarray(array)``, ``pa.array(ndarray)`` and ``take`` with numpy indices
first ask whether pandas is installed and import it to find out: 0.2 s of a command's start when pandas is
there (``mltrail runs samples`` reads two prediction tables and never needs pandas). Numbers read here are a
view of the Arrow buffer (or one copy for a column of several chunks); a missing value makes the column
float with NaN, as ``to_numpy(zero_copy_only=False)`` does. Other types go through pyarrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["arrow_indices", "arrow_values", "numpy_of"]

_DTYPES = {
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint8": np.uint8,
    "uint16": np.uint16,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "halffloat": np.float16,
    "float": np.float32,
    "double": np.float64,
}


def numpy_of(column: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
    """The values of an Arrow array or chunked array as one numpy array."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 1:
            return _array(column.chunk(0))
        if column.num_chunks == 0:
            return np.zeros(0, dtype=_DTYPES.get(str(column.type), np.float64))
        parts = [_array(chunk) for chunk in column.chunks]
        if len({p.dtype for p in parts}) > 1:  # some chunks with missing values (float), some without
            parts = [p.astype(np.float64) for p in parts]
        return np.concatenate(parts)
    return _array(column)


def _array(array: pa.Array) -> npt.NDArray[Any]:
    dtype = _DTYPES.get(str(array.type))
    if dtype is None:
        values: npt.NDArray[Any] = array.to_numpy(zero_copy_only=False)
        return values
    n = len(array)
    validity, data = array.buffers()[:2]
    if n == 0 or data is None:
        return np.zeros(0, dtype=dtype)
    item = np.dtype(dtype).itemsize
    values = np.frombuffer(data, dtype=dtype, count=n, offset=array.offset * item)
    if not array.null_count:
        return values
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    present = bits[array.offset : array.offset + n].astype(bool)
    out = values.astype(np.float64) if values.dtype.kind in "iu" else values.copy()
    out[~present] = np.nan
    return out


def arrow_indices(positions: npt.NDArray[np.integer[Any]]) -> pa.Array:
    """Row numbers as an Arrow int64 array, for ``take``."""
    import pyarrow as pa

    data = np.ascontiguousarray(positions, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(data), [None, pa.py_buffer(data)])


def arrow_values(values: Sequence[int] | Sequence[str], type_: pa.DataType) -> pa.Array:
    """A few integers or texts as an Arrow array of ``type_`` (an integer, ``string`` or ``large_string``
    type), built from its buffers: ``pa.array`` of a list imports pandas too."""
    import pyarrow as pa

    if pa.types.is_integer(type_):
        data = np.array(values, dtype=_DTYPES[str(type_)])
        return pa.Array.from_buffers(type_, len(data), [None, pa.py_buffer(data)])
    if not (pa.types.is_string(type_) or pa.types.is_large_string(type_)):
        raise TypeError(f"integers or text, not {type_}")
    encoded = [str(v).encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64 if pa.types.is_large_string(type_) else np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(type_, len(encoded), buffers)
