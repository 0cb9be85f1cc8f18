"""The storage interface of the deployment gateway's specs, part of ``Store``.

A deployment is a name in a project with an append-only list of spec versions; the newest is the current
one. Every change appends a version (with who, when, from where and why), so the versions are the
deployment's audit trail and a rollback is one more version, never an edit.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from mltrail.entities import Deployment, DeploymentVersion

__all__ = ["DeploymentStore"]


class DeploymentStore(abc.ABC):
    """Deployments and their spec versions. ``NotFoundError`` for a missing deployment or version;
    ``ConflictError`` for a name taken or a change made on top of a version that is no longer current."""

    @abc.abstractmethod
    def create_deployment(
        self, *, name: str, project: str, created_at: float, first: DeploymentVersion
    ) -> Deployment:
        """A new deployment whose version 1 is ``first`` (its ``version`` is ignored)."""

    @abc.abstractmethod
    def get_deployment(self, name: str) -> Deployment: ...

    @abc.abstractmethod
    def list_deployments(
        self, *, projects: Sequence[str] | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[Deployment], int]:
        """Deployments by name (only those of ``projects`` when given) and how many there are in all."""

    @abc.abstractmethod
    def add_deployment_version(
        self, name: str, change: DeploymentVersion, *, expected_version: int
    ) -> Deployment:
        """Append ``change`` as version ``expected_version + 1`` under a lock on the deployment; when the
        current version is no longer ``expected_version`` (another change came first): ConflictError."""

    @abc.abstractmethod
    def list_deployment_versions(
        self, name: str, *, offset: int = 0, limit: int = 100
    ) -> tuple[list[DeploymentVersion], int]:
        """Versions newest first, and how many there are."""

    @abc.abstractmethod
    def get_deployment_version(self, name: str, version: int) -> DeploymentVersion: ...
