"""Monitors that follow an alias or stage: the alias followed and the history of the versions watched.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("monitors", sa.Column("alias", sa.Text(), nullable=True))
    op.add_column("monitors", sa.Column("versions", sa.Text(), server_default="[]", nullable=False))
    # Every monitor so far watched one version since it was created. (Written out here, not through the
    # store's code: a migration must not change when the application code does.)
    monitors = sa.table(
        "monitors",
        sa.column("id", sa.Integer()),
        sa.column("version", sa.Integer()),
        sa.column("run_id", sa.String()),
        sa.column("reference_source", sa.Text()),
        sa.column("created_at", sa.Double()),
        sa.column("versions", sa.Text()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            monitors.c.id,
            monitors.c.version,
            monitors.c.run_id,
            monitors.c.reference_source,
            monitors.c.created_at,
        ).where(monitors.c.version.is_not(None))
    ).all()
    for row in rows:
        entry = {
            "version": row.version,
            "run_id": row.run_id,
            "since": row.created_at,
            "reference_source": row.reference_source,
        }
        bind.execute(monitors.update().where(monitors.c.id == row.id).values(versions=json.dumps([entry])))


def downgrade() -> None:
    with op.batch_alter_table("monitors") as batch:
        batch.drop_column("versions")
        batch.drop_column("alias")
