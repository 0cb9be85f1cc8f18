"""Per-segment reference profiles of a monitor, so each segment is compared with the same segment of the
reference (issue 13).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitor_segment_references",
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("segment", sa.Text(), nullable=False),
        sa.Column("profile", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["monitor_id"], ["monitors.id"], name=op.f("fk_monitor_segment_references_monitor_id_monitors")
        ),
        sa.PrimaryKeyConstraint("monitor_id", "spec", "segment", name=op.f("pk_monitor_segment_references")),
    )


def downgrade() -> None:
    op.drop_table("monitor_segment_references")
