"""``EmbeddedConnection``: the store opened in this process, with the services of the composition root."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mltrail.sdk.capture.git import apply_patch
from mltrail.sdk.client.identity import local_user
from mltrail.sdk.tracking.embedded import InProcessTransport
from mltrail.services.container import Services
from mltrail.settings import Settings

if TYPE_CHECKING:
    from mltrail.sdk.accounts.embedded import EmbeddedAccounts
    from mltrail.sdk.deployments.embedded import InProcessDeployments
    from mltrail.sdk.insights.embedded import InProcessInsights
    from mltrail.sdk.monitoring.embedded import InProcessMonitoring
    from mltrail.sdk.registry.embedded import InProcessRegistry
    from mltrail.sdk.reports.embedded import InProcessReports
    from mltrail.sdk.tracking.reader_embedded import EmbeddedRunReader
    from mltrail.sdk.tracking.transport import Transport

__all__ = ["EmbeddedConnection"]


class _LazyNotifier:
    """Alert notifications for the embedded store, set up on the first alert (a process that only logs
    runs never builds an HTTP client or reads the SMTP settings)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._notifier: Any = None

    def __call__(self, spec: str, alert: Mapping[str, Any]) -> tuple[bool, int | None, str | None]:
        with self._lock:
            if self._notifier is None:
                from mltrail.notify import alert_notifier

                self._notifier = alert_notifier(self._settings)
            notifier = self._notifier
        result: tuple[bool, int | None, str | None] = notifier(spec, alert)
        return result

    def close(self) -> None:
        with self._lock:
            notifier, self._notifier = self._notifier, None
        if notifier is not None:
            notifier.close()


class EmbeddedConnection:
    """``./mltrail`` (or ``MLTRAIL_DIR``/``MLTRAIL_DB``): every client calls the services in-process."""

    embedded = True
    # How account changes are audited: ``CLI`` when the ``mltrail`` command opened the store.
    audit_method = "SDK"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._notifier = _LazyNotifier(settings)
        # Alerts raised by this process's own ingestion go out from it; close() waits for them.
        self.services = Services(settings, notifier=self._notifier, apply_patch=apply_patch)

    @property
    def where(self) -> str:
        if self.settings.db_url == f"sqlite:///{self.settings.home / 'mltrail.db'}":
            return f"the embedded store in {self.settings.home}"
        return f"the database at {self.settings.db_url}"

    @cached_property
    def transport(self) -> InProcessTransport:
        return InProcessTransport(self.services)

    def run_transport(self) -> Transport:
        if self.settings.mode == "offline":
            from mltrail.sdk.tracking.journal_transport import journaling_transport

            return journaling_transport(self.settings.journal_dir, None, None, offline=True)
        return self.transport

    def registry(self, user: str | None = None) -> InProcessRegistry:
        from mltrail.sdk.registry.embedded import InProcessRegistry

        return InProcessRegistry(self.services, user if user is not None else local_user(self.settings))

    def deployments(self, user: str | None = None) -> InProcessDeployments:
        from mltrail.sdk.deployments.embedded import InProcessDeployments

        return InProcessDeployments(self.services, user if user is not None else local_user(self.settings))

    def reports(self, user: str | None = None) -> InProcessReports:
        from mltrail.sdk.reports.embedded import InProcessReports

        return InProcessReports(self.services, user if user is not None else local_user(self.settings))

    def insights(self) -> InProcessInsights:
        from mltrail.sdk.insights.embedded import InProcessInsights

        return InProcessInsights(self.services, local_user(self.settings))

    @cached_property
    def monitoring(self) -> InProcessMonitoring:
        from mltrail.sdk.monitoring.embedded import InProcessMonitoring

        return InProcessMonitoring(self.services, self.where, local_user(self.settings))

    @cached_property
    def runs(self) -> EmbeddedRunReader:
        from mltrail.sdk.tracking.reader_embedded import EmbeddedRunReader

        return EmbeddedRunReader(self.services, self.where)

    @cached_property
    def accounts(self) -> EmbeddedAccounts:
        from mltrail.sdk.accounts.embedded import EmbeddedAccounts

        return EmbeddedAccounts(self.services, self.where, local_user(self.settings), self.audit_method)

    def close(self) -> None:
        self.services.close()
        self._notifier.close()
