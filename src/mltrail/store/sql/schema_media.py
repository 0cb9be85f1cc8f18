"""Rich media of runs (migration 0020), on the same ``metadata`` as ``schema.py``."""

from __future__ import annotations

import sqlalchemy as sa

from mltrail.store.sql.schema import Double, metadata

__all__ = ["run_media"]

# One row per (run, name, step): listing a run's names and steps, and paging one name's steps, read the
# primary key only; the blobs (image, mask, SVG, PNG, plotly JSON) are named in ``files`` by sha256.
run_media = sa.Table(
    "run_media",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # "image" | "histogram" | "figure"
    sa.Column("files", sa.Text, nullable=False),  # JSON: [[role, sha256, size, mime], …]
    sa.Column("meta", sa.Text, nullable=False),  # JSON object: size, caption, boxes, labels, counts…
    sa.Column("created_at", Double, nullable=False),
)
