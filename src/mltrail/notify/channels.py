"""Notification channels: ``parse_channel`` reads ``webhook:``/``slack:``/``email:`` specs; ``send_alert``."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson

from mltrail.errors import InvalidInputError
from mltrail.notify.email import EmailSettings, send_email, validate_address
from mltrail.notify.http import SIGNATURE_HEADER, sign
from mltrail.notify.slack import Poster, send_slack

__all__ = ["Channel", "ChannelKind", "DeliveryReport", "parse_channel", "send_alert"]

ChannelKind = Literal["webhook", "slack", "email"]
WEBHOOK_USER_AGENT = "mltrail-webhooks"  # the registry webhooks' agent: receivers see one sender
MAX_URL_LENGTH = 2048
_FIELD = "notify"
_MAX_RECIPIENTS = 50


@dataclass(frozen=True, slots=True, repr=False)
class Channel:
    """Where an alert goes: a signed webhook ``url``, a Slack incoming-webhook ``url``, or e-mail
    ``recipients``. ``repr`` and ``label`` hide a Slack URL's path and the secret, which are credentials."""

    kind: ChannelKind
    url: str | None = None
    recipients: tuple[str, ...] = ()
    secret: str | None = dataclasses.field(default=None, compare=False)

    @property
    def label(self) -> str:
        """The spec with its secrets left out, safe to log: ``slack:https://hooks.slack.com/…``."""
        if self.kind == "email":
            return "email:" + ",".join(self.recipients)
        parts = urlsplit(self.url or "")
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        # A Slack webhook's path is its token; a generic URL's query and user info may carry one too.
        path = "/…" if self.kind == "slack" else parts.path
        return f"{self.kind}:{parts.scheme}://{host}{path}"

    def __repr__(self) -> str:
        return f"Channel({self.label!r})"

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One alert sent on one channel: ``ok`` for a 2xx answer or an accepted e-mail. ``status_code`` is the
    HTTP answer (``None`` for e-mail or when none came); ``error`` is why nothing was sent or answered."""

    channel: Channel
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: float


def _url(text: str, spec_kind: str) -> str:
    if not text:
        raise InvalidInputError(f"the {spec_kind} channel needs a URL: {spec_kind}:https://…", field=_FIELD)
    if len(text) > MAX_URL_LENGTH:
        raise InvalidInputError(f"the URL is longer than {MAX_URL_LENGTH} characters", field=_FIELD)
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidInputError("the URL contains whitespace or control characters", field=_FIELD)
    try:
        parts = urlsplit(text)
        _ = parts.port  # a non-numeric port raises only when read
    except ValueError as exc:
        raise InvalidInputError(f"not a URL: {exc}", field=_FIELD) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"the {spec_kind} URL must be http(s)://host/…", field=_FIELD)
    return text


def parse_channel(spec: str, *, secret: str | None = None) -> Channel:
    """Parse ``webhook:URL``, ``slack:URL`` or ``email:ADDR[,ADDR…]`` into a ``Channel``; anything else is
    ``InvalidInputError(field="notify")``. ``secret`` signs a webhook channel's requests (it is not part of
    the spec, so that specs can be listed and logged); other kinds ignore it."""
    kind, sep, rest = spec.strip().partition(":")
    kind = kind.lower()
    rest = rest.strip()
    if not sep or kind not in ("webhook", "slack", "email"):
        raise InvalidInputError(
            f"unknown notification channel {spec.strip()[:80]!r}: use webhook:URL, slack:URL or email:ADDR",
            field=_FIELD,
        )
    if kind == "email":
        addresses = [a.strip() for a in rest.split(",")]
        if not any(addresses):
            raise InvalidInputError("the email channel needs addresses: email:ana@example.com", field=_FIELD)
        try:
            recipients = tuple(dict.fromkeys(validate_address(a, field=_FIELD) for a in addresses))
        except InvalidInputError as exc:
            raise InvalidInputError(exc.message, field=_FIELD) from None
        if len(recipients) > _MAX_RECIPIENTS:
            raise InvalidInputError(f"more than {_MAX_RECIPIENTS} e-mail recipients", field=_FIELD)
        return Channel("email", recipients=recipients)
    url = _url(rest, kind)
    if kind == "slack":
        return Channel("slack", url=url)
    return Channel("webhook", url=url, secret=secret or None)


def _event(alert: Mapping[str, Any]) -> str:
    state = str(alert.get("state") or "unknown").strip().lower()
    # The state becomes a header value: keep it to a token so it can neither break nor inject a header.
    return "alert." + (re.sub(r"[^a-z0-9_.-]", "_", state)[:64] or "unknown")


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
