"""Delayed labels: which segments a kept prediction fell in, and the performance accumulators a batch of
matched labels adds to each window of all traffic and of every segment it belongs to.

A prediction remembers its segments when it is kept (``PredictionRow.segments``): one name per value
segment (``country=DE``) and per rule it matches (``age < 25``), so a label arriving days later updates the
same windows the prediction was profiled into, without re-reading raw rows. A value too rare to have its
own window in a batch names a window that may not exist: the store skips it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mltrail.entities import GRANULARITIES
from mltrail.services.monitoring.performance import accumulate
from mltrail.services.monitoring.segments import SegmentSpec, rule_mask
from mltrail.store.monitoring import LabelMatch

__all__ = ["performance_updates", "segment_memberships", "windows_of"]

_SEP = "\x1f"  # the store joins a row's segment names with it: a value holding it gets no segment


def segment_memberships(table: pa.Table, specs: Sequence[SegmentSpec]) -> list[tuple[str, ...]]:
    """Per row, the names of the segments it falls in (as ``split_segments`` names them)."""
    n = table.num_rows
    names: list[list[str]] = [[] for _ in range(n)]
    for seg in specs:
        if seg.column not in table.column_names:
            continue
        if seg.op is not None:
            mask = rule_mask(table, seg)
            if mask is None:
                continue
            for i in pc.indices_nonzero(mask).to_pylist():
                names[i].append(seg.spec)
            continue
        column = table.column(seg.column)
        if pa.types.is_floating(column.type):
            continue  # a float column is split with a rule, not by value
        prefix = f"{seg.column}="
        for i, value in enumerate(column.to_pylist()):
            if value is not None:
                name = f"{prefix}{value}"
                if _SEP not in name:
                    names[i].append(name)
    return [tuple(row) for row in names]


def performance_updates(
    matches: Iterable[LabelMatch], task: str
) -> dict[str, dict[tuple[str, float], dict[str, Any]]]:
    """Granularity → ``(segment, window start)`` → the accumulator of the matches in that window, for
    all traffic (segment ``""``) and each segment a match's prediction fell in."""
    groups: dict[str, dict[tuple[str, float], list[LabelMatch]]] = {g: {} for g in GRANULARITIES}
    for m in matches:
        for granularity, width in GRANULARITIES.items():
            start = math.floor(m.time / width) * width
            by_key = groups[granularity]
            for segment in ("", *m.segments):
                by_key.setdefault((segment, start), []).append(m)
    return {
        granularity: {key: accumulate(group, task) for key, group in by_key.items()}
        for granularity, by_key in groups.items()
    }


def windows_of(matches: Sequence[LabelMatch], granularity: str) -> tuple[float, ...]:
    """The starts of the windows of ``granularity`` the matches fall in."""
    width = GRANULARITIES[granularity]
    return tuple(sorted({math.floor(m.time / width) * width for m in matches}))
