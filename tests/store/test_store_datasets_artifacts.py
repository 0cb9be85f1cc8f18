"""Contract tests of dataset versions, run ↔ dataset links and artifact records."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from mltrail.errors import NotFoundError
from mltrail.store.sql import SqlStore


def new_run(store: SqlStore, project: str) -> str:
    run_id = uuid.uuid4().hex
    store.create_run(run_id=run_id, project=project, name="d", user=None, start_time=time.time())
    return run_id


def record(store: SqlStore, project: str, name: str, digest: str, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "kind": "file",
        "source": "data/train.csv",
        "num_rows": 10,
        "num_bytes": 100,
        "schema": [{"name": "x", "type": "int64"}],
        "summary": {"x": {"mean": 1.5}},
    }
    args.update(kw)
    return store.record_dataset_version(project=project, name=name, digest=digest, **args)


def test_dataset_versions(store: SqlStore, project: str) -> None:
    v1 = record(store, project, "train", "a" * 64)
    assert (v1.version, v1.project, v1.name, v1.kind) == (1, project, "train", "file")
    assert v1.schema == [{"name": "x", "type": "int64"}]
    assert v1.summary == {"x": {"mean": 1.5}}
    assert record(store, project, "train", "a" * 64, num_rows=999) == v1  # same digest, same version
    v2 = record(store, project, "train", "b" * 64, source=None, num_rows=None, num_bytes=None)
    assert v2.version == 2
    assert (v2.source, v2.num_rows, v2.num_bytes) == (None, None, None)
    other = record(store, project, "test", "a" * 64)
    assert other.version == 1
    assert [(v.name, v.version) for v in store.list_dataset_versions(project)] == [
        ("test", 1),
        ("train", 1),
        ("train", 2),
    ]
    assert [v.version for v in store.list_dataset_versions(project, "train")] == [1, 2]
    assert store.list_dataset_versions(project, "nope") == []
    with pytest.raises(NotFoundError):
        store.list_dataset_versions(project + "-missing")


def test_link_datasets(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    train = record(store, project, "train", "a" * 64)
    test = record(store, project, "test", "c" * 64)
    store.link_dataset(run_id, train.id, "train")
    store.link_dataset(run_id, train.id, "train")  # idempotent
    store.link_dataset(run_id, test.id, "test")
    links = store.list_run_datasets(run_id)
    assert [(link.role, link.dataset.name, link.run_id) for link in links] == [
        ("test", "test", run_id),
        ("train", "train", run_id),
    ]
    assert links[1].dataset == train
    with pytest.raises(NotFoundError):
        store.link_dataset(run_id, 10**9, "train")
    with pytest.raises(NotFoundError):
        store.link_dataset(uuid.uuid4().hex, train.id, "train")
    with pytest.raises(NotFoundError):
        store.list_run_datasets(uuid.uuid4().hex)


def test_artifacts(store: SqlStore, project: str) -> None:
    run_id = new_run(store, project)
    first = store.add_artifact(run_id, "model/weights.bin", "a" * 64, 10)
    assert (first.run_id, first.path, first.digest, first.size) == (run_id, "model/weights.bin", "a" * 64, 10)
    store.add_artifact(run_id, "model/config.json", "b" * 64, 2)
    store.add_artifact(run_id, "model_card.md", "c" * 64, 3)
    store.add_artifact(run_id, "100%_done.txt", "d" * 64, 4)
    replaced = store.add_artifact(run_id, "model/weights.bin", "e" * 64, 20)
    assert store.get_artifact(run_id, "model/weights.bin") == replaced
    assert [a.path for a in store.list_artifacts(run_id)] == [
        "100%_done.txt",
        "model/config.json",
        "model/weights.bin",
        "model_card.md",
    ]
    assert [a.path for a in store.list_artifacts(run_id, prefix="model/")] == [
        "model/config.json",
        "model/weights.bin",
    ]
    assert [a.path for a in store.list_artifacts(run_id, prefix="100%")] == ["100%_done.txt"]
    assert store.list_artifacts(run_id, prefix="1_") == []
    with pytest.raises(NotFoundError):
        store.get_artifact(run_id, "nope")
    with pytest.raises(NotFoundError):
        store.get_artifact(uuid.uuid4().hex, "model/weights.bin")
    with pytest.raises(NotFoundError):
        store.add_artifact(uuid.uuid4().hex, "x", "a" * 64, 1)
    with pytest.raises(NotFoundError):
        store.list_artifacts(uuid.uuid4().hex)
