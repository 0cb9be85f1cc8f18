"""Alert rules, alerts (open → acknowledged → resolved, one unresolved per rule, feature and segment), and
the log of their notifications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mltrail.entities import Alert, AlertNotification, AlertRule, AlertState
from mltrail.errors import ConflictError, NotFoundError
from mltrail.store.sql import schema as t
from mltrail.store.sql.codec import dump_json, load_json
from mltrail.store.sql.core import SqlBase, reads, writes

__all__ = ["AlertsMixin"]

_R = t.alert_rules.c
_A = t.alerts.c
_UNRESOLVED = (AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value)
_ALERT_QUERY = sa.select(t.alerts, _R.metric, _R.threshold, _R.comparator).select_from(
    t.alerts.join(t.alert_rules)
)


def _rule(row: Any) -> AlertRule:
    m = row._mapping
    return AlertRule(
        id=int(m["id"]),
        monitor_id=int(m["monitor_id"]),
        metric=m["metric"],
        feature=m["feature"],
        segment=m["segment"],
        comparator=m["comparator"],
        threshold=float(m["threshold"]),
        for_windows=int(m["for_windows"]),
        channels=tuple(load_json(m["channels"]) or ()),
        created_at=float(m["created_at"]),
        created_by=m["created_by"],
        active=bool(m["active"]),
        action=m["action"],
    )


def _alert(row: Any) -> Alert:
    m = row._mapping
    return Alert(
        id=int(m["id"]),
        rule_id=int(m["rule_id"]),
        monitor_id=int(m["monitor_id"]),
        metric=m["metric"],
        feature=m["feature"] or None,
        segment=m["segment"] or None,
        state=AlertState(m["state"]),
        value=float(m["value"]),
        threshold=float(m["threshold"]),
        comparator=m["comparator"],
        window_start=float(m["window_start"]),
        opened_at=float(m["opened_at"]),
        updated_at=float(m["updated_at"]),
        acknowledged_by=m["acknowledged_by"],
        resolved_at=None if m["resolved_at"] is None else float(m["resolved_at"]),
        detail=m["detail"],
    )


class AlertsMixin(SqlBase):
    @writes
    def create_alert_rule(
        self,
        conn: Connection,
        *,
        monitor_id: int,
        metric: str,
        feature: str | None,
        segment: str | None,
        comparator: str,
        threshold: float,
        for_windows: int,
        channels: Sequence[str],
        created_at: float,
        created_by: str | None,
        action: str | None = None,
    ) -> AlertRule:
        rule_id = conn.execute(
            t.alert_rules.insert()
            .values(
                monitor_id=monitor_id,
                metric=metric,
                feature=feature,
                segment=segment,
                comparator=comparator,
                threshold=threshold,
                for_windows=for_windows,
                channels=dump_json(list(channels)),
                active=True,
                created_at=created_at,
                created_by=created_by,
                action=action,
            )
            .returning(_R.id)
        ).scalar_one()
        return _rule(conn.execute(sa.select(t.alert_rules).where(_R.id == rule_id)).one())

    @reads
    def list_alert_rules(self, conn: Connection, monitor_id: int) -> list[AlertRule]:
        rows = conn.execute(
            sa.select(t.alert_rules).where(_R.monitor_id == monitor_id, _R.active.is_(True)).order_by(_R.id)
        )
        return [_rule(row) for row in rows]

    @writes
    def delete_alert_rule(self, conn: Connection, rule_id: int) -> None:
        if conn.execute(t.alert_rules.update().where(_R.id == rule_id).values(active=False)).rowcount == 0:
            raise NotFoundError(f"no alert rule {rule_id}")

    @staticmethod
    def _unresolved(conn: Connection, rule_id: int, feature: str, segment: str) -> Any:
        return conn.execute(
            _ALERT_QUERY.where(
                _A.rule_id == rule_id, _A.feature == feature, _A.segment == segment, _A.state.in_(_UNRESOLVED)
            ).with_for_update(of=t.alerts)
        ).one_or_none()

    @writes
    def raise_alert(
        self,
        conn: Connection,
        rule: AlertRule,
        *,
        feature: str | None,
        segment: str | None,
        value: float,
        window_start: float,
        now: float,
        detail: str | None = None,
    ) -> tuple[Alert, bool]:
        # The rule row is locked first: two evaluators of one rule serialize here, so they never open two.
        conn.execute(sa.select(_R.id).where(_R.id == rule.id).with_for_update()).one()
        feat, seg = feature or "", segment or ""
        current = self._unresolved(conn, rule.id, feat, seg)
        if current is not None:
            conn.execute(
                t.alerts.update()
                .where(_A.id == current.id)
                .values(
                    value=value,
                    window_start=max(float(current.window_start), window_start),
                    updated_at=now,
                    **({} if detail is None else {"detail": detail}),
                )
            )
            return _alert(conn.execute(_ALERT_QUERY.where(_A.id == current.id)).one()), False
        alert_id = conn.execute(
            t.alerts.insert()
            .values(
                rule_id=rule.id,
                monitor_id=rule.monitor_id,
                feature=feat,
                segment=seg,
                state=AlertState.OPEN.value,
                value=value,
                window_start=window_start,
                opened_at=now,
                updated_at=now,
                detail=detail,
            )
            .returning(_A.id)
        ).scalar_one()
        return _alert(conn.execute(_ALERT_QUERY.where(_A.id == alert_id)).one()), True

    @writes
    def resolve_alerts(
        self, conn: Connection, rule_id: int, *, feature: str | None, segment: str | None, now: float
    ) -> list[Alert]:
        current = self._unresolved(conn, rule_id, feature or "", segment or "")
        if current is None:
            return []
        conn.execute(
            t.alerts.update()
            .where(_A.id == current.id)
            .values(state=AlertState.RESOLVED.value, resolved_at=now, updated_at=now)
        )
        return [_alert(conn.execute(_ALERT_QUERY.where(_A.id == current.id)).one())]

    @writes
    def acknowledge_alert(self, conn: Connection, alert_id: int, *, user: str | None, now: float) -> Alert:
        row = conn.execute(_ALERT_QUERY.where(_A.id == alert_id).with_for_update(of=t.alerts)).one_or_none()
        if row is None:
            raise NotFoundError(f"no alert {alert_id}")
        if row.state == AlertState.RESOLVED.value:
            raise ConflictError(f"alert {alert_id} is resolved already")
        conn.execute(
            t.alerts.update()
            .where(_A.id == alert_id)
            .values(state=AlertState.ACKNOWLEDGED.value, acknowledged_by=user, updated_at=now)
        )
        return _alert(conn.execute(_ALERT_QUERY.where(_A.id == alert_id)).one())

    @reads
    def get_alert(self, conn: Connection, alert_id: int) -> Alert:
        row = conn.execute(_ALERT_QUERY.where(_A.id == alert_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no alert {alert_id}")
        return _alert(row)

    @reads
    def list_alerts(
        self, conn: Connection, *, monitor_id: int | None = None, state: str | None = None, limit: int = 100
    ) -> list[Alert]:
        query = _ALERT_QUERY
        if monitor_id is not None:
            query = query.where(_A.monitor_id == monitor_id)
        if state is not None:
            query = query.where(_A.state == state)
        return [
            _alert(r) for r in conn.execute(query.order_by(_A.opened_at.desc(), _A.id.desc()).limit(limit))
        ]

    @writes
    def record_alert_notification(self, conn: Connection, notification: AlertNotification) -> None:
        conn.execute(
            t.alert_notifications.insert().values(
                alert_id=notification.alert_id,
                channel=notification.channel,
                time=notification.time,
                ok=notification.ok,
                status_code=notification.status_code,
                error=notification.error,
            )
        )

    @reads
    def list_alert_notifications(self, conn: Connection, alert_id: int) -> list[AlertNotification]:
        n = t.alert_notifications.c
        rows = conn.execute(sa.select(t.alert_notifications).where(n.alert_id == alert_id).order_by(n.id))
        return [
            AlertNotification(int(r.alert_id), r.channel, float(r.time), bool(r.ok), r.status_code, r.error)
            for r in rows
        ]
