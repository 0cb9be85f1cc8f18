"""``HttpConnection``: a team server, every client over one shared HTTP client; no store is imported."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from mltrail.sdk.client.identity import local_user
from mltrail.sdk.registry.client import registry_user
from mltrail.settings import Settings

if TYPE_CHECKING:
    from mltrail.sdk.accounts.http import HttpAccounts
    from mltrail.sdk.deployments.http import HttpDeployments
    from mltrail.sdk.insights.http import HttpInsights
    from mltrail.sdk.monitoring.http import HttpMonitoring
    from mltrail.sdk.registry.http import HttpRegistry
    from mltrail.sdk.reports.http import HttpReports
    from mltrail.sdk.tracking.http import HttpTransport
    from mltrail.sdk.tracking.reader_http import HttpRunReader
    from mltrail.sdk.tracking.transport import Transport

__all__ = ["HttpConnection"]


class HttpConnection:
    """``MLTRAIL_SERVER`` (with ``MLTRAIL_API_KEY`` or the key of ``mltrail login``)."""

    embedded = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def where(self) -> str:
        return f"the mltrail server at {self.settings.server}"

    @cached_property
    def http(self) -> HttpTransport:
        from mltrail.sdk.tracking.http import HttpTransport

        return HttpTransport(self.settings.server, self.settings.api_key)

    def run_transport(self) -> Transport:
        """Runs go through the journal (``MLTRAIL_JOURNAL_DIR``), so nothing is lost while the server is
        unreachable; ``MLTRAIL_MODE=offline`` journals only."""
        from mltrail.sdk.tracking.journal_transport import journaling_transport

        offline = self.settings.mode == "offline"
        return journaling_transport(
            self.settings.journal_dir, self.settings.server, self.settings.api_key, offline=offline
        )

    def registry(self, user: str | None = None) -> HttpRegistry:
        from mltrail.sdk.registry.http import HttpRegistry

        return HttpRegistry(self.http, user if user is not None else registry_user(self.settings))

    def deployments(self, user: str | None = None) -> HttpDeployments:
        from mltrail.sdk.deployments.http import HttpDeployments

        return HttpDeployments(self.http, user if user is not None else registry_user(self.settings))

    def reports(self, user: str | None = None) -> HttpReports:
        from mltrail.sdk.reports.http import HttpReports

        return HttpReports(self.http, user if user is not None else registry_user(self.settings))

    def insights(self) -> HttpInsights:
        from mltrail.sdk.insights.http import HttpInsights

        return HttpInsights(self.http)

    @cached_property
    def monitoring(self) -> HttpMonitoring:
        from mltrail.sdk.monitoring.http import HttpMonitoring

        return HttpMonitoring(self.http, local_user(self.settings))

    @cached_property
    def runs(self) -> HttpRunReader:
        from mltrail.sdk.tracking.reader_http import HttpRunReader

        return HttpRunReader(self.http)

    @cached_property
    def accounts(self) -> HttpAccounts:
        from mltrail.sdk.accounts.http import HttpAccounts

        return HttpAccounts(self.http)

    def close(self) -> None:
        if "http" in self.__dict__:
            self.__dict__.pop("http").close()
