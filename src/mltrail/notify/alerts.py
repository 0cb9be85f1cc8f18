"""``alert_notifier(settings)``: the sender the monitoring services get injected for alert notifications."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from mltrail.notify.channels import parse_channel, send_alert
from mltrail.notify.email import EmailSettings
from mltrail.notify.http import HttpPoster
from mltrail.settings import Settings

__all__ = ["AlertNotifier", "alert_notifier"]

AlertNotifier = Callable[[str, Mapping[str, Any]], tuple[bool, int | None, str | None]]


class _Notifier:
    """Sends one alert to one channel spec; the HTTP client is made on the first webhook or Slack alert."""

    def __init__(self, email: EmailSettings | None, secret: str | None, poster: HttpPoster | None) -> None:
        self._email = email
        self._secret = secret
        self._poster = poster
        self._owned = poster is None
        self._lock = threading.Lock()

    def _http(self) -> HttpPoster:
        with self._lock:
            if self._poster is None:
                self._poster = HttpPoster()
            return self._poster

    def __call__(self, spec: str, alert: Mapping[str, Any]) -> tuple[bool, int | None, str | None]:
        report = send_alert(
            parse_channel(spec), alert, poster=self._http(), email_settings=self._email, secret=self._secret
        )
        return report.ok, report.status_code, report.error

    def close(self) -> None:
        with self._lock:
            poster, self._poster = self._poster, None
        if poster is not None and self._owned:
            poster.close()


def alert_notifier(settings: Settings, poster: HttpPoster | None = None) -> _Notifier:
    """Alerts sent through ``mltrail.notify``: e-mail through ``settings.smtp_url`` (a malformed URL fails
    here, at start-up, rather than at every alert later), webhooks signed with
    ``settings.alert_webhook_secret``. ``close()`` closes the HTTP client it made."""
    email = EmailSettings.from_url(settings.smtp_url) if settings.smtp_url else None
    return _Notifier(email, settings.alert_webhook_secret, poster)
