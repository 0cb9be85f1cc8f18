"""The schema: migrations match the tables in ``schema.py``; opening stores; errors naming the database."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from mltrail.errors import StoreError
from mltrail.store.factory import _config, current_revision, head_revision, open_store, upgrade
from mltrail.store.sql import schema

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema yet, to migrate step by step: a SQLite file, or a throwaway database on
    the PostgreSQL test server (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if os.environ.get("MLTRAIL_SKIP_POSTGRES") == "1":
        pytest.skip("MLTRAIL_SKIP_POSTGRES=1")
    admin_url = sa.make_url(os.environ.get("MLTRAIL_TEST_POSTGRES") or DEFAULT_POSTGRES)
    name = f"mltrail_migrate_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _migrate(url: str, action: str, revision: str, *statements: str) -> set[str]:
    """``upgrade`` or ``downgrade`` to ``revision``, then run ``statements``; the columns of
    ``project_budgets`` after."""
    from alembic import command

    cfg = _config()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            getattr(command, action)(cfg, revision)
            for statement in statements:
                conn.execute(sa.text(statement))
            return {c["name"] for c in sa.inspect(conn).get_columns("project_budgets")}
    finally:
        engine.dispose()


def test_0021_gives_the_budgets_set_before_no_channels(empty_db_url: str) -> None:
    columns = _migrate(
        empty_db_url,
        "upgrade",
        "0020",
        "INSERT INTO projects (id, name, created_at) VALUES (1, 'p', 1.0)",
        "INSERT INTO project_budgets (project_id, amount, currency, alert_share, alerted_period, updated_at,"
        " updated_by) VALUES (1, 10.0, 'EUR', 0.8, '2026-11', 5.0, 'ana')",
    )
    assert "channels" not in columns
    store = open_store(empty_db_url)  # migrates to the head
    try:
        (budget,) = store.list_budgets()
        assert (budget.project, budget.channels, budget.alerted_period) == ("p", (), "2026-11")
        store.set_budget("p", 10.0, "EUR", 0.8, now=6.0, user="ana", channels=["email:a@example.com"])
        assert store.list_budgets()[0].channels == ("email:a@example.com",)
    finally:
        store.close()
    columns = _migrate(empty_db_url, "downgrade", "0020")
    assert "channels" not in columns and "amount" in columns


def test_migrations_match_metadata(db_url: str) -> None:
    upgrade(db_url)
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, schema.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_sqlite_metric_points_has_no_rowid(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    open_store(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as conn:
        sql = conn.execute("select sql from sqlite_master where name = 'metric_points'").fetchone()[0]
        mode = conn.execute("pragma journal_mode").fetchone()[0]
    conn.close()
    assert "WITHOUT ROWID" in sql
    assert mode == "wal"


def test_revisions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'dir' / 'm.db'}"
    assert current_revision(url) is None
    assert not (tmp_path / "sub").exists()  # reading the revision creates nothing
    assert upgrade(url) == head_revision()
    assert current_revision(url) == head_revision()
    open_store(url, migrate=False).close()


def test_unmigrated_database_without_migrate_is_a_store_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with pytest.raises(StoreError, match="mltrail db upgrade"):
        open_store(url, migrate=False)


def test_unwritable_sqlite_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    url = f"sqlite:///{blocker / 'sub' / 'mltrail.db'}"
    with pytest.raises(StoreError, match=str(blocker)):
        open_store(url)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only files anyway")
def test_read_only_sqlite_file_is_a_store_error(tmp_path: Path) -> None:  # pragma: no cover - non-root only
    folder = tmp_path / "ro"
    url = f"sqlite:///{folder / 'm.db'}"
    open_store(url).close()
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
    try:
        store = open_store(url)
        with pytest.raises(StoreError):
            store.create_run(run_id="r", project="p", name="n", user=None, start_time=1.0)
        store.close()
    finally:
        folder.chmod(0o755)


def test_unreachable_postgres_is_a_store_error_without_password() -> None:
    url = "postgresql+psycopg://mltrail:s3cret@127.0.0.1:1/nope"
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert "127.0.0.1:1" in message
    assert "s3cret" not in message
    assert "cannot be reached" in message


def test_head_revision_constant_matches_the_migrations() -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(_config()).get_current_head() == head_revision()
