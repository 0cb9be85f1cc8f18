"""AuditService on a real SQLite store: coalescing high-frequency writes, queries, times, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.entities import AuditEvent
from mltrail.errors import InvalidInputError
from mltrail.services.accounts.audit import MAX_AUDIT_PAGE, AuditService, events_to_csv, parse_time
from mltrail.store.factory import open_store
from mltrail.store.sql import SqlStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    yield opened
    opened.close()


def _event(t: float, action: str = "log_metrics", user: str | None = "ana", run: str = "r1") -> AuditEvent:
    return AuditEvent(time=t, user=user, action=action, method="POST", path=f"/api/v1/runs/{run}", run_id=run)


def test_high_frequency_actions_are_coalesced_per_user_run_and_minute(store: SqlStore) -> None:
    audit = AuditService(store)
    assert audit.record(_event(100.0)) is True
    assert audit.record(_event(130.0)) is False  # same user, run and action within 60 s
    assert audit.record(_event(130.0, run="r2")) is True
    assert audit.record(_event(130.0, user="bob")) is True
    assert audit.record(_event(131.0, action="heartbeat")) is True
    assert audit.record(_event(160.0)) is True  # a minute later
    for t in (161.0, 162.0):
        assert audit.record(_event(t, action="set_tags")) is True  # every other write, every time
    assert len(audit.query(limit=100)) == 7


def test_coalescing_can_be_turned_off(store: SqlStore) -> None:
    audit = AuditService(store, coalesce={})
    for t in range(5):
        audit.record(_event(float(t)))
    assert len(audit.query()) == 5


def test_query_filters_and_bounds(store: SqlStore) -> None:
    audit = AuditService(store, coalesce={})
    audit.record(_event(1.0, action="create_run"))
    audit.record(_event(2.0, action="delete_run", user="bob"))
    assert [e.action for e in audit.query(user="bob")] == ["delete_run"]
    assert [e.action for e in audit.query(since=1.5)] == ["delete_run"]
    for bad in ({"limit": 0}, {"limit": MAX_AUDIT_PAGE + 1}, {"offset": -1}):
        with pytest.raises(InvalidInputError):
            audit.query(**bad)  # type: ignore[arg-type]


def test_parse_time_reads_epochs_iso_times_and_durations() -> None:
    now = 1_700_000_000.0
    assert parse_time(None, now) is None
    assert parse_time("", now) is None
    assert parse_time("7d", now) == now - 7 * 86400
    assert parse_time("12h", now) == now - 12 * 3600
    assert parse_time("1699999999.5", now) == 1699999999.5
    assert (
        parse_time("2024-01-02T03:04:05Z", now) == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC).timestamp()
    )
    assert parse_time("2024-01-02", now) == dt.datetime(2024, 1, 2, tzinfo=dt.UTC).timestamp()
    for bad in ("yesterday", "nan", "inf"):
        with pytest.raises(InvalidInputError, match="until"):
            parse_time(bad, now, "until")


def test_csv_has_a_header_and_one_row_per_event() -> None:
    events = [
        AuditEvent(
            time=0.0, user=None, action="create_user", method="CLI", path='mltrail users create "a,b"', id=1
        )
    ]
    rows = list(csv.DictReader(io.StringIO(events_to_csv(events))))
    assert rows == [
        {
            "id": "1",
            "time": "0.0",
            "time_iso": "1970-01-01T00:00:00+00:00",
            "user": "",
            "action": "create_user",
            "method": "CLI",
            "path": 'mltrail users create "a,b"',
            "project": "",
            "run_id": "",
            "status": "200",
            "client": "",
            "user_agent": "",
        }
    ]


def test_csv_cells_that_a_spreadsheet_would_run_are_defused() -> None:
    event = AuditEvent(
        time=0.0, user="bob", action="set_tags", method="PATCH", path="/x", user_agent="=HYPERLINK()"
    )
    row = next(csv.DictReader(io.StringIO(events_to_csv([event]))))
    assert row["user_agent"] == "'=HYPERLINK()" and row["path"] == "/x"
