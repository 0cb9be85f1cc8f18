"""The SQL store's tables as SQLAlchemy Core ``Table``s; migrations create them, this module names them."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "api_keys",
    "artifacts",
    "audit_events",
    "batches",
    "dataset_versions",
    "metadata",
    "metric_keys",
    "metric_points",
    "metric_rollups",
    "params",
    "project_members",
    "projects",
    "run_datasets",
    "runs",
    "summaries",
    "tags",
    "users",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# Times are epoch seconds; floats are IEEE doubles on both SQLite and PostgreSQL.
Double: sa.Double[float] = sa.Double()
RUN_ID = sa.String(64)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", Double, nullable=False),
    sqlite_autoincrement=True,
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", RUN_ID, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("user", sa.Text, nullable=True),
    sa.Column("start_time", Double, nullable=False),
    sa.Column("end_time", Double, nullable=True),
    sa.Column("heartbeat_at", Double, nullable=True),
    sa.Column("notes", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),  # JSON object
    sa.Column("context", sa.Text, nullable=False),  # JSON object
    sa.Index(None, "project_id", "start_time"),
    sa.Index(None, "project_id", "name"),
    sa.Index(None, "status", "heartbeat_at"),
)


def _value_table(name: str) -> sa.Table:
    """Params and summaries: a typed JSON value, with a number or a string copy for filtering and sorting."""
    return sa.Table(
        name,
        metadata,
        sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value_type", sa.String(8), nullable=False),  # null bool int float str list dict
        sa.Column("value_json", sa.Text, nullable=False),
        sa.Column("num_value", Double, nullable=True),  # int, float (NaN as NULL) and bool (1/0)
        sa.Column("str_value", sa.Text, nullable=True),  # str values
    )


params = _value_table("params")
summaries = _value_table("summaries")

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# One row per (run, metric key): its id for the points, and the summary used by filters and sorts.
metric_keys = sa.Table(
    "metric_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("last", Double, nullable=True),  # NULL is NaN
    sa.Column("last_step", sa.BigInteger, nullable=True),
    sa.Column("min", Double, nullable=True),
    sa.Column("max", Double, nullable=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("run_id", "key"),
    sqlite_autoincrement=True,
)

metric_points = sa.Table(
    "metric_points",
    metadata,
    # No foreign key on purpose: its per-row check doubles the cost of bulk inserts on PostgreSQL. Key ids
    # come from metric_keys rows locked in the same transaction, and delete_run deletes points explicitly.
    sa.Column("key_id", sa.Integer, primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Column("value", Double, nullable=True),  # NULL is NaN (SQLite cannot store NaN)
    sa.Column("wall_time", Double, nullable=False),
    sqlite_with_rowid=False,
)

# Per metric key, level and step bucket: the bucket's smallest and largest value with the (first) step
# holding them and that point's wall time (so a downsampled read needs no other lookup), its point count
# and NaN count, kept up to date by every write (see ``sql.rollups``). NULL
# extremes mean the bucket holds only NaN; their steps are then its first step. Level n buckets are
# 64 * 8**(n-1) steps wide. Few rows (about 1 per 56 points), so the foreign key costs little, and its
# cascade removes them with their metric key.
metric_rollups = sa.Table(
    "metric_rollups",
    metadata,
    sa.Column("key_id", sa.Integer, sa.ForeignKey("metric_keys.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("level", sa.SmallInteger, primary_key=True),
    sa.Column("bucket", sa.BigInteger, primary_key=True),  # step // width, rounded down
    sa.Column("min_step", sa.BigInteger, nullable=False),
    sa.Column("min_value", Double, nullable=True),
    sa.Column("min_wall_time", Double, nullable=False),
    sa.Column("max_step", sa.BigInteger, nullable=False),
    sa.Column("max_value", Double, nullable=True),
    sa.Column("max_wall_time", Double, nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("nan_count", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# Batches already applied, so a retried batch is applied at most once.
batches = sa.Table(
    "batches",
    metadata,
    sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sqlite_with_rowid=False,
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("num_rows", sa.BigInteger, nullable=True),
    sa.Column("num_bytes", sa.BigInteger, nullable=True),
    sa.Column("schema", sa.Text, nullable=False),  # JSON list
    sa.Column("summary", sa.Text, nullable=False),  # JSON object
    sa.Column("created_at", Double, nullable=False),
    sa.UniqueConstraint("project_id", "name", "digest"),
    sa.UniqueConstraint("project_id", "name", "version"),
    sqlite_autoincrement=True,
)

run_datasets = sa.Table(
    "run_datasets",
    metadata,
    sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "dataset_version_id",
        sa.Integer,
        sa.ForeignKey("dataset_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("role", sa.String(32), primary_key=True),
    sa.Index(None, "dataset_version_id"),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sa.Index(None, "digest"),
)


# -- accounts (migration 0003) -------------------------------------------------------------------------------
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),  # the server role: none viewer member maintainer admin
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sqlite_autoincrement=True,
)

# Keys are stored as the sha256 of the whole key (256 random bits, so a fast hash is enough) beside their
# public id, the key's first 12 characters, which finds the row.
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key_id", sa.String(32), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sa.Column("expires_at", Double, nullable=True),
    sa.Column("revoked_at", Double, nullable=True),
    sa.Column("last_used_at", Double, nullable=True),
    sa.Index(None, "user_id"),
    sqlite_autoincrement=True,
)

project_members = sa.Table(
    "project_members",
    metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Index(None, "user_id"),
)

# Append-only. Names rather than foreign keys: an event outlives a renamed or deleted run or project.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", Double, nullable=False),
    sa.Column("user", sa.Text, nullable=True),  # None: the server ran without authentication
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("project", sa.Text, nullable=True),
    sa.Column("run_id", RUN_ID, nullable=True),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("client", sa.Text, nullable=True),
    sa.Column("user_agent", sa.Text, nullable=True),
    sa.Index(None, "time"),
    sa.Index(None, "user", "time"),
    sa.Index(None, "project", "time"),
    sa.Index(None, "action", "time"),
    sqlite_autoincrement=True,
)
