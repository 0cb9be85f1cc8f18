"""The model output's reference when the training data has none: the first complete day of traffic.

A monitor's default reference is the profile of the training dataset, which holds the features (and the
label) but never the model's predictions, so without more the output could be checked for validity but not
for drift. Once a monitor has seen a whole day of traffic — a day window followed by a later one — the
prediction column of that first day's profile joins the reference, and from then on every window's output
is compared with how it looked at launch (``reference_source`` says so). Past windows are compared again,
so their figures include the output too. A monitor of an alias that moved to another version takes the
first whole day since the move, as the new version's training reference has no output either. A reference
given with the predictions on it (``reference=``) is left alone.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from typing import Any

from mltrail.entities import GRANULARITIES, Monitor
from mltrail.services.monitoring.figures import figures_for
from mltrail.stats.profile import DatasetProfile
from mltrail.store.monitoring import MonitorStore

__all__ = ["LAUNCH_DAY", "OutputBaseline", "launch_day", "output_reference"]

_DAY = GRANULARITIES["day"]
# What ``output_reference`` says the output is compared with.
LAUNCH_DAY = "launch_day"  # the first whole day of traffic (since the last move)
GIVEN = "reference"  # the reference itself held the model's output
PENDING = "pending"  # no output in the reference, and no whole day of traffic yet


def _launch_marker(prediction: str) -> re.Pattern[str]:
    return re.compile(rf"; {re.escape(prediction)}: traffic of (\d{{4}}-\d{{2}}-\d{{2}})$")


def launch_day(monitor: Monitor) -> str | None:
    """The day (YYYY-MM-DD) of traffic the output's reference was taken from; None when it was not."""
    found = _launch_marker(monitor.prediction).search(monitor.reference_source)
    return None if found is None else found.group(1)


def output_reference(monitor: Monitor, reference: DatasetProfile | None = None) -> dict[str, Any]:
    """What the model's output is compared with, said plainly for reports and the API: ``source`` is
    ``reference`` (given with the output), ``launch_day`` (the first whole day of traffic, ``day``) or
    ``pending`` (no whole day yet), and ``statement`` one sentence a reader can act on."""
    profile = reference if reference is not None else DatasetProfile.from_bytes(monitor.reference)
    column = monitor.prediction
    fix = (
        f"give one with the outputs: mltrail monitor set-reference {monitor.name} --from-run RUN (or a"
        " Parquet/CSV file)"
    )
    found = _launch_marker(column).search(monitor.reference_source)
    if column in profile.columns and found is None:
        return {
            "column": column,
            "source": GIVEN,
            "day": None,
            "statement": f"The output ({column}) is compared with the reference"
            f" ({monitor.reference_source}).",
        }
    if found is not None:
        day = found.group(1)
        return {
            "column": column,
            "source": LAUNCH_DAY,
            "day": day,
            "statement": f"No reference with predictions was given: the output ({column}) is compared with"
            f" the first day of traffic, {day}. A model wrong from day one looks normal here; {fix}.",
        }
    return {
        "column": column,
        "source": PENDING,
        "day": None,
        "statement": f"No reference with predictions was given: the output ({column}) will be compared with"
        f" the first whole day of traffic once it is over (a model wrong from day one will look normal);"
        f" {fix}.",
    }


class OutputBaseline:
    """Adds the first whole day's output to references without one; remembers per (monitor, version)
    which references already have it, so a batch costs no profile decoding once it is there."""

    def __init__(self, store: MonitorStore) -> None:
        self.store = store
        self._complete: set[tuple[int, int | None]] = set()
        self._lock = threading.Lock()

    def forget(self, monitor_id: int) -> None:
        with self._lock:
            self._complete = {key for key in self._complete if key[0] != monitor_id}

    def ensure(self, monitor: Monitor) -> Monitor:
        """The monitor, its reference completed with the output's first whole day when that day is over
        (the monitor as given otherwise)."""
        key = (monitor.id, monitor.version)
        with self._lock:
            if key in self._complete:
                return monitor
        reference = DatasetProfile.from_bytes(monitor.reference)
        if monitor.prediction in reference.columns:
            with self._lock:
                self._complete.add(key)
            return monitor
        since = None
        if len(monitor.versions) > 1:  # moved: the first day wholly after the move
            since = math.ceil(monitor.versions[-1].since / _DAY) * _DAY
        days = [w for w in self.store.list_windows(monitor.id, "day", since=since) if w.rows > 0]
        if len(days) < 2:
            return monitor
        first = days[0]
        column = DatasetProfile.from_bytes(first.profile).columns.get(monitor.prediction)
        if column is None or column.kind not in ("numeric", "categorical") or column.valid == 0:
            return monitor
        completed = DatasetProfile(reference.rows, {**reference.columns, monitor.prediction: column})
        day = dt.datetime.fromtimestamp(first.start, dt.UTC).date().isoformat()
        source = f"{monitor.reference_source}; {monitor.prediction}: traffic of {day}"
        updated = self.store.update_monitor(
            monitor.name, reference=completed.to_bytes(), reference_source=source
        )
        with self._lock:
            self._complete.add(key)
        # Every kept figure was computed without the output: compare the windows again.
        windows = self.store.list_windows(monitor.id, monitor.granularity, segment=None, since=since)
        figures_for(self.store, updated, windows, force=True)
        return updated
