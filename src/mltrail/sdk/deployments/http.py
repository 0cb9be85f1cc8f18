"""``HttpDeployments``: deployment specs on a team server, through ``/api/v1/deployments``."""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail.entities import (
    Deployment,
    DeploymentEvidence,
    DeploymentSpec,
    DeploymentVersion,
    EvidenceWindow,
)
from mltrail.sdk.deployments.client import SpecInput
from mltrail.sdk.tracking.http import HttpTransport

__all__ = ["HttpDeployments", "deployment_from_json", "version_from_json"]


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _spec_json(spec: SpecInput) -> dict[str, Any]:
    return spec.to_dict() if isinstance(spec, DeploymentSpec) else dict(spec)


def version_from_json(d: Mapping[str, Any]) -> DeploymentVersion:
    return DeploymentVersion(
        deployment=d["deployment"],
        version=int(d["version"]),
        spec=DeploymentSpec.from_dict(d["spec"]),
        action=d["action"],
        user=d["user"],
        time=float(d["time"]),
        comment=d["comment"],
        details=dict(d["details"]),
        client=d["client"],
        user_agent=d["user_agent"],
    )


def deployment_from_json(d: Mapping[str, Any]) -> Deployment:
    return Deployment(
        name=d["name"],
        project=d["project"],
        created_at=float(d["created_at"]),
        created_by=d["created_by"],
        current=version_from_json(d["current"]),
    )


class HttpDeployments:
    """With authentication the server acts as the API key's user; ``user`` is sent for one without."""

    def __init__(self, http: HttpTransport, user: str | None) -> None:
        self.http = http
        self.user = user

    def _body(self, **fields: Any) -> dict[str, Any]:
        return {"user": self.user, **{k: v for k, v in fields.items() if v is not None}}

    def create(self, name: str, spec: SpecInput, *, comment: str | None = None) -> Deployment:
        body = self._body(name=name, spec=_spec_json(spec), comment=comment)
        return deployment_from_json(self.http._json("POST", "/deployments", body))

    def get(self, name: str) -> Deployment:
        return deployment_from_json(self.http._json("GET", f"/deployments/{_q(name)}"))

    def list_deployments(
        self, project: str | None = None, *, limit: int = 100
    ) -> tuple[list[Deployment], int]:
        params = {"limit": limit, **({} if project is None else {"project": project})}
        page = self.http._json("GET", "/deployments", params=params)
        return [deployment_from_json(d) for d in page["deployments"]], int(page["total"])

    def update(
        self,
        name: str,
        spec: SpecInput,
        *,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Deployment:
        body = self._body(spec=_spec_json(spec), comment=comment, expected_version=expected_version)
        return deployment_from_json(self.http._json("PUT", f"/deployments/{_q(name)}", body))

    def history(self, name: str, *, limit: int = 100) -> tuple[list[DeploymentVersion], int]:
        page = self.http._json("GET", f"/deployments/{_q(name)}/versions", params={"limit": limit})
        return [version_from_json(v) for v in page["versions"]], int(page["total"])

    def get_version(self, name: str, version: int) -> DeploymentVersion:
        return version_from_json(self.http._json("GET", f"/deployments/{_q(name)}/versions/{version}"))

    def rollback(self, name: str, *, to_version: int | None = None, comment: str | None = None) -> Deployment:
        body = self._body(to_version=to_version, comment=comment)
        return deployment_from_json(self.http._json("POST", f"/deployments/{_q(name)}/rollback", body))

    def promote(
        self, source: str, target: str, *, monitor: str | None = None, comment: str | None = None
    ) -> Deployment:
        body = self._body(target=target, monitor=monitor, comment=comment)
        return deployment_from_json(self.http._json("POST", f"/deployments/{_q(source)}/promote", body))

    def evidence(
        self, name: str, *, since: float | str | None = None, until: float | str | None = None
    ) -> DeploymentEvidence:
        params = {k: v for k, v in {"since": since, "until": until}.items() if v is not None}
        doc = self.http._json("GET", f"/deployments/{_q(name)}/evidence", params=params)
        return DeploymentEvidence.from_dict(doc)

    def record_evidence(self, name: str, windows: Sequence[EvidenceWindow]) -> int:
        if not windows:
            return 0
        replicas = {w.replica for w in windows}
        if len(replicas) != 1:
            raise ValueError("one send carries the windows of one replica")
        body = {
            "replica": replicas.pop(),
            "windows": [
                {
                    "start": w.start,
                    "spec_version": w.spec_version,
                    "counts": [dataclasses.asdict(c) for c in w.counts],
                }
                for w in windows
            ],
        }
        return int(self.http._json("POST", f"/deployments/{_q(name)}/evidence", body)["rows"])
