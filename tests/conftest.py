"""Fixtures shared by the whole suite: closing embedded stores, and the databases every backend test runs on
(``db_url``: a migrated SQLite file per test, and one fresh PostgreSQL database per session)."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mltrail.sdk.client.connection import close_connections
from mltrail.store.factory import open_store


@pytest.fixture(autouse=True)
def _no_login(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's ``mltrail login`` (it would send the suite to their server)."""
    monkeypatch.setenv("MLTRAIL_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture(autouse=True)
def _close_embedded_stores() -> Iterator[None]:
    """Each test's embedded stores are closed after it, so no connection outlives its temp folder."""
    yield
    close_connections()


DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_admin_url() -> str:
    return os.environ.get("MLTRAIL_TEST_POSTGRES") or DEFAULT_POSTGRES


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A new database with a random name on the test server, migrated, dropped after the session.

    An unreachable server fails the PostgreSQL tests; MLTRAIL_SKIP_POSTGRES=1 skips them instead.
    """
    if os.environ.get("MLTRAIL_SKIP_POSTGRES") == "1":
        pytest.skip("MLTRAIL_SKIP_POSTGRES=1")
    admin_url = sa.make_url(postgres_admin_url())
    name = f"mltrail_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.fail(f"PostgreSQL at {admin_url} is unreachable (set MLTRAIL_SKIP_POSTGRES=1 to skip): {exc}")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        open_store(url).close()
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'mltrail.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def _live_server_module() -> Any:
    path = Path(__file__).parent / "api" / "live_server.py"
    spec = importlib.util.spec_from_file_location("mltrail_tests_live_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def live_server() -> Any:
    """tests/api/live_server.py: ``start_server``, ``restart_server``, ``free_port``."""
    return _live_server_module()


def _s3_server_module() -> Any:
    path = Path(__file__).parent / "store" / "s3_server.py"
    spec = importlib.util.spec_from_file_location("mltrail_tests_s3_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """tests/store/s3_server.py's moto S3 on 127.0.0.1 (one per session; each test takes a new bucket)."""
    server = _s3_server_module().start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_blobs(s3_server: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """``s3://<new bucket>/blobs`` on the test S3, with the environment (``MLTRAIL_S3_*``, AWS keys) that
    this process and the servers it starts need to reach it."""
    import s3fs

    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    s3fs.S3FileSystem.clear_instance_cache()  # credentials are read when a filesystem is made
    return f"s3://{s3_server.new_bucket()}/blobs"


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One SparkSession in ``local[2]`` for the session's Spark tests (pyspark is in the dev group; the tests
    skip only where it cannot be imported). Its Python workers run this interpreter; the driver has the
    settings mltrail.spark.DRIVER_1GB recommends, so they are proven valid."""
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    from mltrail.spark import DRIVER_1GB

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mltrail-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config(map=DRIVER_1GB)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
