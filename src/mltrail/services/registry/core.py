"""The registry service's shared parts: who and where a call comes from, events, the source run."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mltrail.entities import ModelVersion, RegistryEvent, Run, TransitionRequest
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.services.accounts.service import AccountService, Principal
from mltrail.services.registry.evidence_gates import EvidenceSource
from mltrail.services.tracking.validation import check_text
from mltrail.store.base import tracking_of
from mltrail.store.blobs import BlobStore
from mltrail.store.registry import RegistryStore
from mltrail.store.tracking import TrackingStore

__all__ = ["Origin", "RegistryCore", "Transition", "bounded_text"]

_MAX_TEXT = 100_000


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a registry call comes from, for the audit trail."""

    client: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """What a transition call did: applied at once (``request`` None) or opened a request."""

    version: ModelVersion
    request: TransitionRequest | None = None


def bounded_text(value: str | None, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise InvalidInputError(f"{field} must be text of at most {_MAX_TEXT} characters", field=field)
    return check_text(value, field)


class RegistryCore:
    def __init__(
        self,
        store: RegistryStore,
        blobs: BlobStore,
        accounts: AccountService,
        *,
        runs: TrackingStore | None = None,
        on_event: Callable[[], None] | None = None,
        evidence: Callable[[], EvidenceSource] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        # Serving evidence for ``evidence.…`` gates, built on first use (the deployments area reads the
        # registry, so the composition root hands it over lazily).
        self._evidence = evidence
        # Lineage: the runs versions come from, their artifacts and datasets.
        self.runs = runs if runs is not None else tracking_of(store)
        self.blobs = blobs
        self.accounts = accounts
        self.clock = clock
        self._on_event = on_event  # wakes the webhook dispatcher after a change is committed

    def _event(
        self,
        model: str,
        action: str,
        principal: Principal,
        origin: Origin | None,
        *,
        version: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> RegistryEvent:
        origin = origin or Origin()
        return RegistryEvent(
            time=self.clock(),
            model=model,
            action=action,
            user=principal.name,
            version=version,
            details=dict(details or {}),
            client=origin.client,
            user_agent=origin.user_agent,
        )

    def _changed(self) -> None:
        if self._on_event is not None:
            self._on_event()

    def _source_run(self, version: ModelVersion) -> Run | None:
        if version.run_id is None:
            return None
        try:
            return self.runs.get_run(version.run_id)
        except NotFoundError:
            return None
