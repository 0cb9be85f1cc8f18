"""Team insights: each run's hardware and code state (backfilled from its context), the compute price
table and project budgets (issue 17, part 3).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import sqlalchemy as sa
from alembic import op

from mltrail.store.sql.insight_facts import fact_row

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL_BATCH = 2000
_FACT_COLUMNS = (
    "run_id",
    "project_id",
    "user",
    "start_time",
    "week",
    "seconds",
    "cpu_count",
    "gpu_count",
    "gpu_kind",
    "code_state",
    "has_data",
)


def upgrade() -> None:
    op.create_table(
        "run_facts",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user", sa.Text(), nullable=True),
        sa.Column("start_time", sa.Double(), nullable=False),
        sa.Column("week", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("cpu_count", sa.Integer(), nullable=True),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("gpu_kind", sa.Text(), nullable=True),
        sa.Column("code_state", sa.String(length=8), nullable=False),
        sa.Column("has_data", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_facts_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_facts")),
    )
    op.create_index(op.f("ix_run_facts_start_time"), "run_facts", ["start_time"])
    priced = ["start_time", "seconds", "cpu_count", "gpu_count"]
    for name, columns in (
        ("kind", ["gpu_kind", "project_id"]),
        ("week", ["week", "gpu_kind", "project_id"]),
        ("user", ["user", "gpu_kind", "project_id"]),
        ("project", ["project_id", "gpu_kind", "code_state", "has_data"]),
    ):
        op.create_index(op.f(f"ix_run_facts_by_{name}"), "run_facts", [*columns, *priced])
    op.create_index(op.f("ix_run_facts_counts_project"), "run_facts", ["week", "project_id", "start_time"])
    op.create_index(op.f("ix_run_facts_counts_user"), "run_facts", ["week", "user", "start_time"])
    op.create_table(
        "compute_prices",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("per_hour", sa.Double(), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_compute_prices")),
    )
    op.create_table(
        "project_budgets",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Double(), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("alert_share", sa.Double(), nullable=False),
        sa.Column("alerted_period", sa.String(length=7), nullable=True),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_budgets_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_budgets")),
    )
    _backfill()


def _backfill() -> None:
    """Every existing run's facts, read from its context in batches (keyset by id)."""
    conn = op.get_bind()
    runs = sa.table(
        "runs",
        *(
            sa.column(c)
            for c in ("id", "project_id", "user", "start_time", "end_time", "heartbeat_at", "context")
        ),
    )
    links = sa.table("run_datasets", sa.column("run_id"))
    facts = sa.table("run_facts", *(sa.column(c) for c in _FACT_COLUMNS))
    after = ""
    while True:
        rows = conn.execute(
            sa.select(
                runs.c.id,
                runs.c.project_id,
                runs.c.user,
                runs.c.start_time,
                sa.func.coalesce(runs.c.end_time, runs.c.heartbeat_at),
                runs.c.context,
                sa.exists().where(links.c.run_id == runs.c.id),
            )
            .where(runs.c.id > after)
            .order_by(runs.c.id)
            .limit(_BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        values = []
        for run_id, project_id, user, start, last, context, has_data in rows:
            try:
                doc = orjson.loads(context) if context else {}
            except orjson.JSONDecodeError:
                doc = {}
            row = fact_row(run_id, project_id, user, float(start), doc if isinstance(doc, dict) else {})
            row["seconds"] = max(0.0, float(last) - float(start)) if last is not None else 0.0
            row["has_data"] = bool(has_data)
            values.append(row)
        conn.execute(facts.insert(), values)
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_table("project_budgets")
    op.drop_table("compute_prices")
    op.drop_table("run_facts")
