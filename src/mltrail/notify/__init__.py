"""Outbound notifications: signed webhooks, Slack and e-mail alerts (services get a sender injected)."""

from __future__ import annotations

from mltrail.notify.alerts import AlertNotifier, alert_notifier
from mltrail.notify.channels import Channel, ChannelKind, DeliveryReport, parse_channel, send_alert
from mltrail.notify.email import EmailSettings, SendResult, email_message, send_email, validate_address
from mltrail.notify.http import SIGNATURE_HEADER, HttpPoster, PostResult, sign, verify_signature
from mltrail.notify.slack import Poster, alert_fields, alert_link, alert_summary, send_slack, slack_payload

__all__ = [
    "SIGNATURE_HEADER",
    "AlertNotifier",
    "Channel",
    "ChannelKind",
    "DeliveryReport",
    "EmailSettings",
    "HttpPoster",
    "PostResult",
    "Poster",
    "SendResult",
    "alert_fields",
    "alert_link",
    "alert_notifier",
    "alert_summary",
    "email_message",
    "parse_channel",
    "send_alert",
    "send_email",
    "send_slack",
    "sign",
    "slack_payload",
    "validate_address",
    "verify_signature",
]
