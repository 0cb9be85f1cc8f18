"""``mltrail.models``: save, register, find, promote and load models, embedded or on a team server.

::

    version = mltrail.models.register("churn", run=run, model=clf, input_example=X[:20])  # saved with skops
    version = mltrail.models.register("churn", run=run, path="model")    # a folder the run logged already
    model = mltrail.models.load("churn@production")                      # also "churn:3", "churn@champion"
    model.predict(X_test)

Every file is verified against the sha256 recorded at registration before anything is deserialized, and a
format that executes code on load (pickle) loads only with ``trust=True``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mltrail.entities import ModelVersion, RegisteredModel, TransitionRequest
from mltrail.errors import InvalidInputError, NotFoundError
from mltrail.sdk.client.connection import connect
from mltrail.sdk.client.identity import local_user
from mltrail.sdk.flavors import LoadedModel, infer_signature, load_model, save_model
from mltrail.sdk.flavors.meta import META_FILE
from mltrail.sdk.registry.client import RegistryClient
from mltrail.sdk.tracking.run import Run
from mltrail.sdk.tracking.start import active_run
from mltrail.settings import Settings

__all__ = [
    "approve",
    "client",
    "get",
    "get_model",
    "infer_signature",
    "list_models",
    "load",
    "load_model",
    "register",
    "reject",
    "requests",
    "save_model",
    "transition",
]


def client(
    *, server: str | None = None, settings: Settings | None = None, run: Run | None = None
) -> RegistryClient:
    """The registry a call talks to: the run's own store or server when given, else ``connect()``'s:
    ``server`` or ``MLTRAIL_SERVER`` (with ``MLTRAIL_API_KEY``), else the embedded store of ``settings``."""
    if run is not None and server is None and run._connection is not None:
        return run._connection.registry(run._user)
    settings = settings or Settings.from_env()
    # The connection is shared by the process; who acts is the caller's (``MLTRAIL_USER`` as it is now).
    return connect(server, settings=settings).registry(local_user(settings))


def register(
    name: str,
    *,
    run: Run | str | None = None,
    path: str | os.PathLike[str] = "model",
    model: Any = None,
    flavor: str | None = None,
    input_example: Any = None,
    format: str | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    server: str | None = None,
    settings: Settings | None = None,
) -> ModelVersion:
    """Register a new version of ``name`` from a run (default: the active run).

    - ``model=`` an object: it is saved with ``save_model`` (flavor detected, signature inferred from
      ``input_example``) and logged to the run under ``path``, then registered;
    - ``path=`` a local folder written by ``save_model``: it is logged to the run under its folder name;
    - otherwise ``path`` is the artifact path of a model folder the run has logged already.

    The model is created in the run's project on first registration.
    """
    target = run if run is not None else active_run()
    if target is None:
        raise InvalidInputError("register needs a run: pass run= or call mltrail.init() first", field="run")
    artifact_path = str(path).strip("/") or "model"
    if isinstance(target, Run):
        if model is not None:
            with tempfile.TemporaryDirectory(prefix="mltrail-model-") as tmp:
                folder = Path(tmp) / Path(artifact_path).name
                save_model(model, folder, flavor=flavor, input_example=input_example, format=format)
                target.log_artifact(folder, name=artifact_path)
                target.flush()
        elif Path(path).is_dir() and (Path(path) / META_FILE).is_file():
            artifact_path = Path(path).resolve().name
            target.log_artifact(Path(path), name=artifact_path)
            target.flush()
        else:
            target.flush()  # the folder may still be on its way to the server
        run_id = target.id
        registry = client(server=server, settings=settings, run=target)
    else:
        if model is not None:
            raise InvalidInputError("model= needs a Run object to log the saved model to", field="model")
        run_id = target
        registry = client(server=server, settings=settings)
    return registry.register(name, run_id, artifact_path, description, tags)


def get(ref: str, *, server: str | None = None, settings: Settings | None = None) -> ModelVersion:
    """The version ``ref`` names: ``churn:3``, ``churn@champion``, ``churn@production`` or ``churn``."""
    return client(server=server, settings=settings).resolve(ref)


def get_model(name: str, *, server: str | None = None, settings: Settings | None = None) -> RegisteredModel:
    return client(server=server, settings=settings).get_model(name)


def list_models(
    project: str | None = None, *, server: str | None = None, settings: Settings | None = None
) -> list[RegisteredModel]:
    return client(server=server, settings=settings).list_models(project)


def load(
    ref: str,
    *,
    trust: bool = False,
    trusted_types: Iterable[str] = (),
    check_signature: bool = False,
    dest: str | os.PathLike[str] | None = None,
    server: str | None = None,
    settings: Settings | None = None,
) -> LoadedModel:
    """Download the version ``ref`` names (every file checked against its registered sha256) and load it.

    The download is recorded in the registry's audit trail. ``dest`` keeps the files (an empty or new
    folder); by default they go to a temporary folder removed once loaded.
    """
    registry = client(server=server, settings=settings)
    version = registry.resolve(ref)
    if dest is not None:
        folder = Path(dest)
        if folder.exists() and any(folder.iterdir()):
            raise InvalidInputError(f"{folder} is not empty", field="dest")
        # Downloaded, verified and loaded in a staging folder beside ``dest``, then moved in: a tampered
        # file leaves nothing behind, so a retry does not fail on "not empty".
        folder.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{folder.name}-", dir=folder.parent) as tmp:
            staging = Path(tmp)
            registry.download(version, staging)
            loaded = _load(staging, version, trust, trusted_types, check_signature)
            folder.mkdir(exist_ok=True)
            for entry in staging.iterdir():
                entry.rename(folder / entry.name)
        return loaded
    with tempfile.TemporaryDirectory(prefix="mltrail-load-") as tmp:
        registry.download(version, Path(tmp))
        return _load(Path(tmp), version, trust, trusted_types, check_signature)


def _load(
    folder: Path, version: ModelVersion, trust: bool, trusted_types: Iterable[str], check_signature: bool
) -> LoadedModel:
    return load_model(
        folder,
        trust=trust,
        trusted_types=trusted_types,
        check_signature=check_signature,
        expected_digest=version.digest,
    )


def transition(
    name: str,
    version: int,
    *,
    to: str,
    comment: str | None = None,
    server: str | None = None,
    settings: Settings | None = None,
) -> tuple[ModelVersion, TransitionRequest | None]:
    """Move a version to the stage ``to`` (none, staging, production, archived) or point the alias ``to`` at
    it. A protected target opens a request instead (returned second) that waits for approval."""
    registry = client(server=server, settings=settings)
    is_stage = to in ("none", "staging", "production", "archived")
    return registry.transition(
        name, version, stage=to if is_stage else None, alias=None if is_stage else to, comment=comment
    )


def _pending(registry: RegistryClient, name: str, version: int) -> TransitionRequest:
    found = [r for r in registry.list_requests(name, "pending") if r.version == version]
    if not found:
        raise NotFoundError(f"{name}:{version} has no pending transition request")
    if len(found) > 1:
        raise InvalidInputError(
            f"{name}:{version} has {len(found)} pending requests ({', '.join(str(r.id) for r in found)});"
            " pass request=",
            field="request",
        )
    return found[0]


def approve(
    name: str,
    version: int,
    *,
    comment: str | None = None,
    request: int | None = None,
    server: str | None = None,
    settings: Settings | None = None,
) -> TransitionRequest:
    """Approve the pending request of a version (as someone other than its requester)."""
    return _decide(name, version, True, comment, request, client(server=server, settings=settings))


def reject(
    name: str,
    version: int,
    *,
    comment: str | None = None,
    request: int | None = None,
    server: str | None = None,
    settings: Settings | None = None,
) -> TransitionRequest:
    """Reject the pending request of a version, saying why in ``comment``."""
    return _decide(name, version, False, comment, request, client(server=server, settings=settings))


def _decide(
    name: str, version: int, approve: bool, comment: str | None, request: int | None, registry: RegistryClient
) -> TransitionRequest:
    """Decide the request given, else the version's one pending request."""
    request_id = request if request is not None else _pending(registry, name, version).id
    return registry.decide(request_id, approve=approve, comment=comment)


def requests(
    model: str | None = None,
    *,
    status: str = "pending",
    server: str | None = None,
    settings: Settings | None = None,
) -> list[TransitionRequest]:
    """Transition requests (the approvals inbox), newest first; ``status="all"`` for every one."""
    return client(server=server, settings=settings).list_requests(model, status)
