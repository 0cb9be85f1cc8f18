"""Numbers from Arrow buffers, without the conversions for which pyarrow imports pandas."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import mltrail
from mltrail.services.tracking.arrow_numpy import arrow_indices, arrow_values, numpy_of
from mltrail.settings import Settings


@pytest.mark.parametrize(
    "array",
    [
        pa.array([1, 2, 3], pa.int64()),
        pa.array([1, None, 3], pa.int32()),
        pa.array([0.5, None, float("nan")], pa.float32()),
        pa.array([7, 8, 9, 10], pa.uint8()).slice(1, 2),  # an offset into its buffer
        pa.array([1.0, None, 3.0, 4.0]).slice(1),  # an offset into its validity bitmap too
        pa.array([], pa.float64()),
        pa.chunked_array([pa.array([1, 2]), pa.array([None, 4])]),  # one chunk with missing values
        pa.chunked_array([], pa.int16()),
        pa.array(["a", "b"]),  # not a number: pyarrow's own conversion
    ],
)
def test_the_same_values_as_pyarrow(array: pa.Array | pa.ChunkedArray) -> None:
    expected = array.to_numpy(zero_copy_only=False) if len(array) else np.zeros(0)
    got = numpy_of(array)
    assert len(got) == len(expected)
    if got.dtype.kind == "f":
        np.testing.assert_array_equal(got, expected.astype(got.dtype))
    else:
        assert got.tolist() == expected.tolist()


def test_indices_take_the_rows() -> None:
    column = pa.chunked_array([pa.array(["a", "b"]), pa.array(["c"])])
    assert column.take(arrow_indices(np.array([2, 0], dtype=np.int32))).to_pylist() == ["c", "a"]


def _two_tables(settings: Settings) -> list[str]:
    ids = []
    truth = np.arange(300) % 3
    for shift in (0, 1):
        with mltrail.init(project="p", capture=False, settings=settings) as run:
            run.log_predictions(
                "val",
                np.arange(300),
                truth,
                (truth + (np.arange(300) % 7 == shift)) % 3,
                proba=np.full((300, 3), 1 / 3),
                features={"city": np.array(["a", "b", "c"] * 100), "x": np.linspace(0, 1, 300)},
            )
        ids.append(run.id)
    return ids


def test_runs_samples_never_imports_pandas(tmp_path: Path) -> None:
    """pyarrow imports pandas for its numpy conversions (0.2 s of the command's start): the comparison of
    two prediction tables, in a process of its own, uses none of them."""
    settings = Settings(home=tmp_path / "store")
    ids = _two_tables(settings)
    script = """
import sys
from pathlib import Path
from typing import Any
from mltrail.services.container import Services
from mltrail.settings import Settings
services = Services(Settings(home=Path(sys.argv[1])))
found = services.samples.compare(sys.argv[2], sys.argv[3], "val")
assert found["matched"] == 300, found
print("pandas" in sys.modules)
"""
    # and the CLI command: neither pandas nor what only other commands or PostgreSQL need
    command = """
import sys
from mltrail.cli.main import main
home, a, b = sys.argv[1:]
sys.argv = ["mltrail", "--dir", home, "runs", "samples", a, b, "--table", "val", "--json"]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
loaded = [
    m for m in ("pandas", "rich.progress", "sqlalchemy.dialects.postgresql", "fsspec") if m in sys.modules
]
print("loaded:", loaded, file=sys.stderr)
"""
    done = _python(script, str(settings.home), *ids)
    assert done.stdout.strip() == "False"
    cli = _python(command, str(settings.home), *ids)
    assert '"matched": 300' in cli.stdout
    assert "loaded: []" in cli.stderr


def _python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a new interpreter (nothing imported yet), on this one's path; it must succeed."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    return done


def test_values_built_from_buffers_equal_pyarrows() -> None:
    cases: list[tuple[list[Any], pa.DataType]] = [
        ([-3, 0, 7], pa.int64()),
        ([1, 200], pa.uint8()),
        ([2**64 - 1, 0], pa.uint64()),
        ([], pa.int32()),
        (["a", "", "été", "日本", "😀"], pa.string()),
        (["x", "yz"], pa.large_string()),
        ([], pa.string()),
    ]
    for values, type_ in cases:
        built = arrow_values(values, type_)
        built.validate(full=True)
        assert built.equals(pa.array(values, type=type_)), (values, type_)
    with pytest.raises(TypeError):
        arrow_values([1], pa.float64())


def test_a_first_comparison_imports_nothing_twice_at_once(tmp_path: Path) -> None:
    """The tables are read in two threads while the main thread imports what comes next: in a new process,
    a module imported by two threads at once can be seen half made (pyarrow.lib from pyarrow.compute, in
    about one process in four before the fix). Eight new processes, each comparing once."""
    settings = Settings(home=tmp_path / "store")
    ids = _two_tables(settings)
    script = """
import sys
from pathlib import Path
from mltrail.services.container import Services
from mltrail.settings import Settings
found = Services(Settings(home=Path(sys.argv[1]))).samples.compare(sys.argv[2], sys.argv[3], "val")
assert found["matched"] == 300, found
"""
    for _ in range(8):
        _python(script, str(settings.home), *ids)
