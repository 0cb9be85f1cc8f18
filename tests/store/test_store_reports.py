"""Report rows on SQLite and PostgreSQL: create, read, list, versioned saves, conflicts, deletion."""

from __future__ import annotations

import uuid

import pytest

from mltrail.entities import ReportBlock
from mltrail.errors import ConflictError, NotFoundError
from mltrail.store.sql import SqlStore

BLOCKS = [
    ReportBlock("markdown", text="# Résumé ✓\nAll good."),
    ReportBlock("runs", options={"filter": "metrics.acc > 0.9", "limit": "5"}),
]


def _project(store: SqlStore, project: str) -> None:
    store.create_run(run_id=uuid.uuid4().hex, project=project, name="r", user=None, start_time=1.0)


def test_create_get_list_update_delete(store: SqlStore, project: str) -> None:
    _project(store, project)
    made = store.create_report(project, "weekly", title="Weekly", blocks=BLOCKS, user="ann", at=10.0)
    assert (made.version, made.created_by, made.updated_at) == (1, "ann", 10.0)
    got = store.get_report(project, "weekly")
    assert got.blocks == BLOCKS and got.title == "Weekly" and got.project == project
    store.create_report(project, "another", title="", blocks=[], user=None, at=11.0)
    page, total = store.list_reports(project, limit=1)
    assert total == 2 and [r.name for r in page] == ["another"]

    saved = store.update_report(
        project, "weekly", title="Week 2", blocks=BLOCKS[:1], user="bob", at=20.0, expected_version=1
    )
    assert (saved.version, saved.updated_by, saved.created_by, len(saved.blocks)) == (2, "bob", "ann", 1)
    with pytest.raises(ConflictError, match="version 2, not 1"):
        store.update_report(project, "weekly", title="x", blocks=[], user="c", at=30.0, expected_version=1)
    assert store.get_report(project, "weekly").title == "Week 2"  # the refused save changed nothing
    assert store.update_report(project, "weekly", title="y", blocks=[], user="c", at=31.0).version == 3

    store.delete_report(project, "weekly")
    with pytest.raises(NotFoundError, match="no report 'weekly'"):
        store.get_report(project, "weekly")
    assert store.list_reports(project)[1] == 1


def test_names_are_unique_per_project_and_projects_must_exist(store: SqlStore, project: str) -> None:
    _project(store, project)
    other = project + "-b"
    _project(store, other)
    store.create_report(project, "r", title="", blocks=[], user=None, at=1.0)
    store.create_report(other, "r", title="", blocks=[], user=None, at=1.0)  # another project: fine
    with pytest.raises(ConflictError, match="named 'r' already"):
        store.create_report(project, "r", title="", blocks=[], user=None, at=2.0)
    with pytest.raises(NotFoundError, match="no project"):
        store.create_report("missing-" + project, "r", title="", blocks=[], user=None, at=1.0)
    with pytest.raises(NotFoundError, match="no project"):
        store.list_reports("missing-" + project)
    with pytest.raises(NotFoundError):
        store.delete_report(project, "nope")
