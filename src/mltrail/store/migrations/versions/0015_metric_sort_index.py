"""An index on metric_keys (key, last, run_id), so a runs page sorted by a metric's last value reads about a
page of index entries instead of every run of the project (``store.sql.metric_sort``, issue 14).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_metric_keys_key_last_run_id"), "metric_keys", ["key", "last", "run_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_metric_keys_key_last_run_id"), table_name="metric_keys")
