"""log_dataset through the SDK: versions by content, lineage with roles, every accepted kind of data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mltrail
from mltrail.errors import InvalidInputError
from mltrail.sdk.client.connection import embedded_transport
from mltrail.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "store", flush_interval=0.05)


def test_same_data_is_the_same_version_and_changes_make_a_new_one(settings: Settings, tmp_path: Path) -> None:
    frame = pd.DataFrame({"age": [31, 45, None], "plan": ["basic", "pro", "pro"], "churn": [0, 1, 0]})
    path = tmp_path / "train.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    with mltrail.init(project="churn", capture=False, settings=settings) as run_a:
        first = run_a.log_dataset(path, role="train")
        again = run_a.log_dataset(path, role="train")
        table = run_a.log_dataset(frame, name="holdout", role="test")
    assert first.dataset.id == again.dataset.id and first.dataset.version == 1
    assert first.dataset.num_rows == 3 and first.dataset.kind == "file"
    assert [c["name"] for c in first.dataset.schema] == ["age", "plan", "churn"]
    assert first.dataset.summary["age"]["missing"] == 1
    assert table.dataset.kind == "table"

    changed = frame.copy()
    changed.loc[0, "age"] = 32
    pq.write_table(pa.Table.from_pandas(changed, preserve_index=False), path)
    with mltrail.init(project="churn", capture=False, settings=settings) as run_b:
        second = run_b.log_dataset(path, role="train")
        run_b.log_dataset(np.arange(12.0).reshape(4, 3), name="features", role="validation")
        run_b.log_dataset(pa.table({"x": [1, 2]}), name="tiny", role="other")
    assert second.dataset.name == "train.parquet" and second.dataset.version == 2
    assert second.dataset.digest != first.dataset.digest

    datasets = embedded_transport(settings).datasets
    links_a = datasets.for_run(run_a.id)
    assert sorted((link.role, link.dataset.name) for link in links_a) == [
        ("test", "holdout"),
        ("train", "train.parquet"),
    ]
    links_b = {link.dataset.name: link for link in datasets.for_run(run_b.id)}
    assert links_b["features"].role == "validation" and links_b["features"].dataset.num_rows == 4
    versions = datasets.versions("churn", "train.parquet")
    assert [v.version for v in versions] in ([1, 2], [2, 1])


def test_bad_role_and_bad_object(settings: Settings) -> None:
    with mltrail.init(project="p", capture=False, settings=settings) as run:
        with pytest.raises(InvalidInputError) as info:
            run.log_dataset(pa.table({"x": [1]}), role="training")
        assert info.value.field == "role"
        with pytest.raises(TypeError):
            run.log_dataset(object())
