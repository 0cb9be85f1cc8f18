"""``HttpRegistry``: the registry of a team server, through ``/api/v1/models`` and ``/api/v1/requests``."""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mltrail.entities import (
    ApprovalPolicy,
    Decision,
    GateResult,
    ModelFile,
    ModelVersion,
    RegisteredModel,
    RequestStatus,
    Stage,
    TransitionRequest,
)
from mltrail.errors import IntegrityError
from mltrail.sdk.tracking.http import HttpTransport

__all__ = ["HttpRegistry"]


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


class HttpRegistry:
    """The registry of a team server, through ``/api/v1/models`` and ``/api/v1/requests``."""

    def __init__(self, http: HttpTransport, user: str | None) -> None:
        self.http = http
        self.user = user  # sent as ``user``; only a server without authentication uses it

    def _body(self, **fields: Any) -> dict[str, Any]:
        return {"user": self.user, **{k: v for k, v in fields.items() if v is not None}}

    def register(
        self, model: str, run_id: str, path: str, description: str | None, tags: Mapping[str, str] | None
    ) -> ModelVersion:
        body = self._body(run_id=run_id, path=path, description=description, tags=dict(tags or {}))
        return version_from_json(self.http._json("POST", f"/models/{_q(model)}/versions", body))

    def resolve(self, ref: str) -> ModelVersion:
        if "@" in ref:
            name, _, selector = ref.partition("@")
        elif ":" in ref:
            name, _, selector = ref.rpartition(":")
        else:
            name, selector = ref, ""
        if not selector:
            model = self.get_model(name)
            selector = str(model.latest_version)
        return version_from_json(self.http._json("GET", f"/models/{_q(name)}/versions/{_q(selector)}"))

    def get_model(self, name: str) -> RegisteredModel:
        return model_from_json(self.http._json("GET", f"/models/{_q(name)}"))

    def list_models(self, project: str | None) -> list[RegisteredModel]:
        query = "?limit=1000" + (f"&project={_q(project)}" if project else "")
        return [model_from_json(m) for m in self.http._json("GET", f"/models{query}")["models"]]

    def transition(
        self, model: str, version: int, *, stage: str | None, alias: str | None, comment: str | None
    ) -> tuple[ModelVersion, TransitionRequest | None]:
        body = self._body(stage=stage, alias=alias, comment=comment)
        data = self.http._json("POST", f"/models/{_q(model)}/versions/{version}/transitions", body)
        request = data.get("request")
        return version_from_json(data["version"]), None if request is None else request_from_json(request)

    def decide(self, request_id: int, *, approve: bool, comment: str | None) -> TransitionRequest:
        verb = "approve" if approve else "reject"
        data = self.http._json("POST", f"/requests/{request_id}/{verb}", self._body(comment=comment))
        return request_from_json(data)

    def list_requests(self, model: str | None, status: str) -> list[TransitionRequest]:
        query = f"?status={_q(status)}&limit=1000" + (f"&model={_q(model)}" if model else "")
        return [request_from_json(r) for r in self.http._json("GET", f"/requests{query}")["requests"]]

    def download(self, version: ModelVersion, dest: Path) -> None:
        base = f"/models/{_q(version.model)}/versions/{version.version}/files/"
        for entry in version.files:
            target = dest / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            response = self.http._request("GET", base + "/".join(_q(p) for p in entry.path.split("/")))
            data = response.content
            got = hashlib.sha256(data).hexdigest()
            if got != entry.digest:
                raise IntegrityError(
                    f"{version.ref}/{entry.path} arrived with sha256 {got[:12]}…,"
                    f" registered {entry.digest[:12]}…: nothing loaded"
                )
            target.write_bytes(data)


# -- JSON from the API into the registry's entities ----------------------------------------------------
def version_from_json(d: Mapping[str, Any]) -> ModelVersion:
    return ModelVersion(
        model=d["model"],
        version=int(d["version"]),
        run_id=d.get("run_id"),
        source=d.get("source", ""),
        digest=d["digest"],
        flavor=d["flavor"],
        format=d["format"],
        executes_code=bool(d["executes_code"]),
        signature=d.get("signature"),
        files=tuple(ModelFile(f["path"], f["digest"], int(f["size"])) for f in d["files"]),
        stage=Stage(d["stage"]),
        description=d.get("description", ""),
        tags=dict(d.get("tags") or {}),
        created_by=d.get("created_by"),
        created_at=float(d["created_at"]),
        aliases=tuple(d.get("aliases") or ()),
    )


def model_from_json(d: Mapping[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=d["name"],
        project=d["project"],
        description=d.get("description", ""),
        owner=d.get("owner"),
        tags=dict(d.get("tags") or {}),
        policy=ApprovalPolicy.from_dict(dict(d.get("policy") or {})),
        created_at=float(d["created_at"]),
        updated_at=float(d["updated_at"]),
        latest_version=int(d.get("latest_version", 0)),
        aliases={str(k): int(v) for k, v in (d.get("aliases") or {}).items()},
        card=dict(d.get("card") or {}),
    )


def request_from_json(d: Mapping[str, Any]) -> TransitionRequest:
    return TransitionRequest(
        id=int(d["id"]),
        model=d["model"],
        version=int(d["version"]),
        kind=d["kind"],
        target=d["target"],
        status=RequestStatus(d["status"]),
        requested_by=d.get("requested_by"),
        comment=d.get("comment", ""),
        created_at=float(d["created_at"]),
        required_approvals=int(d["required_approvals"]),
        gates=tuple(
            GateResult(g["gate"], bool(g["passed"]), g.get("detail", "")) for g in d.get("gates", [])
        ),
        decisions=tuple(
            Decision(x.get("user"), bool(x["approve"]), x.get("comment", ""), float(x["time"]))
            for x in d.get("decisions", [])
        ),
        decided_at=d.get("decided_at"),
    )
