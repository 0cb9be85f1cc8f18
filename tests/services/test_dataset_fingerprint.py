"""Dataset fingerprints: stable digests for equal data, different ones for changed data, streamed files."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from mltrail.services.tracking.fingerprint import Fingerprint, fingerprint


def _table() -> pa.Table:
    return pa.table(
        {
            "x": [1, 2, None, 4],
            "y": [0.5, None, 2.5, 3.5],
            "label": ["cat", "dog", None, "cat"],
        }
    )


def test_same_data_twice_same_digest() -> None:
    a, b = fingerprint(_table()), fingerprint(_table())
    assert a == b
    assert a.kind == "table"
    assert a.name == "table"
    assert a.source is None
    assert a.num_rows == 4
    assert a.num_bytes == _table().nbytes
    assert len(a.digest) == 64


def test_chunking_does_not_change_the_digest() -> None:
    table = _table()
    chunked = pa.concat_tables([table.slice(0, 1), table.slice(1, 2), table.slice(3)])
    assert chunked.column("x").num_chunks == 3
    assert fingerprint(chunked).digest == fingerprint(table).digest
    assert fingerprint(table.to_batches()[0]).digest == fingerprint(table).digest


def test_schema_metadata_does_not_change_the_digest() -> None:
    table = _table()
    tagged = table.replace_schema_metadata({"origin": "somewhere"})
    assert fingerprint(tagged).digest == fingerprint(table).digest


def test_dataframe_equals_the_arrow_table() -> None:
    df = pd.DataFrame(
        {
            "x": pd.array([1, 2, None, 4], dtype="Int64"),
            "y": [0.5, np.nan, 2.5, 3.5],
            "label": ["cat", "dog", None, "cat"],
        },
        index=[10, 20, 30, 40],
    )
    fp = fingerprint(df)
    assert fp.name == "dataframe"
    assert fp.digest == fingerprint(_table()).digest
    assert fp.digest == fingerprint(df.reset_index(drop=True)).digest
    assert fp.summary["y"]["missing"] == 1
    assert fp.summary["label"]["top"][0] == {"value": "cat", "count": 2}


def test_one_changed_cell_changes_the_digest() -> None:
    base = fingerprint(_table()).digest
    changed = _table().set_column(1, "y", pa.array([0.5, None, 2.5, 3.25]))
    assert fingerprint(changed).digest != base
    renamed = _table().rename_columns(["x", "y", "kind"])
    assert fingerprint(renamed).digest != base
    null_moved = _table().set_column(0, "x", pa.array([1, None, 2, 4]))
    assert fingerprint(null_moved).digest != base


def test_numpy_arrays() -> None:
    matrix = np.arange(12, dtype=np.float32).reshape(4, 3)
    fp = fingerprint(matrix)
    assert fp.name == "array"
    assert fp.num_rows == 4
    assert [c["name"] for c in fp.schema] == ["0", "1", "2"]
    assert fp.schema[0]["type"] == "float"
    assert fp.summary["2"]["max"] == 11.0
    assert fingerprint(matrix.copy()).digest == fp.digest
    assert fingerprint(np.asfortranarray(matrix)).digest == fp.digest
    changed = matrix.copy()
    changed[3, 2] = -1
    assert fingerprint(changed).digest != fp.digest
    assert fingerprint(np.arange(5)).schema == [{"name": "0", "type": "int64", "nullable": True}]
    cube = fingerprint(np.zeros((2, 3, 4)))
    assert cube.num_rows == 2
    assert len(cube.schema) == 12


def test_numpy_errors() -> None:
    with pytest.raises(TypeError, match="dtype object"):
        fingerprint(np.array([object(), object()], dtype=object))
    with pytest.raises(ValueError, match="0-dimensional"):
        fingerprint(np.array(3.0))


def test_other_objects_are_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"builtins\.dict.*pyarrow\.Table"):
        fingerprint({"a": [1]})


def test_missing_path() -> None:
    with pytest.raises(FileNotFoundError):
        fingerprint("/nonexistent/data.csv")


def test_file_digest_is_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(os.urandom(3 * (1 << 20) + 17))
    fp = fingerprint(path, name="weights")
    assert fp.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert fp.kind == "file"
    assert fp.name == "weights"
    assert fp.source == str(path.resolve())
    assert fp.num_bytes == path.stat().st_size
    assert fp.num_rows is None
    assert fp.schema == []
    assert fingerprint(str(path)).name == "blob.bin"


def test_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    pq.write_table(_table(), path, row_group_size=2)
    fp = fingerprint(path)
    assert fp.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert fp.num_rows == 4
    assert fp.schema == [
        {"name": "x", "type": "int64", "nullable": True},
        {"name": "y", "type": "double", "nullable": True},
        {"name": "label", "type": "string", "nullable": True},
    ]
    assert fp.summary["x"]["mean"] == pytest.approx(7 / 3)
    assert fp.summary["label"]["distinct"] == 2


@pytest.mark.parametrize(("suffix", "sep"), [(".csv", ","), (".tsv", "\t")])
def test_csv_and_tsv_files(tmp_path: Path, suffix: str, sep: str) -> None:
    path = tmp_path / f"data{suffix}"
    rows = [sep.join(["a", "b"])] + [sep.join([str(i), f"s{i % 3}"]) for i in range(1000)]
    path.write_text("\n".join(rows) + "\n")
    fp = fingerprint(path)
    assert fp.num_rows == 1000
    assert [(c["name"], c["type"]) for c in fp.schema] == [("a", "int64"), ("b", "string")]
    assert fp.summary["a"]["max"] == 999
    assert fp.summary["b"]["distinct"] == 3


def test_feather_file(tmp_path: Path) -> None:
    path = tmp_path / "data.feather"
    feather.write_feather(_table(), path)
    fp = fingerprint(path)
    assert fp.num_rows == 4
    assert [c["name"] for c in fp.schema] == ["x", "y", "label"]


def test_unparseable_csv_keeps_the_digest(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text('a,b\n1,2\n3,4,5\n"unterminated\n')
    fp = fingerprint(path)
    assert fp.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert fp.num_rows is None


def _write_folder(root: Path, order: list[str]) -> None:
    contents = {"a.csv": "x,y\n1,a\n2,b\n", "sub/b.csv": "x,y\n3,c\n", "notes.txt": "hello"}
    for rel in order:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(contents[rel])


def test_folder_digest_is_stable_under_creation_order(tmp_path: Path) -> None:
    first, second = tmp_path / "one" / "data", tmp_path / "two" / "data"
    _write_folder(first, ["a.csv", "sub/b.csv", "notes.txt"])
    _write_folder(second, ["notes.txt", "sub/b.csv", "a.csv"])
    (second / ".DS_Store").write_text("junk")
    (second / "__pycache__").mkdir()
    (second / "__pycache__" / "x.pyc").write_bytes(b"\0")
    a, b = fingerprint(first), fingerprint(second)
    assert a.digest == b.digest
    assert a.kind == "folder"
    assert a.name == "data"
    assert a.num_bytes == sum(len(t) for t in ["x,y\n1,a\n2,b\n", "x,y\n3,c\n", "hello"])
    assert a.num_rows == 3
    assert [c["name"] for c in a.schema] == ["x", "y"]
    (second / "sub" / "b.csv").write_text("x,y\n4,c\n")
    assert fingerprint(second).digest != a.digest


def test_folder_of_parquet_files(tmp_path: Path) -> None:
    for i in range(3):
        pq.write_table(_table(), tmp_path / f"part-{i}.parquet")
    fp = fingerprint(tmp_path)
    assert fp.num_rows == 12
    assert fp.summary["x"]["count"] == 12


def test_folder_of_mixed_formats_has_no_schema(tmp_path: Path) -> None:
    pq.write_table(_table(), tmp_path / "a.parquet")
    pacsv.write_csv(_table(), tmp_path / "b.csv")
    fp = fingerprint(tmp_path)
    assert fp.num_rows is None
    assert fp.schema == []


def test_big_file_is_hashed_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    chunk = os.urandom(1 << 20)
    with path.open("wb") as fh:
        for _ in range(50):
            fh.write(chunk)
    tracemalloc.start()
    try:
        fp = fingerprint(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * (1 << 20), f"peak {peak / (1 << 20):.1f} MiB"
    expected = hashlib.sha256()
    for _ in range(50):
        expected.update(chunk)
    assert fp.digest == expected.hexdigest()


def test_fingerprint_is_frozen() -> None:
    fp = fingerprint(_table())
    assert isinstance(fp, Fingerprint)
    with pytest.raises(AttributeError):
        fp.name = "other"  # type: ignore[misc]
