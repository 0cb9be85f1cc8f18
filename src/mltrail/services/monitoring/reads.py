"""Reads of a monitor: its report from the kept window figures, realized performance, the last window
with traffic, and the raw rows kept for drill-down.
"""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa

from mltrail.entities import GRANULARITIES, Monitor
from mltrail.services.monitoring.core import MonitoringCore
from mltrail.services.monitoring.performance import merge_accumulators, metrics_from
from mltrail.services.monitoring.raw import raw_tables
from mltrail.services.monitoring.report import build_report

__all__ = ["MonitorReads"]


class MonitorReads(MonitoringCore):
    """Reports and raw rows (part of ``MonitoringService``)."""

    def report(
        self,
        monitor: Monitor | str,
        *,
        granularity: str | None = None,
        since: float | None = None,
        until: float | None = None,
        segments: bool = True,
        distributions: bool = True,
    ) -> dict[str, Any]:
        """The report of the period from the kept window figures (``monitoring/report.py``); a monitor
        given by name is read afresh (another process may have moved it). ``segments`` and
        ``distributions`` False leave those sections out (not computed)."""
        if isinstance(monitor, str):
            monitor = self.store.get_monitor(monitor)
        return build_report(
            self.store,
            monitor,
            granularity=granularity,
            since=since,
            until=until,
            include_segments=segments,
            distributions=distributions,
        )

    def labelled_performance(
        self, name: str, *, segment: str = "", since: float | None = None, until: float | None = None
    ) -> dict[str, float]:
        """Realized performance from the labels of the predictions of one segment (``""``: all traffic)
        in the windows overlapping [since, until): the report's figures for it (``labeled`` the count).
        Windows are the monitor's (an hour or a day), so the period is widened to whole windows."""
        monitor = self.get(name)
        width = GRANULARITIES[monitor.granularity]
        start = None if since is None else math.floor(since / width) * width
        windows = self.store.list_windows(
            monitor.id, monitor.granularity, segment=segment, since=start, until=until, profiles=False
        )
        acc: dict[str, Any] = {}
        for window in windows:
            acc = merge_accumulators(acc, window.performance)
        return metrics_from(acc, monitor.task)

    def last_window(self, monitor: Monitor) -> float | None:
        """The start of the monitor's last window that received traffic (None before any)."""
        newest = max((b.max_time for b in self.store.list_prediction_batches(monitor.id)), default=None)
        if newest is None:
            return None
        width = GRANULARITIES[monitor.granularity]
        return math.floor(newest / width) * width

    def read_raw(
        self,
        name: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        """The raw rows kept for [since, until) (drill-down), oldest batch first, read back from their
        Parquet blobs; only until ``limit`` rows are in hand. Batches whose columns have types no common
        type holds (numbers in one, lists in another) cannot be one table: ``raw_rows`` reads those."""
        tables = raw_tables(self.store, self.blobs, self.get(name), since, until, limit)
        if not tables:
            return pa.table({})
        table = pa.concat_tables(tables, promote_options="permissive")
        return table if limit is None else table.slice(0, limit)

    def raw_rows(
        self,
        name: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """``read_raw`` as one dict per row, for batches of any schema."""
        rows: list[dict[str, Any]] = []
        for table in raw_tables(self.store, self.blobs, self.get(name), since, until, limit):
            rows.extend(table.to_pylist())
        return rows if limit is None else rows[:limit]
