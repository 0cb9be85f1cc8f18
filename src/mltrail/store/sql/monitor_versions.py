"""Monitors that follow an alias: moving one to the version its alias names now, with its history entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import Monitor, MonitorVersion
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import writes
from mltrail.store.sql.monitor_rows import CONFIG_KEYS, dump_history
from mltrail.store.sql.monitors import MonitorsMixin

__all__ = ["MonitorVersionsMixin"]

_MON = t.monitors.c


class MonitorVersionsMixin(MonitorsMixin):
    @writes
    def rebind_monitor(
        self,
        conn: Connection,
        name: str,
        *,
        expected_version: int | None,
        version: int,
        run_id: str | None,
        training_metrics: Mapping[str, float],
        since: float,
        reference: bytes | None = None,
        reference_source: str | None = None,
    ) -> tuple[Monitor, bool]:
        # The row lock (PostgreSQL; SQLite writes are serialized by BEGIN IMMEDIATE) makes this a
        # compare-and-set: of two processes seeing the same move, the second finds it done.
        current = self._load_monitor(conn, name, lock=True)
        if current.version != expected_version or current.version == version:
            return current, False
        config = (
            load_json(conn.execute(sa.select(_MON.config).where(_MON.id == current.id)).scalar_one()) or {}
        )
        config["training_metrics"] = dict(training_metrics)
        # a new reference comes with its source; without one the current reference and source stay
        source = (
            current.reference_source if reference is None else reference_source or current.reference_source
        )
        entry = MonitorVersion(version, run_id, since, source)
        values: dict[str, Any] = {
            "version": version,
            "run_id": run_id,
            "config": dump_json({k: config[k] for k in CONFIG_KEYS if k in config}),
            "versions": dump_history([*current.versions, entry]),
        }
        if reference is not None:
            values["reference"] = reference
            values["reference_source"] = source
        conn.execute(t.monitors.update().where(_MON.id == current.id).values(**values))
        return self._load_monitor(conn, name), True
