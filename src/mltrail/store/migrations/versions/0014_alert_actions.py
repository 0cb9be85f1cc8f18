"""Alert rules that act (``action``: roll a deployment back when the rule's alert opens) and alerts raised
by an event rather than a window, with what happened in words (``detail``: a gateway's refused reload).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: the rules and alerts before this revision neither act nor carry a detail.
    op.add_column("alert_rules", sa.Column("action", sa.Text(), nullable=True))
    op.add_column("alerts", sa.Column("detail", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("detail")
    with op.batch_alter_table("alert_rules") as batch:
        batch.drop_column("action")
