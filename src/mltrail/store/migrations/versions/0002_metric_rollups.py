"""Metric rollups: per metric key, level and step bucket, its min and max point, point and NaN counts.

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept here rather than imported: a migration must not change when the application code does.
LEVELS = 5
BASE_WIDTH = 64
FANOUT = 8


def _floor_div(column: str, divisor: int) -> str:
    """Integer division rounding down, as Python's ``//`` (SQL's rounds toward zero)."""
    return f"(CASE WHEN {column} >= 0 THEN {column} / {divisor} ELSE ({column} + 1) / {divisor} - 1 END)"


def _backfill_sql(level: int) -> str:
    """Rollups of one level for the points already stored: level 1 from the points, each next level from
    the level below. Ties go to the first step; a bucket of only NaN (NULL) keeps its first step."""
    columns = (
        "key_id, level, bucket, min_step, min_value, min_wall_time, max_step, max_value, max_wall_time,"
        " count, nan_count"
    )
    if level == 1:
        bucket = _floor_div("step", BASE_WIDTH)
        source = "metric_points"
        low_step, low, low_wall, high_step, high, high_wall = (
            "step",
            "value",
            "wall_time",
            "step",
            "value",
            "wall_time",
        )
        count, nans = "1", "CASE WHEN value IS NULL THEN 1 ELSE 0 END"
    else:
        bucket = _floor_div("bucket", FANOUT)
        source = f"metric_rollups WHERE level = {level - 1}"
        low_step, low, low_wall = "min_step", "min_value", "min_wall_time"
        high_step, high, high_wall = "max_step", "max_value", "max_wall_time"
        count, nans = "count", "nan_count"
    # Only constants of this module are formatted in; there is no data.
    return f"""
        INSERT INTO metric_rollups ({columns})
        SELECT key_id, {level}, parent,
            MAX(CASE WHEN low_rank = 1 THEN low_step END), MAX(CASE WHEN low_rank = 1 THEN low END),
            MAX(CASE WHEN low_rank = 1 THEN low_wall END),
            MAX(CASE WHEN high_rank = 1 THEN high_step END), MAX(CASE WHEN high_rank = 1 THEN high END),
            MAX(CASE WHEN high_rank = 1 THEN high_wall END),
            SUM(n), SUM(nans)
        FROM (
            SELECT key_id, {bucket} AS parent,
                {low_step} AS low_step, {low} AS low, {low_wall} AS low_wall,
                {high_step} AS high_step, {high} AS high, {high_wall} AS high_wall,
                {count} AS n, {nans} AS nans,
                ROW_NUMBER() OVER (
                    PARTITION BY key_id, {bucket} ORDER BY {low} IS NULL, {low}, {low_step}
                ) AS low_rank,
                ROW_NUMBER() OVER (
                    PARTITION BY key_id, {bucket} ORDER BY {high} IS NULL, {high} DESC, {high_step}
                ) AS high_rank
            FROM {source}
        ) ranked
        GROUP BY key_id, parent
    """  # noqa: S608


def upgrade() -> None:
    op.create_table(
        "metric_rollups",
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("min_step", sa.BigInteger(), nullable=False),
        sa.Column("min_value", sa.Double(), nullable=True),
        sa.Column("min_wall_time", sa.Double(), nullable=False),
        sa.Column("max_step", sa.BigInteger(), nullable=False),
        sa.Column("max_value", sa.Double(), nullable=True),
        sa.Column("max_wall_time", sa.Double(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("nan_count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["metric_keys.id"],
            name=op.f("fk_metric_rollups_key_id_metric_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", "level", "bucket", name=op.f("pk_metric_rollups")),
        sqlite_with_rowid=False,
    )
    for level in range(1, LEVELS + 1):
        op.execute(sa.text(_backfill_sql(level)))


def downgrade() -> None:
    op.drop_table("metric_rollups")
