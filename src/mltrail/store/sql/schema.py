"""The SQL store's tables as SQLAlchemy Core ``Table``s; migrations create them, this module names them."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "alert_notifications",
    "alert_rules",
    "alerts",
    "api_keys",
    "artifacts",
    "audit_events",
    "batches",
    "compute_prices",
    "dataset_profiles",
    "dataset_versions",
    "deployment_evidence",
    "deployment_versions",
    "deployments",
    "metadata",
    "metric_keys",
    "metric_points",
    "metric_rollups",
    "model_aliases",
    "model_versions",
    "monitor_batches",
    "monitor_ingest_keys",
    "monitor_predictions",
    "monitor_segment_references",
    "monitor_windows",
    "monitors",
    "params",
    "project_budgets",
    "project_members",
    "projects",
    "registered_models",
    "registry_events",
    "reports",
    "run_datasets",
    "run_facts",
    "run_media",
    "run_tables",
    "runs",
    "summaries",
    "tags",
    "transition_decisions",
    "transition_requests",
    "users",
    "web_sessions",
    "webhook_attempts",
    "webhook_deliveries",
    "webhooks",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata: sa.MetaData = sa.MetaData(naming_convention=NAMING_CONVENTION)

# Times are epoch seconds; floats are IEEE doubles on both SQLite and PostgreSQL.
Double: sa.Double[float] = sa.Double()
RUN_ID = sa.String(64)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", Double, nullable=False),
    sqlite_autoincrement=True,
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", RUN_ID, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("user", sa.Text, nullable=True),
    sa.Column("start_time", Double, nullable=False),
    sa.Column("end_time", Double, nullable=True),
    sa.Column("heartbeat_at", Double, nullable=True),
    sa.Column("notes", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),  # JSON object
    sa.Column("context", sa.Text, nullable=False),  # JSON object
    sa.Index(None, "project_id", "start_time"),
    sa.Index(None, "project_id", "name"),
    sa.Index(None, "status", "heartbeat_at"),
)


def _value_table(name: str) -> sa.Table:
    """Params and summaries: a typed JSON value, with a number or a string copy for filtering and sorting."""
    return sa.Table(
        name,
        metadata,
        sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value_type", sa.String(8), nullable=False),  # null bool int float str list dict
        sa.Column("value_json", sa.Text, nullable=False),
        sa.Column("num_value", Double, nullable=True),  # int, float (NaN as NULL) and bool (1/0)
        sa.Column("str_value", sa.Text, nullable=True),  # str values
    )


params = _value_table("params")
summaries = _value_table("summaries")

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# One row per (run, metric key): its id for the points, and the summary used by filters and sorts.
metric_keys = sa.Table(
    "metric_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("last", Double, nullable=True),  # NULL is NaN
    sa.Column("last_step", sa.BigInteger, nullable=True),
    sa.Column("min", Double, nullable=True),
    sa.Column("max", Double, nullable=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("run_id", "key"),
    # A sort by a metric's last value walks this in order (``sql.metric_sort``); run_id makes it covering.
    sa.Index(None, "key", "last", "run_id"),
    sqlite_autoincrement=True,
)

metric_points = sa.Table(
    "metric_points",
    metadata,
    # No foreign key on purpose: its per-row check doubles the cost of bulk inserts on PostgreSQL. Key ids
    # come from metric_keys rows locked in the same transaction, and delete_run deletes points explicitly.
    sa.Column("key_id", sa.Integer, primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Column("value", Double, nullable=True),  # NULL is NaN (SQLite cannot store NaN)
    sa.Column("wall_time", Double, nullable=False),
    sqlite_with_rowid=False,
)

# Per metric key, level and step bucket: the bucket's smallest and largest value with the (first) step
# holding them and that point's wall time (so a downsampled read needs no other lookup), its point count
# and NaN count, kept up to date by every write (see ``sql.rollups``). NULL
# extremes mean the bucket holds only NaN; their steps are then its first step. Level n buckets are
# 64 * 8**(n-1) steps wide. Few rows (about 1 per 56 points), so the foreign key costs little, and its
# cascade removes them with their metric key.
metric_rollups = sa.Table(
    "metric_rollups",
    metadata,
    sa.Column("key_id", sa.Integer, sa.ForeignKey("metric_keys.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("level", sa.SmallInteger, primary_key=True),
    sa.Column("bucket", sa.BigInteger, primary_key=True),  # step // width, rounded down
    sa.Column("min_step", sa.BigInteger, nullable=False),
    sa.Column("min_value", Double, nullable=True),
    sa.Column("min_wall_time", Double, nullable=False),
    sa.Column("max_step", sa.BigInteger, nullable=False),
    sa.Column("max_value", Double, nullable=True),
    sa.Column("max_wall_time", Double, nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("nan_count", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# Batches already applied, so a retried batch is applied at most once.
batches = sa.Table(
    "batches",
    metadata,
    sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sqlite_with_rowid=False,
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("num_rows", sa.BigInteger, nullable=True),
    sa.Column("num_bytes", sa.BigInteger, nullable=True),
    sa.Column("schema", sa.Text, nullable=False),  # JSON list
    sa.Column("summary", sa.Text, nullable=False),  # JSON object
    sa.Column("created_at", Double, nullable=False),
    sa.UniqueConstraint("project_id", "name", "digest"),
    sa.UniqueConstraint("project_id", "name", "version"),
    sqlite_autoincrement=True,
)

run_datasets = sa.Table(
    "run_datasets",
    metadata,
    sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "dataset_version_id",
        sa.Integer,
        sa.ForeignKey("dataset_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("role", sa.String(32), primary_key=True),
    sa.Index(None, "dataset_version_id"),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sa.Index(None, "digest"),
)


# -- accounts (migration 0003) -------------------------------------------------------------------------------
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),  # the server role: none viewer member maintainer admin
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sqlite_autoincrement=True,
)

# Keys are stored as the sha256 of the whole key (256 random bits, so a fast hash is enough) beside their
# public id, the key's first 12 characters, which finds the row.
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key_id", sa.String(32), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sa.Column("expires_at", Double, nullable=True),
    sa.Column("revoked_at", Double, nullable=True),
    sa.Column("last_used_at", Double, nullable=True),
    sa.Index(None, "user_id"),
    sqlite_autoincrement=True,
)

# Web UI sign-ins (migration 0011): the sha256 of a random token kept in an HttpOnly cookie. The key it was
# made from is joined on every request, so revoking the key or disabling its user ends the session too.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("api_key_id", sa.Integer, sa.ForeignKey("api_keys.id"), nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sa.Column("expires_at", Double, nullable=False),
    sa.Column("revoked_at", Double, nullable=True),
    sa.Index(None, "api_key_id"),
    sa.Index(None, "expires_at"),
    sqlite_autoincrement=True,
)

project_members = sa.Table(
    "project_members",
    metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Index(None, "user_id"),
)

# Append-only. Names rather than foreign keys: an event outlives a renamed or deleted run or project.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", Double, nullable=False),
    sa.Column("user", sa.Text, nullable=True),  # None: the server ran without authentication
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("project", sa.Text, nullable=True),
    sa.Column("run_id", RUN_ID, nullable=True),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("client", sa.Text, nullable=True),
    sa.Column("user_agent", sa.Text, nullable=True),
    sa.Index(None, "time"),
    sa.Index(None, "user", "time"),
    sa.Index(None, "project", "time"),
    sa.Index(None, "action", "time"),
    sqlite_autoincrement=True,
)

# -- model registry (migration 0004) -------------------------------------------------------------------------
registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=True),
    sa.Column("tags", sa.Text, nullable=False),  # JSON object
    sa.Column("policy", sa.Text, nullable=False),  # JSON: ApprovalPolicy.to_dict()
    sa.Column("card", sa.Text, nullable=False),  # JSON object
    sa.Column("latest_version", sa.Integer, nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sa.Column("updated_at", Double, nullable=False),
    sa.Index(None, "project_id"),
    sqlite_autoincrement=True,
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("model_id", sa.Integer, sa.ForeignKey("registered_models.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    # No foreign key to runs: a version (and its audit trail) outlives a deleted run.
    sa.Column("run_id", RUN_ID, nullable=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("flavor", sa.String(32), nullable=False),
    sa.Column("format", sa.String(32), nullable=False),
    sa.Column("executes_code", sa.Boolean, nullable=False),
    sa.Column("signature", sa.Text, nullable=True),  # JSON
    sa.Column("files", sa.Text, nullable=False),  # JSON list of [path, sha256, size]
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("tags", sa.Text, nullable=False),  # JSON object
    sa.Column("created_by", sa.Text, nullable=True),
    sa.Column("created_at", Double, nullable=False),
    sa.Index(None, "model_id", "stage"),
    sa.Index(None, "run_id"),
)

model_aliases = sa.Table(
    "model_aliases",
    metadata,
    sa.Column("model_id", sa.Integer, sa.ForeignKey("registered_models.id"), primary_key=True),
    sa.Column("alias", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

transition_requests = sa.Table(
    "transition_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("registered_models.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # stage | alias
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("requested_by", sa.Text, nullable=True),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("required_approvals", sa.Integer, nullable=False),
    sa.Column("gates", sa.Text, nullable=False),  # JSON list of [gate, passed, detail]
    sa.Column("created_at", Double, nullable=False),
    sa.Column("decided_at", Double, nullable=True),
    sa.Index(None, "model_id", "status"),
    sa.Index(None, "status", "created_at"),
    sqlite_autoincrement=True,
)

transition_decisions = sa.Table(
    "transition_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.Integer, sa.ForeignKey("transition_requests.id"), nullable=False),
    sa.Column("user", sa.Text, nullable=True),
    sa.Column("approve", sa.Boolean, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("time", Double, nullable=False),
    sa.Index(None, "request_id"),
    sqlite_autoincrement=True,
)

# Append-only, with names rather than foreign keys (like audit_events): the trail outlives what it names.
registry_events = sa.Table(
    "registry_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", Double, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("project", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("user", sa.Text, nullable=True),
    sa.Column("details", sa.Text, nullable=False),  # JSON object
    sa.Column("client", sa.Text, nullable=True),
    sa.Column("user_agent", sa.Text, nullable=True),
    sa.Index(None, "model", "time"),
    sa.Index(None, "user", "time"),
    sa.Index(None, "time"),
    sqlite_autoincrement=True,
)

# The secret is kept as it is: signing needs it (it is shown once, never returned by the API).
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("events", sa.Text, nullable=False),  # JSON list of actions
    sa.Column("model", sa.Text, nullable=True),  # NULL: every model
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.Text, nullable=True),
    sa.Column("created_at", Double, nullable=False),
    sqlite_autoincrement=True,
)

# The outbox: one row per (event, webhook), written in the event's transaction.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("webhook_id", sa.Integer, sa.ForeignKey("webhooks.id"), nullable=False),
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON, exactly the bytes signed and sent
    sa.Column("status", sa.String(16), nullable=False),  # pending delivered failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", Double, nullable=True),
    sa.Column("created_at", Double, nullable=False),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "webhook_id", "created_at"),
    sqlite_autoincrement=True,
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("delivery_id", sa.Integer, sa.ForeignKey("webhook_deliveries.id"), primary_key=True),
    sa.Column("attempt", sa.Integer, primary_key=True),
    sa.Column("time", Double, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("duration_ms", Double, nullable=False),
)

# -- production monitoring (migration 0005) ------------------------------------------------------------------
monitors = sa.Table(
    "monitors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("model", sa.Text, nullable=True),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("run_id", RUN_ID, nullable=True),
    sa.Column("config", sa.Text, nullable=False),  # JSON: features, prediction, task, granularity, …
    sa.Column("reference", sa.LargeBinary, nullable=False),  # stats.DatasetProfile bytes
    sa.Column("reference_source", sa.Text, nullable=False),
    sa.Column("unmatched_labels", sa.BigInteger, nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sa.Column("created_by", sa.Text, nullable=True),
    # migration 0006: the alias or stage followed (churn@production), and the versions watched (JSON list
    # of {version, run_id, since, reference_source}, oldest first)
    sa.Column("alias", sa.Text, nullable=True),
    sa.Column("versions", sa.Text, nullable=False, server_default="[]"),
    sqlite_autoincrement=True,
)

monitor_windows = sa.Table(
    "monitor_windows",
    metadata,
    sa.Column("monitor_id", sa.Integer, sa.ForeignKey("monitors.id"), primary_key=True),
    sa.Column("granularity", sa.String(8), primary_key=True),
    sa.Column("segment", sa.Text, primary_key=True),  # "" is all traffic
    sa.Column("start", Double, primary_key=True),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("profile", sa.LargeBinary, nullable=False),
    sa.Column("violations", sa.Text, nullable=False),  # JSON {rule: count}
    sa.Column("performance", sa.Text, nullable=False),  # JSON accumulators
    sa.Column("updated_at", Double, nullable=False),
    sa.Column("figures", sa.Text, nullable=True),  # JSON drift figures, valid while figures_at = updated_at
    sa.Column("figures_at", Double, nullable=True),
    # migration 0010: JSON probability histograms for performance estimation (stats/estimation.py)
    sa.Column("estimation", sa.Text, nullable=False, server_default="{}"),
)

# Narrow on purpose: only what the delayed-label join needs; the whole rows are in Parquet batches.
monitor_predictions = sa.Table(
    "monitor_predictions",
    metadata,
    sa.Column("monitor_id", sa.Integer, primary_key=True),
    sa.Column("request_id", sa.Text, primary_key=True),
    sa.Column("time", Double, nullable=False),
    sa.Column("score", Double, nullable=True),
    sa.Column("predicted", sa.Text, nullable=True),
    sa.Column("label", sa.Text, nullable=True),
    sa.Column("label_value", Double, nullable=True),
    sa.Column("labeled_at", Double, nullable=True),
    # Migration 0012: the segments the prediction fell in, separated by "\x1f" (null: all traffic only).
    sa.Column("segments", sa.Text, nullable=True),
    sqlite_with_rowid=False,
)

monitor_batches = sa.Table(
    "monitor_batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("monitor_id", sa.Integer, sa.ForeignKey("monitors.id"), nullable=False),
    sa.Column("day", sa.String(10), nullable=False),  # YYYY-MM-DD (UTC)
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("min_time", Double, nullable=False),
    sa.Column("max_time", Double, nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sa.Index(None, "monitor_id", "day"),
    sqlite_autoincrement=True,
)

# Idempotency keys of ingested prediction batches (a client retrying after a lost response sends the
# same key): written in the transaction that merges the batch into its windows, kept for a week.
monitor_ingest_keys = sa.Table(
    "monitor_ingest_keys",
    metadata,
    sa.Column("monitor_id", sa.Integer, sa.ForeignKey("monitors.id"), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("at", Double, nullable=False),
    sa.Index(None, "monitor_id", "at"),
)

# Migration 0008: the reference's profile of each segment, built when the monitor was created from reference
# rows, so a segment is compared with the same segment of the reference. One row per segment of a spec the
# reference was split by (profile NULL: in the reference but too rare to keep its own), and one row with
# segment "" per such spec (so a spec whose segments the reference lacks is still known as split).
monitor_segment_references = sa.Table(
    "monitor_segment_references",
    metadata,
    sa.Column("monitor_id", sa.Integer, sa.ForeignKey("monitors.id"), primary_key=True),
    sa.Column("spec", sa.Text, primary_key=True),
    sa.Column("segment", sa.Text, primary_key=True),
    sa.Column("profile", sa.LargeBinary, nullable=True),
)

# A dataset version's drift profile (stats.DatasetProfile bytes): a monitor's default reference.
dataset_profiles = sa.Table(
    "dataset_profiles",
    metadata,
    sa.Column(
        "dataset_version_id",
        sa.Integer,
        sa.ForeignKey("dataset_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("profile", sa.LargeBinary, nullable=False),
)

alert_rules = sa.Table(
    "alert_rules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("monitor_id", sa.Integer, sa.ForeignKey("monitors.id"), nullable=False),
    sa.Column("metric", sa.String(32), nullable=False),
    sa.Column("feature", sa.Text, nullable=True),
    sa.Column("segment", sa.Text, nullable=True),
    sa.Column("comparator", sa.String(8), nullable=False),
    sa.Column("threshold", Double, nullable=False),
    sa.Column("for_windows", sa.Integer, nullable=False),
    sa.Column("channels", sa.Text, nullable=False),  # JSON list of channel specs
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", Double, nullable=False),
    sa.Column("created_by", sa.Text, nullable=True),
    sa.Column("action", sa.Text, nullable=True),  # "rollback:DEPLOYMENT" when the rule acts
    sa.Index(None, "monitor_id"),
    sqlite_autoincrement=True,
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("rule_id", sa.Integer, sa.ForeignKey("alert_rules.id"), nullable=False),
    sa.Column("monitor_id", sa.Integer, sa.ForeignKey("monitors.id"), nullable=False),
    sa.Column("feature", sa.Text, nullable=False),  # "" when the rule has no feature
    sa.Column("segment", sa.Text, nullable=False),  # "" is all traffic
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("value", Double, nullable=False),
    sa.Column("window_start", Double, nullable=False),
    sa.Column("opened_at", Double, nullable=False),
    sa.Column("updated_at", Double, nullable=False),
    sa.Column("acknowledged_by", sa.Text, nullable=True),
    sa.Column("resolved_at", Double, nullable=True),
    sa.Column("detail", sa.Text, nullable=True),  # what happened, for an alert raised by an event
    sa.Index(None, "rule_id", "feature", "segment", "state"),
    sa.Index(None, "monitor_id", "opened_at"),
    sqlite_autoincrement=True,
)

alert_notifications = sa.Table(
    "alert_notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("time", Double, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index(None, "alert_id"),
    sqlite_autoincrement=True,
)

# The deployment gateway's tables live in their own module; importing it here registers them on ``metadata``.
from mltrail.store.sql.schema_deployments import (  # noqa: E402
    deployment_evidence,
    deployment_versions,
    deployments,
)
from mltrail.store.sql.schema_insights import compute_prices, project_budgets, run_facts  # noqa: E402
from mltrail.store.sql.schema_media import run_media  # noqa: E402
from mltrail.store.sql.schema_reports import reports  # noqa: E402
from mltrail.store.sql.schema_tables import run_tables  # noqa: E402
