"""run.log_table and run.log_predictions through the SDK: every accepted kind of data, and bad input refused
in the caller before anything is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import mltrail
from mltrail.errors import InvalidInputError
from mltrail.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "store", flush_interval=0.05)


def test_every_kind_of_table_and_steps(settings: Settings) -> None:
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        frame = pd.DataFrame({"a": [1, 2], "b": ["x", None]})
        assert run.log_table("t", frame).step == 0
        assert run.log_table("t", pa.table({"a": [3]})).step == 1
        assert run.log_table("t", {"a": np.arange(3)}, step=10).step == 10
        listed = run.log_table("rows", [{"a": 1}, {"b": "y"}])
        assert [c.name for c in listed.columns] == ["a", "b"] and listed.rows == 2
        with pytest.raises(InvalidInputError) as bad:
            run.log_table("t", 42)
        assert bad.value.field == "data"
        with pytest.raises(InvalidInputError) as name:
            run.log_table("a/b", {"a": [1]})
        assert name.value.field == "name"
        with pytest.raises(TypeError):
            run.log_table("t", {"a": [1]}, step=1.5)  # type: ignore[arg-type]
    reader = mltrail.connect(settings=settings).runs
    assert [(t.name, t.step) for t in reader.tables(run.id)] == [("rows", 0), ("t", 0), ("t", 1), ("t", 10)]
    assert reader.table_rows(run.id, "t", step=0).rows == [[1, "x"], [2, None]]
    assert reader.table_rows(run.id, "t").rows == [[0], [1], [2]]


def test_polars_frames_are_accepted(settings: Settings) -> None:
    pl = pytest.importorskip("polars")
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        assert run.log_table("t", pl.DataFrame({"a": [1, 2]})).rows == 2


def test_predictions_with_class_probabilities_and_features(settings: Settings) -> None:
    truth = np.array(["cat", "dog", "owl", "dog"])
    pred = np.array(["cat", "owl", "owl", "dog"])
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.1, 0.7, 0.2]])
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        table = run.log_predictions(
            "val", [10, 11, 12, 13], truth, pred, proba, features={"size": [1, 2, 3, 4]}
        )
        assert [c.name for c in table.columns] == [
            "id",
            "y_true",
            "y_pred",
            "proba.cat",
            "proba.dog",
            "proba.owl",
            "size",
        ]
        summary = table.summary
        assert summary["classes"] == ["cat", "dog", "owl"] and summary["accuracy"] == 0.75
        assert summary["roles"]["features"] == ["size"] and set(summary["roc"]) == {"cat", "dog", "owl"}
        with pytest.raises(InvalidInputError, match="ids must be unique") as dup:
            run.log_predictions("val", [1, 1, 2, 3], truth, pred)
        assert dup.value.field == "ids"
        with pytest.raises(InvalidInputError) as cols:
            run.log_predictions("val", [1, 2, 3, 4], truth, pred, proba[:, :2])
        assert cols.value.field == "proba"
        with pytest.raises(InvalidInputError) as short:
            run.log_predictions("val", [1, 2, 3], truth, pred)
        assert short.value.field == "y_true"
        with pytest.raises(InvalidInputError) as clash:
            run.log_predictions("val", [1, 2, 3, 4], truth, pred, features={"y_true": [0, 0, 0, 0]})
        assert clash.value.field == "features"
        regression = run.log_predictions("reg", [1, 2], [1.5, 2.5], [1.0, 3.0], task="regression")
        assert regression.summary["mae"] == 0.5
    assert len(mltrail.connect(settings=settings).runs.tables(run.id)) == 2  # nothing of the refused ones


def test_through_a_server_tables_are_journaled_paged_and_compared(tmp_path: Path, http_server: Any) -> None:
    """The same calls over HTTP: tables travel through the journal, pages and samples come from the server."""
    client = Settings(home=tmp_path / "client", journal_dir=tmp_path / "journal", flush_interval=0.05)
    ids = np.arange(100)
    truth = ids % 2
    runs = []
    for flips in (5, 30):
        pred = np.where(ids < flips, 1 - truth, truth)
        group = np.where(ids < 50, "g1", "g2")
        with mltrail.init(
            project="tables-http", capture=False, settings=client, server=http_server.url
        ) as run:
            logged = run.log_predictions("val", ids, truth, pred, features={"group": group})
            assert logged.step == -1 and logged.summary == {}  # figures come from the server
        runs.append(run.id)
    reader = mltrail.connect(http_server.url, settings=client).runs
    table = reader.table(runs[0], "val")
    assert table.step == 0 and table.summary["accuracy"] == 0.95
    page = reader.table_rows(runs[1], "val", filter='id < 30 and group = "g1"', sort=["-id"], limit=3)
    assert page.total == 30 and [r[0] for r in page.rows] == [29, 28, 27]
    found = reader.samples(runs[0], runs[1], "val", limit=2, min_rows=5)
    assert found["right_to_wrong"]["count"] == 25 and found["matched"] == 100
    assert found["slices"][0]["slice"] == {"group": "g1"}
    with pytest.raises(InvalidInputError) as bad:
        reader.table_rows(runs[1], "val", filter="nope = 1")
    assert bad.value.field == "filter"
