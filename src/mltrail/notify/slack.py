"""Slack incoming-webhook messages for alerts (``slack_payload``, ``send_slack``); an alert's shared text."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from mltrail.notify.http import PostResult

__all__ = ["Poster", "alert_fields", "alert_link", "alert_summary", "send_slack", "slack_payload"]

USER_AGENT = "mltrail-alerts"
# Slack refuses a whole message whose header passes 150 characters or whose button URL passes 3000; values
# are cut well before either so that one odd field cannot make an alert undeliverable.
_MAX_HEADER = 150
_MAX_VALUE = 300
_MAX_URL = 3000
# Alert rules store "above"/"below"; the short names are accepted too, for alerts built elsewhere.
_COMPARATORS = {
    "above": ">",
    "below": "<",
    "gt": ">",
    "ge": ">=",
    "gte": ">=",
    "lt": "<",
    "le": "<=",
    "lte": "<=",
    "eq": "==",
    "ne": "!=",
}


class Poster(Protocol):
    """Sends one POST and reports how it went without raising (``HttpPoster`` is one)."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> PostResult: ...


def _text(value: Any) -> str | None:
    """One line of display text for an alert value, or ``None`` when the value is missing or empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = f"{value:.6g}" if math.isfinite(value) else str(value)
    elif isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        text = moment.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if value.tzinfo else "")
    else:
        text = str(value)
    # Alert values end up in headers and one-line fields: newlines would break (or inject into) both.
    text = " ".join(text.split())
    if not text:
        return None
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _time(value: Any) -> str | None:
    # Stored times are Unix seconds; show them as UTC so every recipient reads the same moment.
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        try:
            return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        except (OverflowError, OSError, ValueError):
            return _text(value)
    return _text(value)


def _model_version(alert: Mapping[str, Any]) -> str | None:
    model, version = _text(alert.get("model")), _text(alert.get("version"))
    if model and version:
        return f"{model}:{version}"
    if version:
        return f"version {version}"
    return model


def _value_vs_threshold(alert: Mapping[str, Any]) -> str | None:
    value, threshold = _text(alert.get("value")), _text(alert.get("threshold"))
    comparator = _text(alert.get("comparator"))
    if comparator:
        comparator = _COMPARATORS.get(comparator.lower(), comparator)
    if value and threshold:
        return f"{value} {comparator or 'vs'} {threshold}"
    if threshold:
        return f"threshold {comparator + ' ' if comparator else ''}{threshold}"
    return value


def alert_summary(alert: Mapping[str, Any]) -> str:
    """One line naming the alert, e.g. ``ALERT open: drift.psi on churn:3 feature age``; the e-mail subject
    and the Slack fallback text both start from it."""
    state = _text(alert.get("state"))
    word = "BUDGET" if alert.get("kind") == "budget" else "ALERT"  # a budget's alert: budget_payload
    head = f"{word} {state}" if state else word
    metric = _text(alert.get("metric"))
    what = metric or _text(alert.get("title")) or _text(alert.get("monitor"))
    if what is None:
        alert_id = _text(alert.get("id"))
        what = f"#{alert_id}" if alert_id else "alert"
    parts = [what]
    model_version = _model_version(alert)
    if model_version:
        parts.append(f"on {model_version}")
    feature, segment = _text(alert.get("feature")), _text(alert.get("segment"))
    if feature:
        parts.append(f"feature {feature}")
    if segment:
        parts.append(f"segment {segment}")
    return f"{head}: {' '.join(parts)}"


def alert_fields(alert: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The alert's present fields as ``(label, text)`` pairs in display order; missing ones are left out."""
    feature, segment = _text(alert.get("feature")), _text(alert.get("segment"))
    feature_segment = " / ".join(p for p in (feature, segment) if p) or None
    window = _time(alert.get("window_start"))
    candidates = [
        ("Monitor", _text(alert.get("monitor"))),
        ("Model version", _model_version(alert)),
        ("Metric", _text(alert.get("metric"))),
        ("Feature / segment", feature_segment),
        ("Value vs threshold", _value_vs_threshold(alert)),
        ("Window", f"from {window}" if window else None),
        ("State", _text(alert.get("state"))),
        ("Opened", _time(alert.get("opened_at"))),
        ("Run", _text(alert.get("run_id"))),
        ("Alert", _text(alert.get("id"))),
    ]
    return [(label, text) for label, text in candidates if text is not None]


def alert_link(alert: Mapping[str, Any]) -> str | None:
    """``alert["url"]`` when it is an http(s) URL short enough to link; anything else is dropped, because
    Slack rejects a message whose button points at an invalid URL."""
    url = alert.get("url")
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")) or len(url) > _MAX_URL:
        return None
    if any(c.isspace() or ord(c) < 32 for c in url):
        return None
    return url


def _mrkdwn(text: str) -> str:
    # Slack's own escaping: these three characters are control characters in mrkdwn (links, mentions).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alert: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message for ``alert``: ``text`` (the notification fallback) and ``blocks``
    (a header, the fields, and an "Open in mltrail" button when the alert has a ``url``)."""
    summary = alert_summary(alert)
    header = _text(alert.get("title")) or summary
    if len(header) > _MAX_HEADER:
        header = header[: _MAX_HEADER - 1] + "…"
    fields = alert_fields(alert)
    value = _value_vs_threshold(alert)
    fallback = summary + (f" ({value})" if value else "")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
    ]
    if fields:
        # A section holds at most 10 fields, exactly as many labels as alert_fields can produce.
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{label}*\n{_mrkdwn(text)}"} for label, text in fields[:10]
                ],
            }
        )
    link = alert_link(alert)
    if link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Open in mltrail"}, "url": link}
                ],
            }
        )
    return {"text": _mrkdwn(fallback), "blocks": blocks}


def send_slack(url: str, alert: Mapping[str, Any], *, poster: Poster, timeout: float = 5.0) -> PostResult:
    """POST ``slack_payload(alert)`` as JSON to the incoming-webhook ``url``; never raises. There is no
    signature: a Slack webhook URL is itself the secret."""
    body = orjson.dumps(slack_payload(alert))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    return poster.post(url, body, headers, timeout)
