"""The audit log: recording successful writes and querying them. No HTTP here.

Events are appended and never changed. High-frequency writes that a training script repeats all the time
(``log_metrics`` every ~0.2 s, ``heartbeat`` every few seconds) are coalesced: one event per user, run and
action per ``coalesce_seconds`` (60 s by default) in each server process, so a week-long run does not add
millions of identical rows. Every other write is recorded each time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, fields, replace

import orjson

from mltrail.entities import AuditEvent, RegistryEvent
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.accounts.service import parse_duration
from mltrail.store.accounts import AccountStore

__all__ = [
    "COALESCED_ACTIONS",
    "MAX_AUDIT_PAGE",
    "AuditService",
    "events_to_csv",
    "parse_time",
    "registry_events_to_csv",
]

COALESCED_ACTIONS: Mapping[str, float] = {
    "log_metrics": 60.0,
    "heartbeat": 60.0,
    # MLflow's client sends a request per log_metric call, in the training loop
    "mlflow_log_metric": 60.0,
    "mlflow_log_batch": 60.0,
    # a serving process posts predictions every second or so, and labels in batches
    "ingest_predictions": 60.0,
    "log_labels": 60.0,
    # every serving gateway replica sends its evidence every few seconds
    "post_deployment_evidence": 60.0,
}
MAX_AUDIT_PAGE = 10_000
_MAX_REMEMBERED = 10_000
_RELATIVE = re.compile(r"^\s*\d+(?:\.\d+)?\s*[smhdw]\s*$")


def parse_time(text: str | float | None, now: float, field: str = "since") -> float | None:
    """Epoch seconds from epoch seconds, an ISO 8601 date or time (UTC unless it says otherwise), or a
    duration back from ``now`` such as ``7d``, ``12h`` or ``30m``."""
    if text is None:
        return None
    if isinstance(text, int | float):
        return float(text)
    raw = text.strip()
    if not raw:
        return None
    if _RELATIVE.match(raw):
        return now - parse_duration(raw, field)
    problem = InvalidInputError(
        f"{field} must be epoch seconds, an ISO 8601 time or a duration such as 7d, got {text!r}", field=field
    )
    try:
        seconds = float(raw)
    except ValueError:
        try:
            parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise problem from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp()
    if not math.isfinite(seconds):
        raise problem
    return seconds


def events_to_csv(events: Iterable[AuditEvent]) -> str:
    """The events as CSV with a header row; ``time_iso`` repeats the time in UTC for people."""
    names = ["id", "time", "time_iso", *(f.name for f in fields(AuditEvent) if f.name not in ("id", "time"))]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for event in events:
        row = {k: _cell(v) for k, v in asdict(event).items()}
        row["time_iso"] = dt.datetime.fromtimestamp(event.time, dt.UTC).isoformat()
        writer.writerow(row)
    return out.getvalue()


_REGISTRY_COLUMNS = (
    "id", "time", "time_iso", "model", "project", "version", "action", "user", "details", "client",
    "user_agent",
)  # fmt: skip


def registry_events_to_csv(events: Iterable[RegistryEvent]) -> str:
    """The registry's trail as CSV with a header row; ``details`` as JSON, ``time_iso`` the time in UTC."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_REGISTRY_COLUMNS)
    for e in events:
        iso = dt.datetime.fromtimestamp(e.time, dt.UTC).isoformat()
        details = orjson.dumps(e.details, option=orjson.OPT_SORT_KEYS, default=str).decode()
        row = (e.id, e.time, iso, e.model, e.project, e.version, e.action, e.user, details, e.client)
        writer.writerow([_cell(v) for v in (*row, e.user_agent)])
    return out.getvalue()


def _cell(value: object) -> object:
    """A CSV cell; text a spreadsheet would run as a formula (paths and user agents come from clients) is
    prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class AuditService:
    """Append events (coalescing the high-frequency actions) and query them."""

    def __init__(
        self,
        store: AccountStore,
        coalesce: Mapping[str, float] = COALESCED_ACTIONS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.coalesce = dict(coalesce)
        self.clock = clock
        self._last: dict[tuple[str | None, str | None, str], float] = {}
        self._lock = threading.Lock()

    def record(self, event: AuditEvent) -> bool:
        """Append ``event``; False when it was coalesced into a recent one of the same kind."""
        if not self.due(event):
            return False
        self.append(event)
        return True

    def due(self, event: AuditEvent) -> bool:
        """Whether ``event`` is to be appended, or coalesced into a recent one. No I/O: callers on an event
        loop ask this before handing the append to a worker thread."""
        window = self.coalesce.get(event.action)
        if not window:
            return True
        with self._lock:
            last = self._last.get((event.user, event.run_id, event.action))
        return last is None or not 0 <= event.time - last < window

    def append(self, event: AuditEvent) -> None:
        """Append ``event`` unconditionally (an event with a run but no project gets the run's project)."""
        if event.project is None and event.run_id is not None:
            event = replace(event, project=self._run_project(event.run_id))
        self.store.append_audit_event(event)
        if self.coalesce.get(event.action):  # remembered once stored, so a failed append is not coalesced
            with self._lock:
                if len(self._last) >= _MAX_REMEMBERED:
                    cutoff = event.time - max(self.coalesce.values())
                    self._last = {k: v for k, v in self._last.items() if v >= cutoff}
                    if len(self._last) >= _MAX_REMEMBERED:
                        self._last.clear()
                self._last[(event.user, event.run_id, event.action)] = event.time

    def _run_project(self, run_id: str) -> str | None:
        try:
            return self.store.get_run_project(run_id)
        except NotFoundError:
            return None

    def query(
        self,
        *,
        user: str | None = None,
        project: str | None = None,
        action: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuditEvent]:
        """Events matching every given filter (``since`` ≤ time < ``until``), newest first."""
        if not 1 <= limit <= MAX_AUDIT_PAGE:
            raise InvalidInputError(f"limit must be between 1 and {MAX_AUDIT_PAGE}", field="limit")
        if offset < 0:
            raise InvalidInputError("offset must be ≥ 0", field="offset")
        return self.store.query_audit_events(
            user=user, project=project, action=action, since=since, until=until, limit=limit, offset=offset
        )
