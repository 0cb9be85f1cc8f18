"""``InProcessDeployments``: the deployment service over this process's embedded store."""

from __future__ import annotations

from collections.abc import Sequence

from mltrail.entities import Deployment, DeploymentEvidence, DeploymentVersion, EvidenceWindow, Role
from mltrail.sdk.deployments.client import SpecInput
from mltrail.services.accounts.audit import parse_time
from mltrail.services.accounts.service import Principal
from mltrail.services.container import Services
from mltrail.services.registry.core import Origin

__all__ = ["InProcessDeployments"]

_ORIGIN = Origin(client="local", user_agent="mltrail-sdk")


class InProcessDeployments:
    """Whoever holds the embedded store holds the database: it acts as an admin, under its own name."""

    def __init__(self, services: Services, user: str | None, origin: Origin = _ORIGIN) -> None:
        self.service = services.deployments
        self._services = services
        self.user = user
        self.origin = origin
        self.principal = Principal(name=user, role=Role.ADMIN)

    def create(self, name: str, spec: SpecInput, *, comment: str | None = None) -> Deployment:
        return self.service.create(name, spec, principal=self.principal, comment=comment, origin=self.origin)

    def get(self, name: str) -> Deployment:
        return self.service.get(name)

    def list_deployments(
        self, project: str | None = None, *, limit: int = 100
    ) -> tuple[list[Deployment], int]:
        return self.service.list_deployments(projects=None if project is None else [project], limit=limit)

    def update(
        self,
        name: str,
        spec: SpecInput,
        *,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Deployment:
        return self.service.update(
            name,
            spec,
            principal=self.principal,
            comment=comment,
            expected_version=expected_version,
            origin=self.origin,
        )

    def history(self, name: str, *, limit: int = 100) -> tuple[list[DeploymentVersion], int]:
        return self.service.history(name, limit=limit)

    def get_version(self, name: str, version: int) -> DeploymentVersion:
        return self.service.get_version(name, version)

    def rollback(self, name: str, *, to_version: int | None = None, comment: str | None = None) -> Deployment:
        return self.service.rollback(
            name, principal=self.principal, to_version=to_version, comment=comment, origin=self.origin
        )

    def promote(
        self, source: str, target: str, *, monitor: str | None = None, comment: str | None = None
    ) -> Deployment:
        return self.service.promote(
            source, target, principal=self.principal, monitor=monitor, comment=comment, origin=self.origin
        )

    def evidence(
        self, name: str, *, since: float | str | None = None, until: float | str | None = None
    ) -> DeploymentEvidence:
        service = self._services.deployment_evidence
        now = service.clock()
        return service.evidence(
            name, since=parse_time(since, now, field="since"), until=parse_time(until, now, field="until")
        )

    def record_evidence(self, name: str, windows: Sequence[EvidenceWindow]) -> int:
        return self._services.deployment_evidence.record(name, windows)
