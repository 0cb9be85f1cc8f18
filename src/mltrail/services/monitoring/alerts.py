"""Alert rules on monitored figures, evaluated when a batch or labels land; alerts open → acknowledged →
resolved, de-duplicated per (rule, feature, segment); notifications sent off the ingesting thread.

A rule fires when its figure passes the threshold in each of ``for_windows`` consecutive windows ending at
the newest window a batch touched; it resolves when that newest window is back within the threshold.
Notifications go out when an alert opens (never again while it stays open) and when it resolves.
A rule just added is evaluated at once over the windows already stored (``evaluate_rules``, also on demand),
so days of drift ingested before it existed raise its alert now, not at the next batch.

A rule may act when its alert opens (``action``, e.g. ``rollback:churn-production``): the action is run by
the injected ``AlertActions`` (services/deployments/auto_rollback.py) before the notification goes out, and
its outcome travels in the notification (``rule_action``). Event metrics (``EVENT_METRICS``, a gateway's
refused reload) are never computed from windows: ``raise_event`` opens their alert, with a ``detail``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Protocol

from mltrail.channels import parse_channel, redact_channel
from mltrail.entities import (
    ALERT_METRICS,
    EVENT_METRICS,
    GRANULARITIES,
    Alert,
    AlertNotification,
    AlertRule,
    Monitor,
    MonitorWindow,
)
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.monitoring.estimation import window_estimate
from mltrail.services.monitoring.figures import figures_for
from mltrail.services.monitoring.performance import metrics_from

if TYPE_CHECKING:
    from mltrail.store.monitoring import MonitorStore

__all__ = [
    "HORIZON_WINDOWS",
    "AlertActions",
    "AlertService",
    "Notifier",
    "alert_payload",
    "redact_channel",
    "report_alert",
]

log = logging.getLogger(__name__)

# A notifier sends one alert payload to one channel spec: (ok, HTTP status or None, error or None).
Notifier = Callable[[str, Mapping[str, Any]], tuple[bool, int | None, str | None]]
_SCORE_KEYS = {
    "drift.psi": "psi",
    "drift.ks": "ks",
    "drift.js": "jensenshannon",
    "drift.wasserstein": "wasserstein_norm",
    "drift.chi2": "chisquare",
}
_FEATURELESS = ("drift.share", "rows")
EVENT_USER = "mltrail-gateway"  # who created the rule of an event metric raised before any rule existed


class AlertActions(Protocol):
    """What a rule's ``action`` does (injected by the composition root: the deployments service)."""

    def check(self, action: str, monitor: Monitor) -> str:
        """The action in canonical form, or ``InvalidInputError`` naming ``action``."""

    def run(self, action: str, rule: AlertRule, alert: Alert, monitor: Monitor) -> dict[str, Any]:
        """Do it for the alert just opened; what happened (for the notification and the log)."""


# Rules evaluated over stored windows (a new rule, ``evaluate_rules``) look no further back than this many
# windows: a monitor whose traffic stopped long ago raises nothing from its old data.
HORIZON_WINDOWS = 30


def alert_payload(
    alert: Alert, monitor: Monitor, *, url: str | None = None, current: bool = False
) -> dict[str, Any]:
    """What a notification says: the alert and the trail back to the model version and its run — the
    version the monitor watched when the alert opened (a monitor of an alias moves), or with ``current``
    the one it watches now (an alert just opened by the batch that ``monitor`` ingested)."""
    version, run_id = (monitor.version, monitor.run_id) if current else monitor.binding_at(alert.opened_at)
    where = f" on {alert.feature}" if alert.feature else ""
    segment = f" in segment {alert.segment}" if alert.segment else ""
    title = f"{alert.metric} {alert.comparator} {alert.threshold:g}{where}{segment}"
    return {
        "id": alert.id,
        "title": f"{alert.metric}: {alert.detail}" if alert.detail else title,
        "state": alert.state.value,
        "monitor": monitor.name,
        "project": monitor.project,
        "model": monitor.model,
        "version": version,
        "run_id": run_id,
        "metric": alert.metric,
        "feature": alert.feature,
        "segment": alert.segment,
        "value": alert.value,
        "comparator": alert.comparator,
        "threshold": alert.threshold,
        "window_start": alert.window_start,
        "opened_at": alert.opened_at,
        "detail": alert.detail,
        "url": url,
    }


def report_alert(alert: Alert, monitor: Monitor) -> dict[str, Any]:
    """An alert as a report lists it: the notification's fields and who acknowledged it."""
    return {**alert_payload(alert, monitor), "acknowledged_by": alert.acknowledged_by}


