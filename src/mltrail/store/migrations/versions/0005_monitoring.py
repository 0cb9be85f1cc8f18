"""Production monitoring: dataset drift profiles, monitors, their windows, predictions kept for the label
join, the raw-batch index, alert rules, alerts and their notifications.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataset_profiles",
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("profile", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dataset_profiles_dataset_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_version_id", name=op.f("pk_dataset_profiles")),
    )
    op.create_table(
        "monitor_predictions",
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("time", sa.Double(), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("predicted", sa.Text(), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("label_value", sa.Double(), nullable=True),
        sa.Column("labeled_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("monitor_id", "request_id", name=op.f("pk_monitor_predictions")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "monitors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("reference", sa.LargeBinary(), nullable=False),
        sa.Column("reference_source", sa.Text(), nullable=False),
        sa.Column("unmatched_labels", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_monitors_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitors")),
        sa.UniqueConstraint("name", name=op.f("uq_monitors_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("feature", sa.Text(), nullable=True),
        sa.Column("segment", sa.Text(), nullable=True),
        sa.Column("comparator", sa.String(length=8), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("for_windows", sa.Integer(), nullable=False),
        sa.Column("channels", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["monitor_id"], ["monitors.id"], name=op.f("fk_alert_rules_monitor_id_monitors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_alert_rules_monitor_id"), "alert_rules", ["monitor_id"], unique=False)
    op.create_table(
        "monitor_batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("min_time", sa.Double(), nullable=False),
        sa.Column("max_time", sa.Double(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["monitor_id"], ["monitors.id"], name=op.f("fk_monitor_batches_monitor_id_monitors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_batches")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_monitor_batches_monitor_id_day"), "monitor_batches", ["monitor_id", "day"], unique=False
    )
    op.create_table(
        "monitor_windows",
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("granularity", sa.String(length=8), nullable=False),
        sa.Column("segment", sa.Text(), nullable=False),
        sa.Column("start", sa.Double(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("profile", sa.LargeBinary(), nullable=False),
        sa.Column("violations", sa.Text(), nullable=False),
        sa.Column("performance", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=True),
        sa.Column("figures_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["monitor_id"], ["monitors.id"], name=op.f("fk_monitor_windows_monitor_id_monitors")
        ),
        sa.PrimaryKeyConstraint(
            "monitor_id", "granularity", "segment", "start", name=op.f("pk_monitor_windows")
        ),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("segment", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("window_start", sa.Double(), nullable=False),
        sa.Column("opened_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("acknowledged_by", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitors.id"], name=op.f("fk_alerts_monitor_id_monitors")),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rules.id"], name=op.f("fk_alerts_rule_id_alert_rules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_alerts_monitor_id_opened_at"), "alerts", ["monitor_id", "opened_at"], unique=False
    )
    op.create_index(
        op.f("ix_alerts_rule_id_feature_segment_state"),
        "alerts",
        ["rule_id", "feature", "segment", "state"],
        unique=False,
    )
    op.create_table(
        "alert_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("time", sa.Double(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_notifications_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notifications")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_alert_notifications_alert_id"), "alert_notifications", ["alert_id"], unique=False
    )


def downgrade() -> None:
    for table in (
        "alert_notifications",
        "alerts",
        "alert_rules",
        "monitor_batches",
        "monitor_predictions",
        "monitor_windows",
        "monitors",
        "dataset_profiles",
    ):
        op.drop_table(table)
