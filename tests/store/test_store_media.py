"""Run media records on SQLite and PostgreSQL: steps, replacement, a name's kind, paging, deletion."""

from __future__ import annotations

import uuid

import pytest

from mltrail.entities import MediaFile, MediaName
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.store.sql import SqlStore

FILE = MediaFile("image", "ab" * 32, 10, "image/png")


def _add(store: SqlStore, run_id: str, name: str, step: int | None, caption: str = "") -> int:
    meta = {"width": 2, "height": 3, "caption": caption, "boxes": [{"x": 1.5, "label": "naïve ✓"}]}
    return store.add_run_media(run_id, name, step, kind="image", files=[FILE], meta=meta).step


def test_steps_listing_paging_and_replacement(store: SqlStore, project: str) -> None:
    run_id = uuid.uuid4().hex
    store.create_run(run_id=run_id, project=project, name="r", user=None, start_time=1.0)
    assert [_add(store, run_id, "img", None) for _ in range(2)] == [0, 1]
    assert _add(store, run_id, "img", 7) == 7
    assert _add(store, run_id, "img", None) == 8
    _add(store, run_id, "img", 7, caption="again")  # the same step again replaces it
    assert store.get_run_media(run_id, "img", 7).meta["caption"] == "again"
    latest = store.get_run_media(run_id, "img")
    assert latest.step == 8 and latest.files == [FILE] and latest.meta["boxes"][0]["label"] == "naïve ✓"
    store.add_run_media(run_id, "h", None, kind="histogram", files=[], meta={"counts": [1], "edges": [0, 1]})
    assert store.list_run_media(run_id) == [
        MediaName("h", "histogram", [0]),
        MediaName("img", "image", [0, 1, 7, 8]),
    ]
    items, total = store.page_run_media(run_id, "img", offset=1, limit=2)
    assert total == 4 and [i.step for i in items] == [1, 7]
    with pytest.raises(InvalidInputError) as clash:
        store.add_run_media(run_id, "h", None, kind="image", files=[FILE], meta={})
    assert clash.value.field == "name"
    with pytest.raises(NotFoundError):
        store.get_run_media(run_id, "img", 3)
    with pytest.raises(NotFoundError):
        store.add_run_media("f" * 32, "img", None, kind="image", files=[FILE], meta={})
    store.delete_run(run_id)
    with pytest.raises(NotFoundError):
        store.list_run_media(run_id)
