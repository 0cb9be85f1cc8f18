"""The registry seen from the SDK and the CLI: the ``RegistryClient`` protocol, with an embedded
implementation (``registry/embedded.py``) and one over HTTP (``registry/http.py``) that make the same calls
and raise the same ``mltrail.errors`` types.

Who acts: embedded, the client's ``user`` with admin rights (whoever holds the database holds everything;
the registry's own rules, such as no self-approval, still hold between two names); against a team server
with authentication, the API key's user with that user's roles (``user`` is sent, and only a server without
authentication uses it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from mltrail.entities import (
    ApprovalPolicy,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
    Stage,
    TransitionRequest,
    Webhook,
    WebhookDelivery,
)
from mltrail.sdk.client.identity import os_user
from mltrail.settings import Settings

__all__ = ["RegistryClient", "registry_user"]


def registry_user(settings: Settings) -> str | None:
    """Who acts on the registry where no server account decides: ``MLTRAIL_USER`` as the settings read it
    (``mltrail.models`` reads them afresh at each call, so a script may switch it between requesting and
    approving), else the OS user."""
    return settings.user or os_user()


class RegistryClient(Protocol):
    user: str | None  # who acts where no server account decides

    def with_origin(self, client: str | None, user_agent: str) -> RegistryClient:
        """The same registry, its changes recorded in the trail as coming from ``client``/``user_agent``
        (embedded; a server records the caller's address and this user agent)."""
        ...

    # -- models -------------------------------------------------------------------------------------------
    def register(
        self, model: str, run_id: str, path: str, description: str | None, tags: Mapping[str, str] | None
    ) -> ModelVersion: ...

    def run_id(self, ref: str, project: str | None = None) -> str:
        """The id of the run ``ref`` names (id, unique prefix or unique name; within ``project`` if given)."""
        ...

    def resolve(self, ref: str) -> ModelVersion: ...

    def get_model(self, name: str) -> RegisteredModel: ...

    def list_models(self, project: str | None) -> list[RegisteredModel]: ...

    def models_page(self, project: str | None, limit: int) -> tuple[list[RegisteredModel], int]:
        """At most ``limit`` models by name, and how many there are."""
        ...

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
        card: Mapping[str, Any] | None = None,
    ) -> RegisteredModel: ...

    def set_policy(self, name: str, policy: ApprovalPolicy) -> RegisteredModel: ...

    # -- versions -----------------------------------------------------------------------------------------
    def get_version(self, model: str, version: int) -> ModelVersion: ...

    def versions_page(
        self, model: str, *, stage: Stage | None = None, limit: int = 100
    ) -> tuple[list[ModelVersion], int]:
        """The model's versions newest first (only those in ``stage``), and how many there are."""
        ...

    def update_version(
        self,
        model: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion: ...

    def model_card(self, version: ModelVersion) -> dict[str, Any]: ...

    # -- transitions, aliases, requests ---------------------------------------------------------------------
    def transition(
        self, model: str, version: int, *, stage: str | None, alias: str | None, comment: str | None
    ) -> tuple[ModelVersion, TransitionRequest | None]: ...

    def set_alias(
        self, model: str, alias: str, version: int | str, comment: str | None
    ) -> tuple[ModelVersion, TransitionRequest | None]: ...

    def delete_alias(self, model: str, alias: str) -> None: ...

    def decide(self, request_id: int, *, approve: bool, comment: str | None) -> TransitionRequest: ...

    def cancel(self, request_id: int) -> TransitionRequest: ...

    def get_request(self, request_id: int) -> TransitionRequest: ...

    def list_requests(self, model: str | None, status: str) -> list[TransitionRequest]: ...

    def requests_page(
        self, model: str | None, status: str, limit: int
    ) -> tuple[list[TransitionRequest], int]:
        """Requests newest first (``status`` ``all`` for any), and how many there are."""
        ...

    # -- the trail ------------------------------------------------------------------------------------------
    def events(
        self,
        *,
        model: str | None = None,
        user: str | None = None,
        action: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 100,
    ) -> list[RegistryEvent]:
        """The trail newest first; ``since``/``until`` as ``mltrail audit`` reads them (epoch seconds, ISO
        8601, or a duration back such as ``7d``), against the clock of the store's side."""
        ...

    # -- webhooks -------------------------------------------------------------------------------------------
    def create_webhook(self, url: str, events: Sequence[str], model: str | None) -> tuple[Webhook, str]:
        """The new webhook and its signing secret (shown this once)."""
        ...

    def list_webhooks(self, model: str | None) -> list[Webhook]: ...

    def get_webhook(self, webhook_id: int) -> Webhook: ...

    def delete_webhook(self, webhook_id: int) -> None: ...

    def deliveries(self, webhook_id: int, limit: int) -> list[WebhookDelivery]: ...

    # -- downloads ------------------------------------------------------------------------------------------
    def download_files(self, version: ModelVersion, dest: Path) -> Iterator[str]:
        """Write every file of the version into the folder ``dest``, each verified against its sha256 (a
        file that does not match is not left behind: ``IntegrityError``); yields each path once written."""
        ...

    def record_download(self, version: ModelVersion) -> None:
        """Record a completed download in the trail (a server records each file it serves itself)."""
        ...

    def download(self, version: ModelVersion, dest: Path) -> None:
        """Every file of the version into ``dest``, each verified against its sha256; audited."""
        ...