class AlertService:
    def __init__(
        self,
        store: MonitorStore,
        *,
        notifier: Notifier | None = None,
        clock: Callable[[], float] = time.time,
        base_url: str | None = None,
        check_destination: Callable[[str], object] | None = None,
        actions: AlertActions | None = None,
    ) -> None:
        self.store = store
        self.actions = actions
        # A team server's destination policy for channel specs (no private or loopback targets): injected.
        self._check_destination = check_destination
        self.clock = clock
        self.notifier = notifier
        self.base_url = base_url
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mltrail-alerts")
        self._pending: list[Future[None]] = []
        self._lock = threading.Lock()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until the notifications queued so far are sent (and logged); False on a timeout."""
        with self._lock:
            pending, self._pending = self._pending, []
        _, not_done = wait(pending, timeout=timeout)
        with self._lock:
            self._pending.extend(not_done)
        return not not_done

    def close(self, wait: bool = True) -> None:
        """Finish sending queued notifications (``wait``) and stop the senders."""
        self._pool.shutdown(wait=wait)

    # -- rules ------------------------------------------------------------------------------------------
    def add_rule(
        self,
        monitor: Monitor,
        *,
        metric: str,
        feature: str | None = None,
        segment: str | None = None,
        above: float | None = None,
        below: float | None = None,
        for_windows: int = 1,
        notify: Sequence[str] = (),
        created_by: str | None = None,
        validate_channel: Callable[[str], object] | None = None,
        action: str | None = None,
    ) -> AlertRule:
        if metric not in ALERT_METRICS:
            raise InvalidInputError(
                f"unknown metric {metric!r}; one of {', '.join(ALERT_METRICS)}", field="metric"
            )
        if (above is None) == (below is None):
            raise InvalidInputError("give exactly one of above and below", field="above")
        threshold = float(above if above is not None else below)  # type: ignore[arg-type]
        if not math.isfinite(threshold):
            raise InvalidInputError(
                "the threshold must be a finite number", field="above" if above else "below"
            )
        if not 1 <= for_windows <= 1000:
            raise InvalidInputError("for_windows must be between 1 and 1000", field="for_windows")
        needs_feature = metric.startswith(("drift.", "missing_rate")) and metric not in _FEATURELESS
        if needs_feature and not feature:
            feature = "*"
        if feature and feature != "*" and metric != "validation.violations":
            watched = {*monitor.features, monitor.prediction}
            if feature not in watched:
                raise InvalidInputError(f"{feature!r} is not a monitored column", field="feature")
        if segment is not None and segment not in monitor.segments and "=" not in segment:
            raise InvalidInputError(f"{segment!r} is not one of the monitor's segments", field="segment")
        # Stored in canonical form, so that every reader redacts it the same way (docs/NOTIFICATIONS.md).
        specs = [parse_channel(channel).spec for channel in notify]
        for spec in specs:
            if self._check_destination is not None:
                self._check_destination(spec)
            if validate_channel is not None:  # a caller's extra check
                validate_channel(spec)
        if action is not None:
            if self.actions is None:
                raise InvalidInputError("alert rules cannot act here (no actions configured)", field="action")
            action = self.actions.check(action, monitor)
        rule = self.store.create_alert_rule(
            monitor_id=monitor.id,
            metric=metric,
            feature=feature if needs_feature or metric == "validation.violations" else None,
            segment=segment,
            comparator="above" if above is not None else "below",
            threshold=threshold,
            for_windows=for_windows,
            channels=specs,
            created_at=self.clock(),
            created_by=created_by,
            action=action,
        )
        if metric in EVENT_METRICS:
            return rule  # raised by its event only
        # The data already in counts: a rule added after days of drift fires now, not at the next batch.
        self.evaluate_rules(monitor, rule_id=rule.id)
        return rule

    def rules(self, monitor: Monitor) -> list[AlertRule]:
        return self.store.list_alert_rules(monitor.id)

    def delete_rule(self, rule_id: int) -> None:
        self.store.delete_alert_rule(rule_id)

    # -- evaluation -------------------------------------------------------------------------------------
    def evaluate(self, monitor: Monitor, touched: Sequence[float]) -> list[Alert]:
        """Evaluate every rule of the monitor at the newest touched window; the alerts opened. ``monitor``
        is the one the batch was ingested with: notifications name its version and run."""
        rules = self.store.list_alert_rules(monitor.id)
        if not rules or not touched:
            return []
        return self._evaluate_at(monitor, rules, max(touched))

    def evaluate_rules(self, monitor: Monitor, rule_id: int | None = None) -> list[Alert]:
        """Evaluate the monitor's rules (or rule ``rule_id`` only) over the windows already stored, as if
        their newest batch had just landed: each rule looks at its ``for_windows`` consecutive windows
        ending at the newest stored window, provided that window is one of the last ``HORIZON_WINDOWS``
        before now (older data raises nothing). Opens, updates or resolves alerts and notifies as ingestion
        does; returns the alerts opened. Called when a rule is added; ``mltrail monitor alerts evaluate``."""
        monitor = self.store.get_monitor(monitor.name)  # as it is now: the version its alerts will name
        rules = self.store.list_alert_rules(monitor.id)
        if rule_id is not None:
            rules = [r for r in rules if r.id == rule_id]
            if not rules:
                raise NotFoundError(f"no alert rule {rule_id} on monitor {monitor.name!r}")
        width = GRANULARITIES[monitor.granularity]
        recent = self.store.list_windows(
            monitor.id, monitor.granularity, since=self.clock() - HORIZON_WINDOWS * width
        )
        if not rules or not recent:
            return []
        return self._evaluate_at(monitor, rules, recent[-1].start)

    def _evaluate_at(self, monitor: Monitor, rules: Sequence[AlertRule], newest: float) -> list[Alert]:
        width = GRANULARITIES[monitor.granularity]
        cache: dict[tuple[str, float], dict[str, Any]] = {}
        opened: list[Alert] = []
        for rule in rules:
            span = newest - (rule.for_windows - 1) * width
            windows = self.store.list_windows(
                monitor.id, monitor.granularity, segment=rule.segment or "", since=span, until=newest + width
            )
            if len(windows) < rule.for_windows or windows[-1].start != newest:
                continue  # not enough consecutive windows yet (a gap breaks the run)
            per_window = []
            fresh = figures_for(self.store, monitor, windows)  # kept by ingest; computed only if stale
            for w, drift in zip(windows, fresh, strict=True):
                key = (w.segment, w.start)
                if key not in cache:
                    cache[key] = {
                        "window": w,
                        "drift": drift,
                        "performance": metrics_from(w.performance, monitor.task),
                        "estimated": window_estimate(w, monitor),
                    }
                per_window.append(cache[key])
            for feature in self._features(rule, monitor):
                values = [_figure(rule, feature, figures) for figures in per_window]
                latest = values[-1]
                if latest is not None and all(v is not None and _passes(rule, v) for v in values):
                    alert, is_new = self.store.raise_alert(
                        rule,
                        feature=feature,
                        segment=rule.segment,
                        value=latest,
                        window_start=newest,
                        now=self.clock(),
                    )
                    if is_new:
                        opened.append(alert)
                        done = self._act(rule, alert, monitor)
                        self._notify(rule, alert, monitor, current=True, action=done)
                elif latest is not None:
                    for resolved in self.store.resolve_alerts(
                        rule.id, feature=feature, segment=rule.segment, now=self.clock()
                    ):
                        self._notify(rule, resolved, monitor)
        return opened

    @staticmethod
    def _features(rule: AlertRule, monitor: Monitor) -> Iterable[str | None]:
        if rule.feature == "*":
            return [*monitor.features, monitor.prediction]
        return [rule.feature]

    def _act(self, rule: AlertRule, alert: Alert, monitor: Monitor) -> dict[str, Any] | None:
        """Run the rule's action for the alert just opened; a failure is logged and reported in the
        notification, never raised into ingestion."""
        if rule.action is None:
            return None
        if self.actions is None:
            log.warning(
                "alert %s: rule %s has action %r but no actions are configured",
                alert.id,
                rule.id,
                rule.action,
            )
            return {"action": rule.action, "outcome": "failed", "error": "no actions configured here"}
        try:
            done = self.actions.run(rule.action, rule, alert, monitor)
        except Exception as exc:  # the alert stands whatever the action does
            log.exception("alert %s: action %s failed", alert.id, rule.action)
            return {"action": rule.action, "outcome": "failed", "error": f"{type(exc).__name__}: {exc}"}
        log.warning("alert %s: action %s: %s", alert.id, rule.action, done)
        return done

    def raise_event(self, monitor: Monitor, *, metric: str, detail: str) -> tuple[Alert, bool]:
        """Open (or update) the alert of an event metric on ``monitor`` with ``detail`` in words, under the
        monitor's rule of that metric (created, without channels, when it has none); notified through the
        rule's channels when it opens. The alert and whether it is new."""
        if metric not in EVENT_METRICS:
            raise InvalidInputError(
                f"unknown event {metric!r}; one of {', '.join(EVENT_METRICS)}", field="metric"
            )
        detail = detail.strip()[:2000]
        if not detail:
            raise InvalidInputError("say what happened", field="detail")
        monitor = self.store.get_monitor(monitor.name)
        rules = [r for r in self.store.list_alert_rules(monitor.id) if r.metric == metric]
        rule = (
            rules[0]
            if rules
            else self.store.create_alert_rule(
                monitor_id=monitor.id,
                metric=metric,
                feature=None,
                segment=None,
                comparator="above",
                threshold=0.0,
                for_windows=1,
                channels=[],
                created_at=self.clock(),
                created_by=EVENT_USER,
            )
        )
        now = self.clock()
        alert, is_new = self.store.raise_alert(
            rule, feature=None, segment=None, value=1.0, window_start=now, now=now, detail=detail
        )
        if is_new:
            done = self._act(rule, alert, monitor)
            self._notify(rule, alert, monitor, current=True, action=done)
        return alert, is_new

    def _notify(
        self,
        rule: AlertRule,
        alert: Alert,
        monitor: Monitor,
        *,
        current: bool = False,
        action: dict[str, Any] | None = None,
    ) -> None:
        if not rule.channels or self.notifier is None:
            return
        url = None if self.base_url is None else f"{self.base_url.rstrip('/')}/alerts/{alert.id}"
        payload = alert_payload(alert, monitor, url=url, current=current)
        if action is not None:
            payload["rule_action"] = action
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()]
            for channel in rule.channels:
                self._pending.append(self._pool.submit(self._send, channel, alert.id, payload))

    def _send(self, channel: str, alert_id: int, payload: Mapping[str, Any]) -> None:
        assert self.notifier is not None
        try:
            ok, status, error = self.notifier(channel, payload)
        except Exception as exc:  # a broken channel must never break monitoring; it is logged
            log.exception("alert notification to %s failed", channel)
            ok, status, error = False, None, f"{type(exc).__name__}: {exc}"
        try:
            self.store.record_alert_notification(
                AlertNotification(alert_id, redact_channel(channel), self.clock(), ok, status, error)
            )
        except Exception:  # the store may be closing while the last notification goes out
            log.exception("could not record the notification of alert %s", alert_id)

    # -- states -----------------------------------------------------------------------------------------
    def acknowledge(self, alert_id: int, user: str | None) -> Alert:
        return self.store.acknowledge_alert(alert_id, user=user, now=self.clock())

    def resolve(self, alert_id: int) -> Alert:
        alert = self.store.get_alert(alert_id)
        resolved = self.store.resolve_alerts(
            alert.rule_id, feature=alert.feature, segment=alert.segment, now=self.clock()
        )
        return resolved[0] if resolved else alert

    def get(self, alert_id: int) -> Alert:
        return self.store.get_alert(alert_id)

    def notifications(self, alert_id: int) -> list[AlertNotification]:
        """Where the alert was sent and how each delivery went."""
        return self.store.list_alert_notifications(alert_id)

    def list(
        self, monitor: Monitor | None = None, *, state: str | None = None, limit: int = 100
    ) -> list[Alert]:
        return self.store.list_alerts(
            monitor_id=None if monitor is None else monitor.id, state=state, limit=limit
        )


