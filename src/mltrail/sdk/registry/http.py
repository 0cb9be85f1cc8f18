"""``HttpRegistry``: the registry of a team server, through ``/api/v1/models`` and ``/api/v1/requests``."""

from __future__ import annotations

import hashlib
import math
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson

from mltrail.entities import (
    ApprovalPolicy,
    Decision,
    DeliveryAttempt,
    GateResult,
    ModelFile,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
    RequestStatus,
    Stage,
    TransitionRequest,
    Webhook,
    WebhookDelivery,
)
from mltrail.errors import AuthenticationError, IntegrityError, InvalidInputError, NotFoundError, StoreError
from mltrail.sdk.presigned import PRESIGN_PARAMS, is_presigned, presigned_chunks
from mltrail.sdk.tracking.http import HttpTransport, _error_from

__all__ = ["HttpRegistry", "decode_floats", "with_key_hint"]

CHUNK = 1 << 20
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def with_key_hint(exc: AuthenticationError, server: str) -> AuthenticationError:
    """The server's 401, saying where the key comes from and how to set one."""
    return AuthenticationError(
        f"{exc.message} (the mltrail server at {server}): set MLTRAIL_API_KEY to a key of yours on it,"
        " or run `mltrail login`"
    )


class HttpRegistry:
    """The registry of a team server, through ``/api/v1/models``, ``/api/v1/requests``,
    ``/api/v1/registry/audit`` and ``/api/v1/webhooks``. With authentication the server acts as the API
    key's user, with that user's roles; ``user`` is sent too, and only a server without it uses it."""

    def __init__(self, http: HttpTransport, user: str | None, user_agent: str | None = None) -> None:
        self.http = http
        self.user = user
        self.user_agent = user_agent

    def with_origin(self, client: str | None, user_agent: str) -> HttpRegistry:
        return HttpRegistry(self.http, self.user, user_agent)

    # -- plumbing -----------------------------------------------------------------------------------------
    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.user_agent:
            headers["User-Agent"] = self.user_agent
        return headers

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs["headers"] = self._headers(kwargs.get("headers"))
        try:
            return self.http._request(method, url, **kwargs)
        except AuthenticationError as exc:
            raise with_key_hint(exc, self.http.base_url) from None

    def _json(self, method: str, url: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        content = None if body is None else orjson.dumps(body)
        headers = {"Content-Type": "application/json"} if content is not None else None
        query = None if params is None else {k: v for k, v in params.items() if v is not None}
        response = self._request(method, url, content=content, headers=headers, params=query)
        return response.json() if response.content else None

    def _body(self, **fields: Any) -> dict[str, Any]:
        return {"user": self.user, **{k: v for k, v in fields.items() if v is not None}}

    # -- models -------------------------------------------------------------------------------------------
    def register(
        self, model: str, run_id: str, path: str, description: str | None, tags: Mapping[str, str] | None
    ) -> ModelVersion:
        body = self._body(run_id=run_id, path=path, description=description, tags=dict(tags or {}))
        return version_from_json(self._json("POST", f"/models/{_q(model)}/versions", body))

    def run_id(self, ref: str, project: str | None = None) -> str:
        """The server resolves the reference among the runs the key's user may see."""
        ref = ref.strip()
        if not ref:
            raise InvalidInputError("run reference is empty", field="run")
        try:
            run = self._json("GET", f"/runs/{_q(ref)}")
        except NotFoundError:
            where = f" in project {project!r}" if project else ""
            raise NotFoundError(
                f"no run {ref!r}{where} on the mltrail server at {self.http.base_url}"
            ) from None
        if project is not None and run["project"] != project:
            raise NotFoundError(f"no run {ref!r} in project {project!r} (it is in {run['project']!r})")
        return str(run["id"])

    def resolve(self, ref: str) -> ModelVersion:
        # Parsed here without the services (an HTTP-only process imports no store); the server checks names.
        if "@" in ref:
            name, _, selector = ref.partition("@")
        elif ":" in ref:
            name, _, selector = ref.rpartition(":")
        else:
            name, selector = ref, ""
        name, selector = name.strip(), selector.strip()
        if not name or (("@" in ref or ":" in ref) and not selector):
            raise InvalidInputError(
                f"a model reference is NAME, NAME:VERSION, NAME@ALIAS or NAME@STAGE, got {ref!r}",
                field="model",
            )
        if not selector:
            latest = self.get_model(name).latest_version
            if latest < 1:
                raise NotFoundError(f"model {name!r} has no version")
            selector = str(latest)
        return version_from_json(self._json("GET", f"/models/{_q(name)}/versions/{_q(selector)}"))

    def get_model(self, name: str) -> RegisteredModel:
        return model_from_json(self._json("GET", f"/models/{_q(name)}"))

    def list_models(self, project: str | None) -> list[RegisteredModel]:
        return self.models_page(project, 1000)[0]

    def models_page(self, project: str | None, limit: int) -> tuple[list[RegisteredModel], int]:
        data = self._json("GET", "/models", params={"project": project, "limit": limit})
        return [model_from_json(m) for m in data["models"]], int(data["total"])

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
        card: Mapping[str, Any] | None = None,
    ) -> RegisteredModel:
        body = self._body(
            description=description,
            owner=owner,
            tags=None if tags is None else dict(tags),
            card=None if card is None else dict(card),
        )
        return model_from_json(self._json("PATCH", f"/models/{_q(name)}", body))

    def set_policy(self, name: str, policy: ApprovalPolicy) -> RegisteredModel:
        params = {"user": self.user}
        return model_from_json(self._json("PUT", f"/models/{_q(name)}/policy", policy.to_dict(), params))

    # -- versions -----------------------------------------------------------------------------------------
    def get_version(self, model: str, version: int) -> ModelVersion:
        return version_from_json(self._json("GET", f"/models/{_q(model)}/versions/{int(version)}"))

    def versions_page(
        self, model: str, *, stage: Stage | None = None, limit: int = 100
    ) -> tuple[list[ModelVersion], int]:
        params = {"stage": None if stage is None else stage.value, "limit": limit}
        data = self._json("GET", f"/models/{_q(model)}/versions", params=params)
        return [version_from_json(v) for v in data["versions"]], int(data["total"])

    def update_version(
        self,
        model: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        body = self._body(description=description, tags=None if tags is None else dict(tags))
        return version_from_json(self._json("PATCH", f"/models/{_q(model)}/versions/{int(version)}", body))

    def model_card(self, version: ModelVersion) -> dict[str, Any]:
        url = f"/models/{_q(version.model)}/versions/{version.version}/card"
        card: dict[str, Any] = decode_floats(self._json("GET", url))
        return card

    # -- transitions, aliases, requests ---------------------------------------------------------------------
    def transition(
        self, model: str, version: int, *, stage: str | None, alias: str | None, comment: str | None
    ) -> tuple[ModelVersion, TransitionRequest | None]:
        body = self._body(stage=stage, alias=alias, comment=comment)
        data = self._json("POST", f"/models/{_q(model)}/versions/{int(version)}/transitions", body)
        return _moved(data)

    def set_alias(
        self, model: str, alias: str, version: int | str, comment: str | None
    ) -> tuple[ModelVersion, TransitionRequest | None]:
        body = self._body(version=version, comment=comment)
        return _moved(self._json("PUT", f"/models/{_q(model)}/aliases/{_q(alias)}", body))

    def delete_alias(self, model: str, alias: str) -> None:
        self._json("DELETE", f"/models/{_q(model)}/aliases/{_q(alias)}", params={"user": self.user})

    def decide(self, request_id: int, *, approve: bool, comment: str | None) -> TransitionRequest:
        verb = "approve" if approve else "reject"
        data = self._json("POST", f"/requests/{int(request_id)}/{verb}", self._body(comment=comment))
        return request_from_json(data)

    def cancel(self, request_id: int) -> TransitionRequest:
        return request_from_json(self._json("POST", f"/requests/{int(request_id)}/cancel", self._body()))

    def get_request(self, request_id: int) -> TransitionRequest:
        return request_from_json(self._json("GET", f"/requests/{int(request_id)}"))

    def list_requests(self, model: str | None, status: str) -> list[TransitionRequest]:
        return self.requests_page(model, status, 1000)[0]

    def requests_page(
        self, model: str | None, status: str, limit: int
    ) -> tuple[list[TransitionRequest], int]:
        data = self._json("GET", "/requests", params={"model": model, "status": status, "limit": limit})
        return [request_from_json(r) for r in data["requests"]], int(data["total"])

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
        params = {"user": user, "action": action, "since": since, "until": until, "limit": limit}
        url = "/registry/audit" if model is None else f"/models/{_q(model)}/audit"
        return [event_from_json(e) for e in self._json("GET", url, params=params)]

    # -- webhooks -------------------------------------------------------------------------------------------
    def create_webhook(self, url: str, events: Sequence[str], model: str | None) -> tuple[Webhook, str]:
        data = self._json("POST", "/webhooks", {"url": url, "events": list(events), "model": model})
        return webhook_from_json(data["webhook"]), str(data["secret"])

    def list_webhooks(self, model: str | None) -> list[Webhook]:
        return [webhook_from_json(w) for w in self._json("GET", "/webhooks", params={"model": model})]

    def get_webhook(self, webhook_id: int) -> Webhook:
        return webhook_from_json(self._json("GET", f"/webhooks/{int(webhook_id)}"))

    def delete_webhook(self, webhook_id: int) -> None:
        self._json("DELETE", f"/webhooks/{int(webhook_id)}")

    def deliveries(self, webhook_id: int, limit: int) -> list[WebhookDelivery]:
        found = self._json("GET", f"/webhooks/{int(webhook_id)}/deliveries", params={"limit": limit})
        return [delivery_from_json(d) for d in found]

    # -- downloads ------------------------------------------------------------------------------------------
    def download_files(self, version: ModelVersion, dest: Path) -> Iterator[str]:
        """Each file streamed to a hidden part file beside its target, hashed on the way, and renamed into
        place only when its sha256 is the one the version pinned. The server records each file served."""
        base = f"/models/{_q(version.model)}/versions/{version.version}/files/"
        for entry in version.files:
            target = dest / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            url = base + "/".join(_q(p) for p in entry.path.split("/"))
            self._fetch(url, target, entry.digest, f"{version.ref}/{entry.path}")
            yield entry.path

    def _fetch(self, url: str, target: Path, digest: str, what: str) -> None:
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        hasher = hashlib.sha256()
        try:
            link = None
            with self.http._client.stream(
                "GET", url, headers=self._headers(), params=PRESIGN_PARAMS
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    error = _error_from(response)
                    if isinstance(error, AuthenticationError):
                        raise with_key_hint(error, self.http.base_url)
                    raise error
                if is_presigned(response):
                    link = orjson.loads(response.read())
                else:
                    _write(response.iter_bytes(CHUNK), partial, hasher)
            if link is not None:  # the server's object store signed a URL: the bytes come from there
                _write(presigned_chunks(link, digest, what), partial, hasher)
            got = hasher.hexdigest()
            if got != digest:
                raise IntegrityError(
                    f"{what} arrived with sha256 {got[:12]}…, registered {digest[:12]}…: the file is"
                    " corrupt or was changed on the way; nothing was written"
                )
            partial.replace(target)
        except httpx.TransportError as exc:
            raise StoreError(f"cannot reach the mltrail server at {self.http.base_url}: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)

    def record_download(self, version: ModelVersion) -> None:
        """Nothing to do: the server recorded each file it served (``downloaded``, with its path)."""

    def download(self, version: ModelVersion, dest: Path) -> None:
        for _ in self.download_files(version, dest):
            pass


def _write(chunks: Iterator[bytes], partial: Path, hasher: Any) -> None:
    with partial.open("wb") as out:
        for chunk in chunks:
            hasher.update(chunk)
            out.write(chunk)


def _moved(data: Mapping[str, Any]) -> tuple[ModelVersion, TransitionRequest | None]:
    request = data.get("request")
    return version_from_json(data["version"]), None if request is None else request_from_json(request)


def decode_floats(value: Any) -> Any:
    """``"NaN"``/``"Infinity"``/``"-Infinity"`` back into floats at any depth (free-form documents: model
    cards, monitoring reports), so they read as they do embedded."""
    if isinstance(value, str):
        return _NON_FINITE.get(value, value)
    if isinstance(value, dict):
        return {k: decode_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_floats(v) for v in value]
    return value


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


def event_from_json(d: Mapping[str, Any]) -> RegistryEvent:
    return RegistryEvent(
        time=float(d["time"]),
        model=d["model"],
        action=d["action"],
        user=d.get("user"),
        version=d.get("version"),
        details=dict(d.get("details") or {}),
        client=d.get("client"),
        user_agent=d.get("user_agent"),
        project=d.get("project"),
        id=d.get("id"),
    )


def webhook_from_json(d: Mapping[str, Any]) -> Webhook:
    return Webhook(
        id=int(d["id"]),
        url=d["url"],
        events=tuple(d.get("events") or ()),
        model=d.get("model"),
        created_by=d.get("created_by"),
        created_at=float(d["created_at"]),
        active=bool(d.get("active", True)),
    )


def delivery_from_json(d: Mapping[str, Any]) -> WebhookDelivery:
    return WebhookDelivery(
        id=int(d["id"]),
        webhook_id=int(d["webhook_id"]),
        event_id=int(d["event_id"]),
        action=d["action"],
        status=d["status"],
        attempts=int(d["attempts"]),
        next_attempt_at=d.get("next_attempt_at"),
        created_at=float(d["created_at"]),
        payload=dict(d.get("payload") or {}),
        log=tuple(
            DeliveryAttempt(
                attempt=int(a["attempt"]),
                time=float(a["time"]),
                status_code=a.get("status_code"),
                error=a.get("error"),
                duration_ms=float(a["duration_ms"]),
            )
            for a in d.get("log") or ()
        ),
    )
