"""Deployments: specs validated and resolved through the registry, every change a new version. No HTTP.

Who may change what is the API's to check (viewers read, members change specs, on the project of the
deployment — its primary model's). This service enforces what holds at every entry point: a spec names
only registered versions of its project and existing monitors; every change, rollback and promotion is a
new version recording who, when, from where, why, and which model versions the references named then.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mltrail.entities import VARIANT_COLUMN, Deployment, DeploymentSpec, DeploymentVersion, Monitor
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.accounts.service import Principal
from mltrail.services.deployments.validation import parse_spec, resolve_refs, validate_deployment_name
from mltrail.services.monitoring.service import MonitoringService
from mltrail.services.registry.checks import parse_model_ref
from mltrail.services.registry.core import Origin, bounded_text
from mltrail.services.registry.service import RegistryService
from mltrail.store.deployments import DeploymentStore

__all__ = ["DeploymentService", "SpecInput"]

SpecInput = DeploymentSpec | Mapping[str, Any]


class DeploymentService:
    def __init__(
        self,
        store: DeploymentStore,
        registry: RegistryService,
        monitoring: MonitoringService,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._registry = registry
        self._monitoring = monitoring
        self.clock = clock

    # -- reading ----------------------------------------------------------------------------------------
    def get(self, name: str) -> Deployment:
        return self.store.get_deployment(name)

    def list_deployments(
        self, *, projects: Sequence[str] | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[Deployment], int]:
        return self.store.list_deployments(projects=projects, offset=offset, limit=min(limit, 1000))

    def history(self, name: str, *, offset: int = 0, limit: int = 100) -> tuple[list[DeploymentVersion], int]:
        """Versions newest first, and how many there are."""
        return self.store.list_deployment_versions(name, offset=offset, limit=min(limit, 1000))

    def get_version(self, name: str, version: int) -> DeploymentVersion:
        return self.store.get_deployment_version(name, version)

    def project_of_spec(self, spec: SpecInput) -> str:
        """The project a new deployment of ``spec`` would belong to: its primary model's (for the API's
        role check before anything is written)."""
        parsed = parse_spec(spec)
        model = parse_model_ref(parsed.primary, field="spec.primary").model
        try:
            return self._registry.get_model(model).project
        except NotFoundError:
            raise InvalidInputError(
                f"spec.primary: no registered model {model!r}", field="spec.primary"
            ) from None

    # -- changing ---------------------------------------------------------------------------------------
    def _checked(self, spec: SpecInput, project: str | None) -> tuple[DeploymentSpec, str, dict[str, Any]]:
        parsed = parse_spec(spec)
        owner, resolved = resolve_refs(
            parsed,
            self._registry.resolve,
            lambda model: self._registry.get_model(model).project,
            self._monitoring.get,
            project,
        )
        details: dict[str, Any] = {"resolved": resolved}
        if parsed.monitor is not None and self._segment_by_variant(self._monitoring.get(parsed.monitor)):
            details["monitor_segmented"] = VARIANT_COLUMN
        return parsed, owner, details

    def _segment_by_variant(self, monitor: Monitor) -> bool:
        """Segment the deployment's monitor by the variant that answered (drift, validation and labels per
        variant); True when it was not yet."""
        if VARIANT_COLUMN in monitor.segments:
            return False
        self._monitoring.update(monitor.name, segments=[*monitor.segments, VARIANT_COLUMN])
        return True

    def _change(
        self,
        name: str,
        spec: DeploymentSpec,
        action: str,
        principal: Principal,
        comment: str | None,
        origin: Origin | None,
        details: Mapping[str, Any],
    ) -> DeploymentVersion:
        origin = origin or Origin()
        return DeploymentVersion(
            deployment=name,
            version=0,  # numbered by the store
            spec=spec,
            action=action,
            user=principal.name,
            time=self.clock(),
            comment=bounded_text(comment, "comment"),
            details=dict(details),
            client=origin.client,
            user_agent=origin.user_agent,
        )

    def create(
        self,
        name: str,
        spec: SpecInput,
        *,
        principal: Principal,
        comment: str | None = None,
        origin: Origin | None = None,
    ) -> Deployment:
        """A new deployment in its primary model's project, at version 1."""
        validate_deployment_name(name)
        parsed, project, details = self._checked(spec, None)
        first = self._change(name, parsed, "created", principal, comment, origin, details)
        return self.store.create_deployment(name=name, project=project, created_at=first.time, first=first)

    def update(
        self,
        name: str,
        spec: SpecInput,
        *,
        principal: Principal,
        comment: str | None = None,
        expected_version: int | None = None,
        origin: Origin | None = None,
    ) -> Deployment:
        """The spec replaced by ``spec`` as a new version. ``expected_version``: the version the change was
        made on (a newer one is a ConflictError rather than a lost update); default the current one."""
        current = self.store.get_deployment(name)
        parsed, _, details = self._checked(spec, current.project)
        change = self._change(name, parsed, "updated", principal, comment, origin, details)
        base = current.version if expected_version is None else expected_version
        return self.store.add_deployment_version(name, change, expected_version=base)

    def rollback(
        self,
        name: str,
        *,
        principal: Principal,
        to_version: int | None = None,
        comment: str | None = None,
        origin: Origin | None = None,
        reason: Mapping[str, Any] | None = None,
    ) -> Deployment:
        """The spec of ``to_version`` (default: the one before the current) as a new version. Its references
        are resolved again, so a model version deleted since is refused rather than served. ``reason``: what
        caused it when not a person (``{"alert": id, …}``), kept in the version's details."""
        current = self.store.get_deployment(name)
        target = current.version - 1 if to_version is None else to_version
        if target < 1:
            raise InvalidInputError(
                f"deployment {name!r} has only version {current.version}: there is nothing to roll back to",
                field="to_version",
            )
        if target == current.version:
            raise InvalidInputError(f"version {target} is the current one", field="to_version")
        previous = self.store.get_deployment_version(name, target)
        parsed, _, details = self._checked(previous.spec, current.project)
        details = {**details, "rolled_back_from": current.version, "to_version": target}
        if reason is not None:
            details["reason"] = dict(reason)
        change = self._change(name, parsed, "rolled_back", principal, comment, origin, details)
        return self.store.add_deployment_version(name, change, expected_version=current.version)

    def promote(
        self,
        source: str,
        target: str,
        *,
        principal: Principal,
        monitor: str | None = None,
        comment: str | None = None,
        origin: Origin | None = None,
    ) -> Deployment:
        """``source``'s current spec copied to ``target`` (created when new) as a new version. The monitor is
        the target's own (``monitor`` when given, else the one it has), never the source's: staging traffic
        must not land in production's monitor."""
        if source == target:
            raise InvalidInputError("promote copies a spec to another deployment", field="target")
        validate_deployment_name(target)
        origin_spec = self.store.get_deployment(source)
        existing: Deployment | None
        try:
            existing = self.store.get_deployment(target)
        except NotFoundError:
            existing = None
        kept = monitor if monitor is not None else (None if existing is None else existing.spec.monitor)
        spec = {**origin_spec.spec.to_dict(), "monitor": kept}
        project = None if existing is None else existing.project
        parsed, owner, details = self._checked(spec, project or origin_spec.project)
        details = {**details, "promoted_from": f"{source}:{origin_spec.version}"}
        change = self._change(
            target, parsed, "promoted" if existing else "created", principal, comment, origin, details
        )
        if existing is None:
            return self.store.create_deployment(
                name=target, project=owner, created_at=change.time, first=change
            )
        return self.store.add_deployment_version(target, change, expected_version=existing.version)
