"""MLflow 3's logged models kept in the run that logged them: the model's files are that run's artifacts
under the model's name (``model/MLmodel`` …, as MLflow 2 kept them), and its name, type, status and tags are
one JSON tag of the run (``mltrail.mlflow.logged_models``), so no table is needed and the run's page shows
them. A model id names its run (``m-<8 hex>-<run id>``)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from mltrail.entities import Run
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.query_ast import Exists, FieldRef
from mltrail.services.tracking.service import TrackingService
from mltrail.services.tracking.validation import normalize_artifact_path

__all__ = ["MODELS_TAG", "LoggedModel", "MlflowLoggedModels", "run_of_model"]

MODELS_TAG = "mltrail.mlflow.logged_models"
STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")


@dataclass
class LoggedModel:
    model_id: str
    run: Run
    name: str
    model_type: str
    status: str
    created_ms: int
    updated_ms: int
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """Where the model's files are among its run's artifacts."""
        return self.name


def run_of_model(model_id: str) -> str:
    parts = model_id.split("-", 2)
    if len(parts) != 3 or parts[0] != "m" or not parts[2]:
        raise NotFoundError(f"no logged model {model_id!r}")
    return parts[2]


class MlflowLoggedModels:
    def __init__(self, tracking: TrackingService) -> None:
        self.tracking = tracking

    def _documents(self, run: Run) -> dict[str, dict[str, Any]]:
        raw = run.tags.get(MODELS_TAG)
        if not raw:
            return {}
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}

    def _of(self, run: Run, model_id: str, doc: dict[str, Any]) -> LoggedModel:
        return LoggedModel(
            model_id=model_id,
            run=run,
            name=str(doc.get("name", "")),
            model_type=str(doc.get("model_type", "")),
            status=str(doc.get("status", STATUSES[0])),
            created_ms=int(doc.get("created", 0)),
            updated_ms=int(doc.get("updated", 0)),
            tags={str(k): str(v) for k, v in (doc.get("tags") or {}).items()},
        )

    def _save(self, run: Run, docs: dict[str, dict[str, Any]]) -> None:
        text = orjson.dumps(docs).decode()
        if len(text) > 5000:
            raise InvalidInputError(
                f"run {run.id} holds too many logged models (their records pass 5,000 characters)",
                field="name",
            )
        self.tracking.set_tags(run.id, {MODELS_TAG: text})

    def create(
        self, run_id: str, *, name: str | None, model_type: str | None, tags: dict[str, str]
    ) -> LoggedModel:
        run = self.tracking.get_run(run_id)
        clean = normalize_artifact_path(name or "model")
        if "/" in clean:
            raise InvalidInputError("a logged model's name must not contain '/'", field="name")
        model_id = f"m-{uuid.uuid4().hex[:8]}-{run.id}"
        now = int(time.time() * 1000)
        docs = self._documents(run)
        docs[model_id] = {
            "name": clean,
            "model_type": model_type or "",
            "status": STATUSES[0],
            "created": now,
            "updated": now,
            "tags": tags,
        }
        self._save(run, docs)
        return self.get(model_id)

    def get(self, model_id: str) -> LoggedModel:
        run = self.tracking.get_run(run_of_model(model_id))
        doc = self._documents(run).get(model_id)
        if doc is None:
            raise NotFoundError(f"no logged model {model_id!r}")
        return self._of(run, model_id, doc)

    def _update(self, model_id: str, change: dict[str, Any]) -> LoggedModel:
        model = self.get(model_id)
        docs = self._documents(model.run)
        docs[model_id] = {**docs[model_id], **change, "updated": int(time.time() * 1000)}
        self._save(model.run, docs)
        return self.get(model_id)

    def finalize(self, model_id: str, status: str) -> LoggedModel:
        if status not in STATUSES:
            raise InvalidInputError(f"status must be one of {', '.join(STATUSES)}", field="status")
        return self._update(model_id, {"status": status})

    def set_tags(self, model_id: str, tags: dict[str, str]) -> LoggedModel:
        return self._update(model_id, {"tags": {**self.get(model_id).tags, **tags}})

    def delete_tag(self, model_id: str, key: str) -> LoggedModel:
        tags = dict(self.get(model_id).tags)
        tags.pop(key, None)
        return self._update(model_id, {"tags": tags})

    def in_projects(self, projects: list[str]) -> list[LoggedModel]:
        """The logged models of the projects' runs, oldest first (of the newest 1,000 runs holding some)."""
        found: list[LoggedModel] = []
        for project in projects:
            try:
                page = self.tracking.search_runs(
                    project, filter=Exists(FieldRef("tags", MODELS_TAG)), limit=1000
                )
            except NotFoundError:
                continue
            for run in page.runs:
                found.extend(self._of(run, mid, doc) for mid, doc in self._documents(run).items())
        found.sort(key=lambda m: (m.created_ms, m.model_id))
        return found
