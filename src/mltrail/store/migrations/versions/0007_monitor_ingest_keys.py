"""Idempotency keys of ingested prediction batches, so a batch retried after a lost response lands once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitor_ingest_keys",
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["monitor_id"], ["monitors.id"], name=op.f("fk_monitor_ingest_keys_monitor_id_monitors")
        ),
        sa.PrimaryKeyConstraint("monitor_id", "key", name=op.f("pk_monitor_ingest_keys")),
    )
    op.create_index(
        op.f("ix_monitor_ingest_keys_monitor_id_at"),
        "monitor_ingest_keys",
        ["monitor_id", "at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_monitor_ingest_keys_monitor_id_at"), table_name="monitor_ingest_keys")
    op.drop_table("monitor_ingest_keys")
