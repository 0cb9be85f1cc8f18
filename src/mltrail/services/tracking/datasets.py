"""Datasets: record the version a run read, with lineage run ↔ dataset and its role."""

from __future__ import annotations

from mltrail.entities import DatasetLink, DatasetVersion
from mltrail.errors import InvalidInputError
from mltrail.services.tracking.fingerprint import Fingerprint
from mltrail.services.tracking.validation import DATASET_ROLES, validate_key
from mltrail.store.tracking import TrackingStore

__all__ = ["DatasetService"]


class DatasetService:
    def __init__(self, store: TrackingStore) -> None:
        self.store = store

    def record(self, run_id: str, fingerprint: Fingerprint, role: str = "train") -> DatasetLink:
        """Record the fingerprinted version (the same digest is the same version) and link it to the run."""
        if role not in DATASET_ROLES:
            raise InvalidInputError(
                f"role must be one of {', '.join(DATASET_ROLES)}, got {role!r}", field="role"
            )
        validate_key(fingerprint.name, "dataset")
        run = self.store.get_run(run_id)
        version = self.store.record_dataset_version(
            project=run.project,
            name=fingerprint.name,
            digest=fingerprint.digest,
            kind=fingerprint.kind,
            source=fingerprint.source,
            num_rows=fingerprint.num_rows,
            num_bytes=fingerprint.num_bytes,
            schema=list(fingerprint.schema),
            summary=dict(fingerprint.summary),
        )
        if fingerprint.profile is not None:
            self.store.set_dataset_profile(version.id, fingerprint.profile)
        self.store.link_dataset(run_id, version.id, role)
        return DatasetLink(run_id=run_id, role=role, dataset=version)

    def for_run(self, run_id: str) -> list[DatasetLink]:
        return self.store.list_run_datasets(run_id)

    def versions(self, project: str, name: str | None = None) -> list[DatasetVersion]:
        return self.store.list_dataset_versions(project, name)
