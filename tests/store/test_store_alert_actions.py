"""Alert rules that act and alerts with a detail (SQLite and PostgreSQL): both kept and read back, a detail
replaced while the alert is open, and rules and alerts without them as before (None)."""

from __future__ import annotations

from test_store_monitor_ingest_keys import _monitor_id

from mltrail.store.sql import SqlStore


def test_an_action_and_a_detail_round_trip(store: SqlStore, project: str) -> None:
    monitor_id, _ = _monitor_id(store, project)
    rule = store.create_alert_rule(
        monitor_id=monitor_id,
        metric="rows",
        feature=None,
        segment=None,
        comparator="above",
        threshold=5.0,
        for_windows=1,
        channels=[],
        created_at=1.0,
        created_by="ana",
        action="rollback:churn-production",
    )
    plain = store.create_alert_rule(
        monitor_id=monitor_id,
        metric="gateway.reload_failed",
        feature=None,
        segment=None,
        comparator="above",
        threshold=0.0,
        for_windows=1,
        channels=[],
        created_at=1.0,
        created_by=None,
    )
    assert rule.action == "rollback:churn-production" and plain.action is None
    assert [r.action for r in store.list_alert_rules(monitor_id)] == ["rollback:churn-production", None]
    first, opened = store.raise_alert(
        plain, feature=None, segment=None, value=1.0, window_start=2.0, now=2.0, detail="digest mismatch"
    )
    assert opened and first.detail == "digest mismatch"
    again, opened = store.raise_alert(
        plain, feature=None, segment=None, value=1.0, window_start=3.0, now=3.0, detail="model missing"
    )
    assert not opened and again.id == first.id and store.get_alert(first.id).detail == "model missing"
    kept, _ = store.raise_alert(plain, feature=None, segment=None, value=1.0, window_start=4.0, now=4.0)
    assert kept.detail == "model missing"  # no detail given: the one it had stays
    windowed, _ = store.raise_alert(rule, feature=None, segment=None, value=9.0, window_start=0.0, now=5.0)
    assert windowed.detail is None
