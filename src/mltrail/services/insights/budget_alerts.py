"""Budget alerts that reach someone: what the notification says (``budget_payload``) and ``BudgetAlerts``,
which sends it to each of the budget's channels off the caller's thread (a run's finish request never
waits for a receiver, nor fails with one) and records each delivery in the audit log, action
``budget_notification``: budgets have no alert rows for a notification log to hang from, and the audit
log is where their alert itself is recorded (``budget_alert``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from mltrail.channels import redact_channel
from mltrail.entities import AuditEvent
from mltrail.services.monitoring.alerts import Notifier
from mltrail.store.accounts import AccountStore

__all__ = ["BUDGET_NOTIFICATION_ACTION", "BudgetAlerts", "budget_payload"]

log = logging.getLogger(__name__)

BUDGET_NOTIFICATION_ACTION = "budget_notification"
_MAX_ERROR = 500


def budget_payload(status: Mapping[str, Any], *, url: str | None = None) -> dict[str, Any]:
    """The notification of a budget's status (``costs.budget_status``): ``kind`` ``budget`` (so that
    webhooks announce ``budget.<state>``), a one-line ``title`` (the Slack header and the e-mail subject),
    the figures, and ``url``: the insights cost page when the server's address is known."""
    share = status["share"]
    spent = f"{status['spent']:.2f} of {status['amount']:.2f} {status['currency']}"
    part = "" if share is None else f" ({share:.0%})"
    over = status["state"] == "over"
    reached = "over budget" if over else f"past its {status['alert_share']:.0%} alert share"
    return {
        "kind": "budget",
        "title": f"Budget of {status['project']} {reached}: {spent}{part} spent in {status['period']}",
        "state": status["state"],
        "project": status["project"],
        "period": status["period"],
        "spent": status["spent"],
        "amount": status["amount"],
        "currency": status["currency"],
        "share": share,
        "alert_share": status["alert_share"],
        "url": url,
    }


class BudgetAlerts:
    """Sends budget notifications through the injected ``notifier`` (``mltrail.notify.alert_notifier``, the
    one alert rules use) on its own threads; without a notifier nothing is sent (nor logged)."""

    def __init__(
        self,
        audit: AccountStore,
        *,
        notifier: Notifier | None = None,
        base_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.audit = audit
        self.notifier = notifier
        self.base_url = base_url
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mltrail-budgets")
        self._pending: list[Future[None]] = []
        self._lock = threading.Lock()

    def notify(self, channels: Sequence[str], status: Mapping[str, Any]) -> None:
        """Queue the notification of ``status`` on each channel; returns at once."""
        if not channels or self.notifier is None:
            return
        url = None if self.base_url is None else f"{self.base_url.rstrip('/')}/insights?tab=cost"
        payload = budget_payload(status, url=url)
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()]
            for channel in channels:
                self._pending.append(self._pool.submit(self._send, channel, payload))

    def _send(self, channel: str, payload: Mapping[str, Any]) -> None:
        assert self.notifier is not None
        try:
            ok, status, error = self.notifier(channel, payload)
        except Exception as exc:  # a broken channel must never break anything else; it is logged
            log.exception("budget notification to %s failed", redact_channel(channel))
            ok, status, error = False, None, f"{type(exc).__name__}: {exc}"
        outcome = "sent" if ok else "failed"
        answer = "" if status is None else f" ({status})"
        why = f": {error[:_MAX_ERROR]}" if error else ""
        try:
            self.audit.append_audit_event(
                AuditEvent(
                    time=self.clock(),
                    user=None,
                    action=BUDGET_NOTIFICATION_ACTION,
                    method="EVENT",
                    path=f"/api/v1/insights/budgets/{payload['project']}",
                    project=payload["project"],
                    status=0 if status is None else status,
                    client=f"{redact_channel(channel)} {outcome}{answer}{why}",
                )
            )
        except Exception:  # the store may be closing while the last notification goes out
            log.exception("could not record the budget notification of %s", payload["project"])

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
