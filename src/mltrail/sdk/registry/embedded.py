"""``InProcessRegistry``: the registry services over this process's embedded store."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mltrail.entities import (
    ModelVersion,
    RegisteredModel,
    Role,
    TransitionRequest,
)
from mltrail.services.accounts.service import Principal
from mltrail.services.container import Services
from mltrail.services.registry.service import Origin

__all__ = ["InProcessRegistry"]

_ORIGIN = Origin(client="local", user_agent="mltrail-sdk")


class InProcessRegistry:
    """The embedded registry: the services over the training process's own store."""

    def __init__(self, services: Services, user: str | None) -> None:
        self.service = services.registry
        # Whoever holds the embedded store holds the database: it acts as an admin, under its own name.
        self.principal = Principal(name=user, role=Role.ADMIN)

    def register(
        self, model: str, run_id: str, path: str, description: str | None, tags: Mapping[str, str] | None
    ) -> ModelVersion:
        return self.service.register_version(
            model,
            run_id=run_id,
            source=path,
            principal=self.principal,
            description=description,
            tags=tags,
            origin=_ORIGIN,
        )

    def resolve(self, ref: str) -> ModelVersion:
        return self.service.resolve(ref)

    def get_model(self, name: str) -> RegisteredModel:
        return self.service.get_model(name)

    def list_models(self, project: str | None) -> list[RegisteredModel]:
        models, _ = self.service.list_models(projects=None if project is None else [project], limit=1000)
        return models

    def transition(
        self, model: str, version: int, *, stage: str | None, alias: str | None, comment: str | None
    ) -> tuple[ModelVersion, TransitionRequest | None]:
        done = self.service.transition(
            model,
            version,
            principal=self.principal,
            stage=stage,
            alias=alias,
            comment=comment,
            origin=_ORIGIN,
        )
        return done.version, done.request

    def decide(self, request_id: int, *, approve: bool, comment: str | None) -> TransitionRequest:
        return self.service.decide(
            request_id, approve=approve, principal=self.principal, comment=comment, origin=_ORIGIN
        )

    def list_requests(self, model: str | None, status: str) -> list[TransitionRequest]:
        found, _ = self.service.list_requests(
            model=model, status=None if status == "all" else status, limit=1000
        )
        return found

    def download(self, version: ModelVersion, dest: Path) -> None:
        for _ in self.service.copy_files(version, dest):
            pass
        self.service.record_download(version, principal=self.principal, origin=_ORIGIN)
