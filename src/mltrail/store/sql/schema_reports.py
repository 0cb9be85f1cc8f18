"""Stakeholder reports (migration 0018), on the same ``metadata`` as ``schema.py``."""

from __future__ import annotations

import sqlalchemy as sa

from mltrail.store.sql.schema import Double, metadata

__all__ = ["reports"]

reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("blocks", sa.Text, nullable=False),  # JSON: [ReportBlock.to_dict(), …]
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sa.Column("created_by", sa.Text, nullable=True),
    sa.Column("updated_at", Double, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=True),
    sa.UniqueConstraint("project_id", "name"),
    sqlite_autoincrement=True,
)
