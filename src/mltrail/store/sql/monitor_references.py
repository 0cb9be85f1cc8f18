"""Replacing a monitor's reference: its profile, source, segment references and the figures computed
against the old one, in one transaction."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import Monitor
from mltrail.store.monitoring import SegmentReferences
from mltrail.store.sql import schema as t
from mltrail.store.sql.core import writes
from mltrail.store.sql.monitor_rows import dump_history
from mltrail.store.sql.monitors import MonitorsMixin

__all__ = ["MonitorReferencesMixin"]

_MON = t.monitors.c
_W = t.monitor_windows.c


class MonitorReferencesMixin(MonitorsMixin):
    @writes
    def replace_reference(
        self,
        conn: Connection,
        name: str,
        *,
        reference: bytes,
        reference_source: str,
        segment_references: SegmentReferences | None,
    ) -> Monitor:
        current = self._load_monitor(conn, name, lock=True)
        values: dict[str, object] = {"reference": reference, "reference_source": reference_source}
        if current.versions:  # the version watched now is watched against the new reference
            now_watched = replace(current.versions[-1], reference_source=reference_source)
            history = [*current.versions[:-1], now_watched]
            values["versions"] = dump_history(history)
        conn.execute(t.monitors.update().where(_MON.id == current.id).values(**values))
        refs = t.monitor_segment_references
        conn.execute(refs.delete().where(refs.c.monitor_id == current.id))
        if segment_references is not None:
            self._insert_segment_references(conn, current.id, segment_references)
        # Every kept figure was computed against the old reference.
        conn.execute(
            t.monitor_windows.update()
            .where(_W.monitor_id == current.id, _W.figures.is_not(None))
            .values(figures=sa.null(), figures_at=sa.null())
        )
        return self._load_monitor(conn, name)
