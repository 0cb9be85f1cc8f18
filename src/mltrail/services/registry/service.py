"""The model registry: models, versions from runs, stages, aliases, approvals and the audit trail. No HTTP.

Who may do what is decided in two places. The API checks the caller's role on the model's project
(viewers read, members register and request, maintainers manage policies); this service enforces the
rules that hold whatever the entry point: a protected stage or alias is reached only through a request,
an approver must hold one of the policy's roles and must not be the requester, gates must pass, and
every change and every download is recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from mltrail.entities import ApprovalPolicy, ModelVersion, RegisteredModel, RegistryEvent, Stage
from mltrail.entities.registry import ModelFile
from mltrail.errors import ConflictError, IntegrityError, InvalidInputError, NotFoundError
from mltrail.services.accounts.service import Principal
from mltrail.services.registry.checks import (
    META_FILE,
    parse_model_ref,
    read_folder_meta,
    validate_model_name,
    validate_policy,
)
from mltrail.services.registry.core import Origin, Transition, bounded_text
from mltrail.services.registry.transitions import TransitionsMixin
from mltrail.services.tracking.validation import normalize_artifact_path
from mltrail.store.blobs import SignedUrl

__all__ = ["Origin", "RegistryService", "Transition"]


class RegistryService(TransitionsMixin):
    """Models, versions, transitions (see ``TransitionsMixin``), downloads, model cards and the trail."""

    # -- models -----------------------------------------------------------------------------------------
    def create_model(
        self,
        name: str,
        *,
        project: str,
        principal: Principal,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
        policy: ApprovalPolicy | None = None,
        card: Mapping[str, Any] | None = None,
        origin: Origin | None = None,
    ) -> RegisteredModel:
        validate_model_name(name)
        model = self.store.create_registered_model(
            name=name,
            project=project,
            description=bounded_text(description, "description"),
            owner=owner if owner is not None else principal.name,
            tags=dict(tags or {}),
            policy=validate_policy(policy or ApprovalPolicy()),
            card=dict(card or {}),
            created_at=self.clock(),
            event=self._event(name, "model_created", principal, origin, details={"project": project}),
        )
        self._changed()
        return model

    def get_model(self, name: str) -> RegisteredModel:
        return self.store.get_registered_model(name)

    def list_models(
        self, *, projects: list[str] | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[RegisteredModel], int]:
        return self.store.list_registered_models(projects=projects, offset=offset, limit=min(limit, 1000))

    def update_model(
        self,
        name: str,
        *,
        principal: Principal,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
        policy: ApprovalPolicy | None = None,
        card: Mapping[str, Any] | None = None,
        origin: Origin | None = None,
    ) -> RegisteredModel:
        changed = [
            k
            for k, v in {"description": description, "owner": owner, "tags": tags, "card": card}.items()
            if v is not None
        ]
        action = "model_updated"
        details: dict[str, Any] = {"changed": changed}
        if policy is not None:
            validate_policy(policy)
            action, details = "policy_changed", {"policy": policy.to_dict(), "changed": changed}
        model = self.store.update_registered_model(
            name,
            description=None if description is None else bounded_text(description, "description"),
            owner=owner,
            tags=tags,
            policy=policy,
            card=card,
            updated_at=self.clock(),
            event=self._event(name, action, principal, origin, details=details),
        )
        self._changed()
        return model

    # -- versions ---------------------------------------------------------------------------------------
    def register_version(
        self,
        model: str,
        *,
        run_id: str,
        source: str,
        principal: Principal,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        origin: Origin | None = None,
    ) -> ModelVersion:
        """A new version from the model folder a run logged at ``source`` (saved by ``save_model``). The model
        is created in the run's project if it does not exist yet."""
        validate_model_name(model)
        folder = normalize_artifact_path(source).rstrip("/")
        run = self.runs.get_run(run_id)
        artifacts = self.runs.list_artifacts(run_id, prefix=folder + "/")
        meta_artifact = next((a for a in artifacts if a.path == f"{folder}/{META_FILE}"), None)
        if meta_artifact is None:
            raise InvalidInputError(
                f"run {run_id[:12]} has no model folder at {folder!r} (no {META_FILE}; save it with"
                " mltrail.models.save_model and log the folder)",
                field="path",
            )
        raw = self._read_blob(meta_artifact.digest)
        meta = read_folder_meta(raw, folder, artifacts)
        try:
            existing = self.store.get_registered_model(model)
        except NotFoundError:
            existing = None
        if existing is None:
            with contextlib.suppress(ConflictError):  # created concurrently: register into it
                self.create_model(model, project=run.project, principal=principal, origin=origin)
            existing = self.store.get_registered_model(model)
        if existing.project != run.project:
            raise InvalidInputError(
                f"model {model!r} belongs to project {existing.project!r}; run {run_id[:12]} is in"
                f" {run.project!r}",
                field="run_id",
            )
        version = self.store.create_model_version(
            model=model,
            run_id=run_id,
            source=folder,
            digest=meta.digest,
            flavor=meta.flavor,
            format=meta.format,
            executes_code=meta.executes_code,
            signature=meta.signature,
            files=meta.files,
            description=bounded_text(description, "description"),
            tags=dict(tags or {}),
            created_by=principal.name,
            created_at=self.clock(),
            event=self._event(
                model,
                "version_created",
                principal,
                origin,
                details={"flavor": meta.flavor, "format": meta.format},
            ),
        )
        self._changed()
        return version

    def _read_blob(self, digest: str) -> bytes:
        with self.blobs.open(digest) as stream:
            raw = stream.read()
        if hashlib.sha256(raw).hexdigest() != digest:
            raise IntegrityError(f"blob {digest} is corrupt: its content no longer matches its sha256")
        return raw

    def resolve(self, ref: str) -> ModelVersion:
        """The version a reference names: ``churn:3``, ``churn@champion``, ``churn@production``, ``churn``."""
        parsed = parse_model_ref(ref)
        if parsed.version is not None:
            return self.store.get_model_version(parsed.model, parsed.version)
        if parsed.alias is not None:
            return self.store.get_version_by_alias(parsed.model, parsed.alias)
        versions, _ = self.store.list_model_versions(parsed.model, stage=parsed.stage, limit=1)
        if not versions:
            where = f" in stage {parsed.stage.value}" if parsed.stage else ""
            raise NotFoundError(f"model {parsed.model!r} has no version{where}")
        return versions[0]

    def get_version(self, model: str, version: int) -> ModelVersion:
        return self.store.get_model_version(model, version)

    def list_versions(
        self, model: str, *, stage: Stage | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[ModelVersion], int]:
        return self.store.list_model_versions(model, stage=stage, offset=offset, limit=min(limit, 1000))

    def versions_of_run(
        self, run_id: str, *, offset: int = 0, limit: int = 100
    ) -> tuple[list[ModelVersion], int]:
        """The versions registered from the run (of any model), oldest first, and how many there are."""
        if limit < 1 or offset < 0:
            field = "limit" if limit < 1 else "offset"
            raise InvalidInputError("limit must be ≥ 1 and offset ≥ 0", field=field)
        found = self.store.versions_of_run(run_id)
        return found[offset : offset + min(limit, 1000)], len(found)

    def update_version(
        self,
        model: str,
        version: int,
        *,
        principal: Principal,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        origin: Origin | None = None,
    ) -> ModelVersion:
        updated = self.store.update_model_version(
            model,
            version,
            description=None if description is None else bounded_text(description, "description"),
            tags=tags,
            event=self._event(model, "version_updated", principal, origin, version=version),
        )
        self._changed()
        return updated

    # -- downloads --------------------------------------------------------------------------------------
    def record_download(
        self,
        version: ModelVersion,
        *,
        principal: Principal,
        origin: Origin | None = None,
        path: str | None = None,
    ) -> None:
        """Every download is audited: the whole version, or one file of it (``path``)."""
        details = {"digest": version.digest, **({"path": path} if path else {})}
        self.store.append_registry_event(
            self._event(
                version.model, "downloaded", principal, origin, version=version.version, details=details
            )
        )
        self._changed()

    def record_artifact_download(
        self, run_id: str, path: str, *, principal: Principal, origin: Origin | None = None
    ) -> list[ModelVersion]:
        """A run's artifact delivered by the run's own route: when it is a file of a registered version, the
        download is audited as that version's (a registered model's bytes never leave unrecorded)."""
        holding = [
            v
            for v in self.store.versions_of_run(run_id)
            if any(f"{v.source}/{f.path}" == path for f in v.files)
        ]
        for version in holding:
            self.record_download(
                version, principal=principal, origin=origin, path=path[len(version.source) + 1 :]
            )
        return holding

    def open_file(self, version: ModelVersion, path: str) -> tuple[int, str, BinaryIO]:
        """(size, sha256, stream) of one file of a version; the caller verifies while streaming."""
        entry = self._file(version, path)
        return entry.size, entry.digest, self.blobs.open(entry.digest)

    def file_url(self, version: ModelVersion, path: str) -> tuple[int, str, SignedUrl | None]:
        """(size, sha256, presigned URL) of one file of a version: a URL that reads its blob straight from
        the object store for a while, or None when the store signs none. The caller checks access and records
        the download first; the reader verifies the sha256."""
        entry = self._file(version, path)
        return entry.size, entry.digest, self.blobs.presigned_url(entry.digest)

    def _file(self, version: ModelVersion, path: str) -> ModelFile:
        entry = next((f for f in version.files if f.path == path), None)
        if entry is None:
            raise NotFoundError(f"{version.ref} has no file {path!r}")
        return entry

    def copy_files(self, version: ModelVersion, dest: Any) -> Iterator[str]:
        """Copy every file of the version into the folder ``dest``, each verified against its sha256 (an
        ``IntegrityError`` leaves nothing of that file behind)."""
        root = Path(dest)
        for entry in version.files:
            target = root / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            self.blobs.copy_to(entry.digest, target)
            yield entry.path

    # -- the model card and the trail -------------------------------------------------------------------
    def model_card(self, version: ModelVersion) -> dict[str, Any]:
        """What a reviewer reads: the model's description and card text, and lineage from the source run —
        its code, params, final metrics and the datasets it trained on."""
        model = self.store.get_registered_model(version.model)
        run = self._source_run(version)
        card: dict[str, Any] = {
            "model": model.name,
            "version": version.version,
            "project": model.project,
            "stage": version.stage.value,
            "aliases": list(version.aliases),
            "owner": model.owner,
            "description": model.description,
            "version_description": version.description,
            **model.card,
            "flavor": version.flavor,
            "format": version.format,
            "executes_code": version.executes_code,
            "digest": version.digest,
            "signature": version.signature,
            "registered_by": version.created_by,
            "registered_at": version.created_at,
            "run": None,
            "metrics": {},
            "datasets": [],
        }
        if run is not None:
            git = run.context.get("git") or {}
            card["run"] = {
                "id": run.id,
                "name": run.name,
                "user": run.user,
                "status": run.status.value,
                "commit": git.get("commit"),
                "branch": git.get("branch"),
                "dirty": git.get("dirty"),
                "params": run.params,
            }
            card["metrics"] = {
                key: s.last for key, s in sorted(run.metrics.items()) if not key.startswith("sys/")
            }
            card["datasets"] = [
                {
                    "role": link.role,
                    "name": link.dataset.name,
                    "version": link.dataset.version,
                    "digest": link.dataset.digest,
                    "rows": link.dataset.num_rows,
                }
                for link in self.runs.list_run_datasets(run.id)
            ]
        return card

    def events(
        self,
        *,
        model: str | None = None,
        user: str | None = None,
        action: str | None = None,
        since: float | None = None,
        until: float | None = None,
        projects: list[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[RegistryEvent]:
        return self.store.query_registry_events(
            model=model,
            user=user,
            action=action,
            since=since,
            until=until,
            projects=projects,
            limit=min(limit, 10_000),
            offset=offset,
        )
