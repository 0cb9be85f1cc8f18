"""What serving gateways observed per deployment variant, per replica and minute window (issue 15, part 4:
shadow and canary evidence, which registry gates can require).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployment_evidence",
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Double(), nullable=False),
        sa.Column("replica", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("spec_version", sa.Integer(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("fallbacks", sa.BigInteger(), nullable=False),
        sa.Column("guarded", sa.BigInteger(), nullable=False),
        sa.Column("dropped", sa.BigInteger(), nullable=False),
        sa.Column("compared", sa.BigInteger(), nullable=False),
        sa.Column("agreed", sa.BigInteger(), nullable=False),
        sa.Column("numeric", sa.BigInteger(), nullable=False),
        sa.Column("abs_diff", sa.Double(), nullable=False),
        sa.Column("latency", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_deployment_evidence_deployment_id_deployments"),
        ),
        sa.PrimaryKeyConstraint(
            "deployment_id",
            "start",
            "replica",
            "variant",
            "model",
            "spec_version",
            name=op.f("pk_deployment_evidence"),
        ),
    )
    op.create_index(op.f("ix_deployment_evidence_model_variant"), "deployment_evidence", ["model", "variant"])


def downgrade() -> None:
    op.drop_index(op.f("ix_deployment_evidence_model_variant"), table_name="deployment_evidence")
    op.drop_table("deployment_evidence")
