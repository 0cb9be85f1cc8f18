"""The segments each kept prediction fell in, so a delayed label updates its segments' windows too
(per-segment performance, issue 13).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: predictions kept before this revision belong to all traffic only.
    op.add_column("monitor_predictions", sa.Column("segments", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitor_predictions") as batch:
        batch.drop_column("segments")