def _passes(rule: AlertRule, value: float) -> bool:
    return value > rule.threshold if rule.comparator == "above" else value < rule.threshold


def _figure(rule: AlertRule, feature: str | None, figures: Mapping[str, Any]) -> float | None:
    window: MonitorWindow = figures["window"]
    drift = figures["drift"]
    metric = rule.metric
    if metric in EVENT_METRICS:  # raised by their events, never from windows
        return None
    if metric == "rows":
        return float(window.rows)
    if metric == "drift.share":  # None for a segment new to the reference: no drift figures
        share = drift.get("share_drifted")
        return None if share is None else float(share)
    if metric.startswith("performance."):
        value = figures["performance"].get(metric.split(".", 1)[1])
        return None if value is None else float(value)
    if metric.startswith("estimated."):  # estimated before labels, CBPE or DLE (a dict with its band)
        estimated = figures["estimated"].get(metric.split(".", 1)[1])
        return None if estimated is None else float(estimated["value"])
    if metric == "validation.violations":
        if not window.rows:
            return None
        prefix = None if feature in (None, "*") else f"{feature}:"
        bad = sum(n for r, n in window.violations.items() if prefix is None or r.startswith(prefix))
        return float(bad) / window.rows
    column = drift["scores"].get(feature or "")
    if column is None:
        return None
    if metric == "drift.score":
        return _number(column["statistic"])
    if metric == "missing_rate":
        rate = drift["missing_rate"].get(feature or "")
        return None if rate is None else float(rate)
    if metric == "missing_rate.delta":
        return _number(column["missing_delta"])
    value = column["scores"].get(_SCORE_KEYS[metric])
    return None if value is None else float(value)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
