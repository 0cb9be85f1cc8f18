"""Per-window accumulators from which performance is estimated before labels arrive (issue 13): probability
histograms (CBPE) or predicted-loss sums (DLE). A monitor's calibration lives in its JSON config.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("monitor_windows", sa.Column("estimation", sa.Text(), server_default="{}", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("monitor_windows") as batch:
        batch.drop_column("estimation")
