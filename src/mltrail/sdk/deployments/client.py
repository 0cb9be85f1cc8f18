"""The ``DeploymentsClient`` protocol: the same calls and errors on the embedded store (``embedded.py``)
and on a team server (``http.py``). Who acts: embedded, the client's ``user`` with admin rights; on a
server with authentication, the API key's user with that user's roles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from mltrail.entities import (
    Deployment,
    DeploymentEvidence,
    DeploymentSpec,
    DeploymentVersion,
    EvidenceWindow,
)

__all__ = ["DeploymentsClient", "SpecInput"]

SpecInput = DeploymentSpec | Mapping[str, Any]


class DeploymentsClient(Protocol):
    user: str | None

    def create(self, name: str, spec: SpecInput, *, comment: str | None = None) -> Deployment: ...

    def get(self, name: str) -> Deployment: ...

    def list_deployments(
        self, project: str | None = None, *, limit: int = 100
    ) -> tuple[list[Deployment], int]:
        """Deployments by name (of ``project`` when given), and how many there are."""
        ...

    def update(
        self,
        name: str,
        spec: SpecInput,
        *,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Deployment: ...

    def history(self, name: str, *, limit: int = 100) -> tuple[list[DeploymentVersion], int]:
        """Versions newest first, and how many there are."""
        ...

    def get_version(self, name: str, version: int) -> DeploymentVersion: ...

    def rollback(
        self, name: str, *, to_version: int | None = None, comment: str | None = None
    ) -> Deployment: ...

    def promote(
        self, source: str, target: str, *, monitor: str | None = None, comment: str | None = None
    ) -> Deployment: ...

    def evidence(
        self, name: str, *, since: float | str | None = None, until: float | str | None = None
    ) -> DeploymentEvidence:
        """What the gateways counted per variant over [since, until) (default: since the current spec
        version; epoch seconds, ISO 8601 or a duration back such as ``1h``), summed over every replica."""
        ...

    def record_evidence(self, name: str, windows: Sequence[EvidenceWindow]) -> int:
        """A gateway replica's whole counts of the windows it touched (replacing what it sent of them
        before); rows written."""
        ...
