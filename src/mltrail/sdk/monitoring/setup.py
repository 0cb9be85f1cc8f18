"""Wiring of the monitoring services for a process (SDK, CLI, server): the store, the blob store, the
registry for ``churn@production`` references, and alert notifications through ``mltrail.notify``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mltrail.notify import EmailSettings, HttpPoster, parse_channel, send_alert
from mltrail.services.accounts.service import AccountService
from mltrail.services.monitoring.alerts import AlertService, Notifier
from mltrail.services.monitoring.service import MonitoringService
from mltrail.services.registry.service import RegistryService
from mltrail.store.base import Store
from mltrail.store.blobs import BlobStore

__all__ = ["MonitoringServices", "make_notifier", "monitoring_services", "validate_channel"]


def make_notifier(environ: Mapping[str, str] | None = None) -> Notifier:
    """Send alerts to channel specs (docs/NOTIFICATIONS.md): e-mail through ``MLTRAIL_SMTP_URL``, signed
    webhooks with ``MLTRAIL_ALERT_WEBHOOK_SECRET``."""
    env = os.environ if environ is None else environ
    smtp_url = env.get("MLTRAIL_SMTP_URL", "").strip()
    email = EmailSettings.from_url(smtp_url) if smtp_url else None
    secret = env.get("MLTRAIL_ALERT_WEBHOOK_SECRET") or None
    poster = HttpPoster()

    def notify(spec: str, alert: Mapping[str, Any]) -> tuple[bool, int | None, str | None]:
        report = send_alert(parse_channel(spec), alert, poster=poster, email_settings=email, secret=secret)
        return report.ok, report.status_code, report.error

    return notify


def validate_channel(spec: str) -> None:
    parse_channel(spec)


@dataclass
class MonitoringServices:
    monitoring: MonitoringService
    alerts: AlertService
    registry: RegistryService

    def close(self) -> None:
        self.alerts.close()


def monitoring_services(
    store: Store, blobs: BlobStore, *, notifier: Notifier | None = None, base_url: str | None = None
) -> MonitoringServices:
    alerts = AlertService(
        store, notifier=notifier if notifier is not None else make_notifier(), base_url=base_url
    )
    monitoring = MonitoringService(store, blobs, after_ingest=alerts.evaluate)
    registry = RegistryService(store, blobs, AccountService(store))
    return MonitoringServices(monitoring, alerts, registry)
