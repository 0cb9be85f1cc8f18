"""The SQLAlchemy implementation of ``Store`` for SQLite and PostgreSQL."""

from mltrail.store.sql.store import SqlStore

__all__ = ["SqlStore"]
