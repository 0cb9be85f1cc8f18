"""The registry seen from the SDK: the ``RegistryClient`` protocol, with an embedded implementation
(``registry/embedded.py``) and one over HTTP (``registry/http.py``) that make the same calls and raise the
same ``mltrail.errors`` types."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from mltrail.entities import (
    ModelVersion,
    RegisteredModel,
    TransitionRequest,
)

__all__ = ["RegistryClient"]


class RegistryClient(Protocol):
    def register(
        self, model: str, run_id: str, path: str, description: str | None, tags: Mapping[str, str] | None
    ) -> ModelVersion: ...

    def resolve(self, ref: str) -> ModelVersion: ...

    def get_model(self, name: str) -> RegisteredModel: ...

    def list_models(self, project: str | None) -> list[RegisteredModel]: ...

    def transition(
        self, model: str, version: int, *, stage: str | None, alias: str | None, comment: str | None
    ) -> tuple[ModelVersion, TransitionRequest | None]: ...

    def decide(self, request_id: int, *, approve: bool, comment: str | None) -> TransitionRequest: ...

    def list_requests(self, model: str | None, status: str) -> list[TransitionRequest]: ...

    def download(self, version: ModelVersion, dest: Path) -> None:
        """Every file of the version into ``dest``, each verified against its sha256; audited."""
        ...
