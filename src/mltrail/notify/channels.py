"""Notification channels: ``parse_channel`` reads ``webhook:``/``slack:``/``email:`` specs; ``send_alert``."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from mltrail.channels import Channel, ChannelKind, parse_channel
from mltrail.errors import InvalidInputError
from mltrail.notify.email import EmailSettings, send_email
from mltrail.notify.http import SIGNATURE_HEADER, sign
from mltrail.notify.slack import Poster, send_slack

__all__ = ["Channel", "ChannelKind", "DeliveryReport", "parse_channel", "send_alert"]

WEBHOOK_USER_AGENT = "mltrail-webhooks"  # the registry webhooks' agent: receivers see one sender


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One alert sent on one channel: ``ok`` for a 2xx answer or an accepted e-mail. ``status_code`` is the
    HTTP answer (``None`` for e-mail or when none came); ``error`` is why nothing was sent or answered."""

    channel: Channel
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: float


def _event(alert: Mapping[str, Any]) -> str:
    # A budget's alert (``kind: budget``) is announced as ``budget.<state>``, any other as ``alert.<state>``.
    kind = "budget" if alert.get("kind") == "budget" else "alert"
    state = str(alert.get("state") or "unknown").strip().lower()
    # The state becomes a header value: keep it to a token so it can neither break nor inject a header.
    return f"{kind}." + (re.sub(r"[^a-z0-9_.-]", "_", state)[:64] or "unknown")


def _post_webhook(
    channel: Channel,
    alert: Mapping[str, Any],
    *,
    poster: Poster,
    secret: str,
    timeout: float,
    delivery_id: str | None,
) -> DeliveryReport:
    event = _event(alert)
    now = time.time()
    try:
        # default=str: an alert may hold values JSON has no type for (Decimal, UUID); send them as text.
        body = orjson.dumps(
            {"action": event, "time": now, "alert": dict(alert)}, default=str, option=orjson.OPT_NON_STR_KEYS
        )
    except orjson.JSONEncodeError as exc:
        return DeliveryReport(channel, False, None, f"the alert is not JSON-serializable: {exc}", 0.0)
    timestamp = int(now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": WEBHOOK_USER_AGENT,
        "X-Mltrail-Event": event,
        SIGNATURE_HEADER: f"t={timestamp},v1={sign(secret, timestamp, body)}",
    }
    if delivery_id is not None:
        headers["X-Mltrail-Delivery"] = re.sub(r"[^A-Za-z0-9_.:-]", "_", delivery_id)[:128]
    result = poster.post(channel.url or "", body, headers, timeout)
    return _from_post(channel, result.status_code, result.error, result.duration_ms)


def _from_post(channel: Channel, status: int | None, error: str | None, duration_ms: float) -> DeliveryReport:
    return DeliveryReport(channel, status is not None and 200 <= status < 300, status, error, duration_ms)


def send_alert(
    channel: Channel,
    alert: Mapping[str, Any],
    *,
    poster: Poster,
    email_settings: EmailSettings | None = None,
    secret: str | None = None,
    timeout: float = 5.0,
    delivery_id: str | None = None,
) -> DeliveryReport:
    """Send ``alert`` on ``channel`` and report how it went; never raises.

    A webhook is signed with ``secret`` (else the channel's own) like a registry webhook; ``delivery_id``, if
    given, is sent as ``X-Mltrail-Delivery`` so receivers can drop retried duplicates. E-mail needs
    ``email_settings`` (the caller builds them from ``MLTRAIL_SMTP_URL``). A channel that cannot be sent at
    all (no secret, no settings) comes back as a failed report, not an exception, so that one misconfigured
    channel neither hides nor stops the alert's other deliveries.
    """
    if channel.kind == "slack":
        result = send_slack(channel.url or "", alert, poster=poster, timeout=timeout)
        return _from_post(channel, result.status_code, result.error, result.duration_ms)
    if channel.kind == "webhook":
        key = secret or channel.secret
        if not key:
            return DeliveryReport(channel, False, None, "no signing secret for this webhook channel", 0.0)
        return _post_webhook(
            channel, alert, poster=poster, secret=key, timeout=timeout, delivery_id=delivery_id
        )
    if email_settings is None:
        return DeliveryReport(channel, False, None, "e-mail is not configured (MLTRAIL_SMTP_URL)", 0.0)
    try:
        sent = send_email(email_settings, channel.recipients, alert)
    except InvalidInputError as exc:
        return DeliveryReport(channel, False, None, exc.message, 0.0)
    return DeliveryReport(channel, sent.ok, None, sent.error, sent.duration_ms)
