"""Budgets that notify: each project budget's notification channels (``webhook:``/``slack:``/``email:``
specs in canonical form, a JSON list like an alert rule's), sent when the budget's alert share is reached.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The budgets set before this revision notify nobody (an empty list), as before.
    op.add_column("project_budgets", sa.Column("channels", sa.Text(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("project_budgets") as batch:
        batch.drop_column("channels")
