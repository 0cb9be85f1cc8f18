"""mltrail's entities in MLflow's JSON shapes: Run, Experiment, RegisteredModel, ModelVersion."""

from __future__ import annotations

import json
from typing import Any

from mltrail.entities import MetricHistory, ModelVersion, Project, RegisteredModel, Run, Value
from mltrail.services.mlflow.filters import DELETED_TAG
from mltrail.services.mlflow.logged_models import MODELS_TAG
from mltrail.services.mlflow.tracking import experiment_id_of, mlflow_status

__all__ = ["experiment_json", "history_json", "model_json", "run_info_json", "run_json", "version_json"]


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def _param_text(value: Value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float) or value is None:
        return str(value)
    return json.dumps(value, sort_keys=True)


def experiment_json(project: Project) -> dict[str, Any]:
    eid = experiment_id_of(project)
    return {
        "experiment_id": eid,
        "name": project.name,
        "artifact_location": f"mlflow-artifacts:/{eid}",
        "lifecycle_stage": "active",
        "creation_time": _ms(project.created_at),
        "last_update_time": _ms(project.last_run_at or project.created_at),
        "tags": [],
    }


def run_info_json(run: Run, experiment_id: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "run_id": run.id,
        "run_uuid": run.id,
        "run_name": run.name,
        "experiment_id": experiment_id,
        "user_id": run.user or "",
        "status": mlflow_status(run),
        "start_time": _ms(run.start_time),
        "artifact_uri": f"mlflow-artifacts:/{experiment_id}/{run.id}/artifacts",
        "lifecycle_stage": "deleted" if DELETED_TAG in run.tags else "active",
    }
    if run.end_time is not None:
        info["end_time"] = _ms(run.end_time)
    return info


def run_json(run: Run, experiment_id: str) -> dict[str, Any]:
    wall = _ms(run.end_time or run.heartbeat_at or run.start_time)
    metrics = [
        {"key": key, "value": s.last, "timestamp": wall, "step": s.last_step}
        for key, s in sorted(run.metrics.items())
    ]
    tags = [{"key": k, "value": v} for k, v in sorted(run.tags.items()) if k not in (DELETED_TAG, MODELS_TAG)]
    tags.append({"key": "mlflow.runName", "value": run.name})
    if run.user:
        tags.append({"key": "mlflow.user", "value": run.user})
    return {
        "info": run_info_json(run, experiment_id),
        "data": {
            "metrics": metrics,
            "params": [{"key": k, "value": _param_text(v)} for k, v in sorted(run.params.items())],
            "tags": tags,
        },
        "inputs": {},
    }


def history_json(history: MetricHistory) -> list[dict[str, Any]]:
    return [
        {"key": history.key, "value": value, "timestamp": _ms(wall), "step": step}
        for step, value, wall in zip(history.steps, history.values, history.wall_times, strict=True)
    ]


def version_json(version: ModelVersion, experiment_id: str | None) -> dict[str, Any]:
    source = version.source
    if version.run_id is not None and experiment_id is not None:
        source = f"mlflow-artifacts:/{experiment_id}/{version.run_id}/artifacts/{version.source}"
    return {
        "name": version.model,
        "version": str(version.version),
        "creation_timestamp": _ms(version.created_at),
        "last_updated_timestamp": _ms(version.created_at),
        "user_id": version.created_by or "",
        "current_stage": version.stage.value.capitalize() if version.stage.value != "none" else "None",
        "description": version.description,
        "source": source,
        "run_id": version.run_id or "",
        "status": "READY",
        "tags": [{"key": k, "value": v} for k, v in sorted(version.tags.items())],
        "aliases": list(version.aliases),
    }


def model_json(model: RegisteredModel, latest: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "name": model.name,
        "creation_timestamp": _ms(model.created_at),
        "last_updated_timestamp": _ms(model.updated_at),
        "description": model.description,
        "tags": [{"key": k, "value": v} for k, v in sorted(model.tags.items())],
        "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(model.aliases.items())],
        "latest_versions": latest or [],
    }
