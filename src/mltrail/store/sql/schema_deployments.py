"""The deployment gateway's tables (migration 0009), on the same ``metadata`` as ``schema.py``."""

from __future__ import annotations

import sqlalchemy as sa

from mltrail.store.sql.schema import Double, metadata

__all__ = ["deployment_versions", "deployments"]

deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("current_version", sa.Integer, nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sa.Column("created_by", sa.Text, nullable=True),
    sqlite_autoincrement=True,
)

deployment_versions = sa.Table(
    "deployment_versions",
    metadata,
    sa.Column("deployment_id", sa.Integer, sa.ForeignKey("deployments.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),  # JSON: DeploymentSpec.to_dict()
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("user", sa.Text, nullable=True),
    sa.Column("time", Double, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=False),  # JSON object: resolved references, rollback target, …
    sa.Column("client", sa.Text, nullable=True),
    sa.Column("user_agent", sa.Text, nullable=True),
)
