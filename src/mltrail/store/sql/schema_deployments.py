"""The deployment gateway's tables (migration 0009), on the same ``metadata`` as ``schema.py``."""

from __future__ import annotations

import sqlalchemy as sa

from mltrail.store.sql.schema import Double, metadata

__all__ = ["deployment_evidence", "deployment_versions", "deployments"]

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

# Migration 0013: what gateways observed per variant, one row per replica, minute window, spec version,
# variant and model, replaced on each send (the whole counts of the window so far), so a repeated send
# counts once.
deployment_evidence = sa.Table(
    "deployment_evidence",
    metadata,
    sa.Column("deployment_id", sa.Integer, sa.ForeignKey("deployments.id"), primary_key=True),
    sa.Column("start", Double, primary_key=True),  # the window's start, a multiple of 60 s
    sa.Column("replica", sa.String(64), primary_key=True),  # the gateway process that counted
    sa.Column("variant", sa.String(32), primary_key=True),  # primary, canary, shadow[i]
    sa.Column("model", sa.String(200), primary_key=True),  # churn:3
    sa.Column("spec_version", sa.Integer, primary_key=True),  # the spec version the replica served
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("errors", sa.BigInteger, nullable=False),
    sa.Column("fallbacks", sa.BigInteger, nullable=False),
    sa.Column("guarded", sa.BigInteger, nullable=False),
    sa.Column("dropped", sa.BigInteger, nullable=False),
    sa.Column("compared", sa.BigInteger, nullable=False),
    sa.Column("agreed", sa.BigInteger, nullable=False),
    sa.Column("numeric", sa.BigInteger, nullable=False),
    sa.Column("abs_diff", Double, nullable=False),
    sa.Column("latency", sa.Text, nullable=False),  # JSON: stats.latency_sketch.LatencySketch.to_dict()
    sa.Index(None, "model", "variant"),
)
