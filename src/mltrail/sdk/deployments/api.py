"""``mltrail.deployments``: deployment specs for the gateway, embedded or on a team server.

::

    mltrail.deployments.create("churn-staging", {"primary": "churn@staging", "monitor": "churn-staging"})
    spec = {"primary": "churn@staging", "canary": {"ref": "churn@challenger", "percent": 10}}
    mltrail.deployments.update("churn-staging", spec, comment="10% to the challenger")
    mltrail.deployments.history("churn-staging")            # who changed what, when, why
    mltrail.deployments.rollback("churn-staging")           # the previous spec, as a new version
    mltrail.deployments.promote("churn-staging", "churn-production")
    mltrail.deployments.evidence("churn-production")        # per variant: requests, errors, latency, …

Then ``mltrail serve churn-production`` answers ``POST /v1/deployments/churn-production/predict``.
"""

from __future__ import annotations

from mltrail.entities import Deployment, DeploymentEvidence, DeploymentVersion
from mltrail.sdk.client.connection import connect
from mltrail.sdk.client.identity import local_user
from mltrail.sdk.deployments.client import DeploymentsClient, SpecInput
from mltrail.settings import Settings

__all__ = [
    "client",
    "create",
    "evidence",
    "get",
    "history",
    "list_deployments",
    "promote",
    "rollback",
    "update",
]


def client(*, server: str | None = None, settings: Settings | None = None) -> DeploymentsClient:
    """Where deployments live: ``connect()``'s team server (``server``, ``MLTRAIL_SERVER``) or store."""
    settings = settings or Settings.from_env()
    return connect(server, settings=settings).deployments(local_user(settings))


def create(
    name: str,
    spec: SpecInput,
    *,
    comment: str | None = None,
    server: str | None = None,
    settings: Settings | None = None,
) -> Deployment:
    """A new deployment in its primary model's project (every reference must name a registered version)."""
    return client(server=server, settings=settings).create(name, spec, comment=comment)


def get(name: str, *, server: str | None = None, settings: Settings | None = None) -> Deployment:
    return client(server=server, settings=settings).get(name)


def list_deployments(
    project: str | None = None, *, server: str | None = None, settings: Settings | None = None
) -> list[Deployment]:
    return client(server=server, settings=settings).list_deployments(project, limit=1000)[0]


def update(
    name: str,
    spec: SpecInput,
    *,
    comment: str | None = None,
    expected_version: int | None = None,
    server: str | None = None,
    settings: Settings | None = None,
) -> Deployment:
    """Replace the spec: a new version (``expected_version``: refuse if another change came first)."""
    return client(server=server, settings=settings).update(
        name, spec, comment=comment, expected_version=expected_version
    )


def history(
    name: str, *, limit: int = 100, server: str | None = None, settings: Settings | None = None
) -> list[DeploymentVersion]:
    """The spec's versions, newest first."""
    return client(server=server, settings=settings).history(name, limit=limit)[0]


def rollback(
    name: str,
    *,
    to_version: int | None = None,
    comment: str | None = None,
    server: str | None = None,
    settings: Settings | None = None,
) -> Deployment:
    """The previous spec (or ``to_version``'s) as a new version."""
    return client(server=server, settings=settings).rollback(name, to_version=to_version, comment=comment)


def promote(
    source: str,
    target: str,
    *,
    monitor: str | None = None,
    comment: str | None = None,
    server: str | None = None,
    settings: Settings | None = None,
) -> Deployment:
    """``source``'s spec copied to ``target`` (created when new); the target keeps its own monitor."""
    return client(server=server, settings=settings).promote(source, target, monitor=monitor, comment=comment)


def evidence(
    name: str,
    *,
    since: float | str | None = None,
    until: float | str | None = None,
    server: str | None = None,
    settings: Settings | None = None,
) -> DeploymentEvidence:
    """What the gateways counted per variant (primary, canary, each shadow) over [since, until), default
    since the current spec version: requests, error, fallback and guard rates, latency percentiles, a
    shadow's agreement with the caller's answers and realized performance from the monitor's labels."""
    return client(server=server, settings=settings).evidence(name, since=since, until=until)
