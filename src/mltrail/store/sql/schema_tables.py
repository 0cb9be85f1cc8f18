"""Evaluation tables of runs (migration 0017), on the same ``metadata`` as ``schema.py``."""

from __future__ import annotations

import sqlalchemy as sa

from mltrail.store.sql.schema import Double, metadata

__all__ = ["run_tables"]

run_tables = sa.Table(
    "run_tables",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # "table" | "predictions"
    sa.Column("digest", sa.String(64), nullable=False),  # the Parquet blob's sha256
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("num_rows", sa.BigInteger, nullable=False),
    sa.Column("columns", sa.Text, nullable=False),  # JSON: [[name, arrow type], …]
    sa.Column("summary", sa.Text, nullable=False),  # JSON object: figures computed at log time
    sa.Column("created_at", Double, nullable=False),
    sa.Index(None, "digest"),
)
