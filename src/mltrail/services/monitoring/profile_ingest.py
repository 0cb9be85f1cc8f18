"""Profiles in instead of rows: what a profile computed elsewhere (a nightly Spark job, ``spark_profile.py``)
adds to a monitor's windows, and the validation rules it breaks, read from the profile's counts.

A profile covers one window: an ``hour`` profile goes into its hour window and the day window holding it; a
``day`` profile into its day window only (a monitor of hourly windows needs hour profiles). Its segments'
profiles (``DatasetProfile.segments``, as ``mltrail.spark.profile(segments=…)`` builds them) go into the
segment windows of the monitor's segment specs. The windows then hold it as if the rows had been logged:
drift, validation and alerting read them the same way. No raw rows exist, so nothing is kept for drill-down
or the label join.

Validation from counts: ``missing column`` (rows where it was absent), ``null`` (missing values), ``wrong
type`` (a profile of another kind), ``unknown category`` (exact while the labels are counted exactly, else
the frequent-items estimate), and ``below min``/``above max`` from the KLL sketch's ranks (approximate, at
least 1 when the exact min or max is past the bound).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail.entities import GRANULARITIES, Monitor
from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.inputs import MAX_TIME
from mltrail.services.monitoring.kinds import output_as
from mltrail.services.monitoring.segments import segment_spec
from mltrail.stats.profile import ColumnProfile, DatasetProfile
from mltrail.store.monitoring import WindowDelta

__all__ = ["check_window", "profile_deltas", "profile_violations"]


def profile_violations(
    profile: DatasetProfile, schema: Mapping[str, Any], *, ignore: Sequence[str] = ()
) -> dict[str, int]:
    """Rule → offending rows, as ``validation.count_violations`` counts them for rows, from the counts."""
    found: dict[str, int] = {}
    rules: Mapping[str, Any] = schema.get("columns", {})

    def add(rule: str, n: float) -> None:
        if n >= 0.5:
            found[rule] = found.get(rule, 0) + round(n)

    for name, rule in rules.items():
        column = profile.columns.get(name)
        if column is None:
            add(f"{name}: missing column", profile.rows)
            continue
        add(f"{name}: missing column", column.absent)
        if rule.get("not_null"):
            add(f"{name}: null", column.missing)
        expected = rule.get("kind")
        if column.kind == "null":
            continue
        if expected in ("numeric", "categorical") and column.kind != expected:
            add(f"{name}: wrong type", column.count - column.nulls)
            continue
        if column.kind == "numeric" and column.numeric is not None and column.numeric.count:
            _range_violations(name, column, rule, add)
        elif (
            column.kind == "categorical" and column.categories is not None and rule.get("allowed") is not None
        ):
            allowed = set(rule["allowed"])
            listed, _unlisted = column.categories.frequencies()
            add(f"{name}: unknown category", sum(n for label, n in listed.items() if label not in allowed))
    if not schema.get("allow_extra", False):
        for name, column in profile.columns.items():
            if name not in rules and name not in ignore:
                add(f"extra column: {name}", column.count)
    return found


def _range_violations(name: str, column: ColumnProfile, rule: Mapping[str, Any], add: Any) -> None:
    summary = column.numeric
    assert summary is not None
    lo, hi = rule.get("min"), rule.get("max")
    n = summary.count
    if lo is not None and summary.min is not None and summary.min < lo:
        below = float(summary.kll.get_rank(lo, inclusive=False)) * n
        add(f"{name}: below min", max(below, 1.0))
    if hi is not None and summary.max is not None and summary.max > hi:
        above = (1.0 - float(summary.kll.get_rank(hi, inclusive=True))) * n
        add(f"{name}: above max", max(above, 1.0))


def _watched(profile: DatasetProfile, monitor: Monitor, prediction_kind: str) -> DatasetProfile:
    """The profile of the monitor's watched columns (those it lacks as absent), the output as its kind."""
    columns = dict(profile.columns)
    watched = [*monitor.features, monitor.prediction]
    kept = {n: columns.get(n) or ColumnProfile(n, "null", absent=profile.rows) for n in watched}
    trimmed = DatasetProfile(profile.rows, kept)
    try:
        return output_as(trimmed, monitor.prediction, prediction_kind)
    except InvalidInputError as exc:
        raise InvalidInputError(
            exc.message.replace("the reference", "the profile"), field="profile"
        ) from None


def check_window(monitor: Monitor, window_start: float, granularity: str | None) -> tuple[str, float]:
    """The profile's granularity and window start, checked against the monitor's windows."""
    grain = granularity or monitor.granularity
    if grain not in ("hour", "day"):
        raise InvalidInputError("granularity must be hour or day", field="granularity")
    if grain == "day" and monitor.granularity == "hour":
        raise InvalidInputError(
            f"monitor {monitor.name} keeps hourly windows: log hour profiles (mltrail.spark.profile(…,"
            " window='hour'))",
            field="granularity",
        )
    width = GRANULARITIES[grain]
    start = float(window_start)
    if not (math.isfinite(start) and 0 <= start <= MAX_TIME):
        raise InvalidInputError(
            "window_start must be epoch seconds between 1970 and 9999", field="window_start"
        )
    if math.floor(start / width) * width != start:
        raise InvalidInputError(
            f"window_start must be the start of a UTC {grain} (a multiple of {width} seconds), got {start}",
            field="window_start",
        )
    return grain, start


def profile_deltas(
    monitor: Monitor,
    profile: DatasetProfile,
    *,
    granularity: str,
    start: float,
    segment: str,
    prediction_kind: str,
    ignore: Sequence[str],
) -> tuple[list[WindowDelta], dict[str, int]]:
    """What the profile adds to the monitor's windows, and the rules it breaks (counted on all traffic)."""
    if segment and segment_spec(segment, monitor.segments) is None:
        raise InvalidInputError(
            f"segment {segment!r} is not one of monitor {monitor.name}'s segments"
            f" ({', '.join(monitor.segments) or 'it has none'})",
            field="segment",
        )
    pieces: list[tuple[str, DatasetProfile]] = [(segment, profile)]
    if not segment:
        for spec in monitor.segments:
            for name, part in (profile.segments.get(spec) or {}).items():
                if part is not None and part.rows:
                    pieces.append((name, part))
    violations = profile_violations(profile, monitor.schema, ignore=ignore) if not segment else {}
    day = GRANULARITIES["day"]
    deltas = []
    for name, part in pieces:
        data = _watched(part, monitor, prediction_kind).to_bytes()
        kept = violations if name == segment else {}
        deltas.append(WindowDelta(name, granularity, start, part.rows, data, dict(kept)))
        if granularity == "hour":
            deltas.append(
                WindowDelta(name, "day", math.floor(start / day) * day, part.rows, data, dict(kept))
            )
    return deltas, violations
