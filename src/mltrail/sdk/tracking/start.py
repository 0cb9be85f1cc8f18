"""``mltrail.init`` and the active run: start a run, capture its context, finish it however it ends."""

from __future__ import annotations

import atexit
import contextvars
import logging
import os
import re
import sys
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from mltrail.entities import RunStatus
from mltrail.errors import InvalidInputError, MltrailError, NotFoundError
from mltrail.sdk.capture.console import ConsoleCapture
from mltrail.sdk.capture.environment import capture_command, capture_environment, entry_script_source
from mltrail.sdk.capture.git import capture_git
from mltrail.sdk.capture.options import CaptureOptions
from mltrail.sdk.capture.system import SystemMetricsSampler
from mltrail.sdk.client.connection import Connection, connect
from mltrail.sdk.client.identity import local_user
from mltrail.sdk.tracking.names import generate_run_name
from mltrail.sdk.tracking.run import Run
from mltrail.sdk.tracking.transport import Transport
from mltrail.settings import Settings

__all__ = ["active_run", "finish", "init", "log"]

log_ = logging.getLogger("mltrail")
_RUN_ID = re.compile(r"[0-9A-Za-z_-]{8,64}")
# The tag that groups the runs of one job (a sweep, the workers of a DDP job): ``tags.mltrail.group``.
GROUP_TAG = "mltrail.group"

# The active run is context-local (threads and asyncio tasks started later see their own context).
_active: contextvars.ContextVar[Run | None] = contextvars.ContextVar("mltrail_active_run", default=None)
# Runs still open in this process, so interpreter exit and uncaught exceptions can finish them.
_open_runs: weakref.WeakSet[Run] = weakref.WeakSet()
_hooks_lock = threading.Lock()
_hooks_installed = False


def init(
    project: str | None = None,
    *,
    name: str | None = None,
    config: Mapping[str, Any] | None = None,
    tags: list[str] | Mapping[str, Any] | None = None,
    notes: str | None = None,
    capture: bool | Mapping[str, bool] | CaptureOptions | None = None,
    settings: Settings | None = None,
    transport: Transport | None = None,
    server: str | None = None,
    id: str | None = None,
    resume: bool = False,
    group: str | None = None,
) -> Run:
    """Start a run and make it the active one.

    ``project`` defaults to ``MLTRAIL_PROJECT`` or the name of the working directory. ``config`` may nest
    dicts; they are stored flattened with dots (``model.depth``). ``tags`` is a list of labels or a mapping
    of key → value. ``capture`` switches automatic capture on or off (see ``CaptureOptions``). ``server``
    (default ``MLTRAIL_SERVER``) logs to a team server over HTTP instead of the embedded store, through an
    on-disk journal (``MLTRAIL_JOURNAL_DIR``), so nothing is lost while the server is unreachable.
    ``group`` names the job the run belongs to (a sweep, the workers of a distributed job): it is the tag
    ``mltrail.group``, so ``--filter 'tags.mltrail.group = "sweep-3"'`` lists the job's runs.
    """
    settings = settings or Settings.from_env()
    connection: Connection | None = None
    if transport is None and settings.mode == "disabled":
        from mltrail.sdk.tracking.null import NullTransport

        transport, capture = NullTransport(), False
    elif transport is None:
        connection = connect(server, settings=settings)
        transport = connection.run_transport()
    options = CaptureOptions.resolve(capture, settings.capture)
    project = project or settings.project or Path.cwd().name or "default"
    if resume and not id:
        raise InvalidInputError(
            "resume=True continues a run: give its id (init(id=..., resume=True))", field="id"
        )
    if id is not None and not _RUN_ID.fullmatch(id):
        raise InvalidInputError("a run id is 8-64 letters, digits, '-' or '_'", field="id")
    run_id = id or uuid.uuid4().hex
    user = local_user(settings)
    context, artifacts = _capture_context(options)
    run_tags = dict.fromkeys(tags, "") if isinstance(tags, list | tuple) else dict(tags or {})
    if group is not None:
        if not isinstance(group, str) or not group.strip():
            raise InvalidInputError("group must be a non-empty string", field="group")
        run_tags[GROUP_TAG] = group
    created = transport.create_run(
        run_id=run_id,
        project=project,
        name=name or generate_run_name(),
        user=user,
        config=config or {},
        tags={k: "" if v is None else str(v) for k, v in run_tags.items()},
        notes=notes,
        context=context,
        start_time=time.time(),
        resume=resume,
    )
    run = Run(
        transport=transport,
        run_id=run_id,
        project=project,
        name=created.name,
        config=config or {},
        flush_interval=settings.flush_interval,
        heartbeat_interval=settings.heartbeat_interval,
        sync_timeout=settings.sync_timeout,
    )
    run._connection, run._user = connection, user
    if created.metrics:  # a resumed run: steps go on from the last one logged
        run._next_step = max(m.last_step for m in created.metrics.values()) + 1
    for path, data in artifacts.items():
        try:
            transport.log_artifact_bytes(run_id, path, data)
        except MltrailError as exc:
            log_.warning("mltrail: could not store %s: %s", path, exc)
    if options.console:
        _start_console_capture(run, settings)
    if options.system_metrics:
        sampler = SystemMetricsSampler(run._log_system, interval=settings.system_metrics_interval)
        sampler.start()
        run._finalizers.append(sampler.stop)
    _install_exit_hooks()
    _open_runs.add(run)
    token = _active.set(run)
    run._finalizers.append(lambda: _deactivate(run, token))
    return run


def active_run() -> Run | None:
    """The run started by the latest ``init`` in this context that has not finished."""
    return _active.get()


def log(data: Mapping[str, Any], step: int | None = None) -> None:
    """``run.log`` on the active run."""
    run = _active.get()
    if run is None:
        raise NotFoundError("no active run: call mltrail.init() first")
    run.log(data, step=step)


def finish(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """Finish the active run."""
    run = _active.get()
    if run is None:
        raise NotFoundError("no active run to finish")
    run.finish(status)


def _deactivate(run: Run, token: contextvars.Token[Run | None]) -> None:
    _open_runs.discard(run)
    if _active.get() is run:
        try:
            _active.reset(token)
        except ValueError:  # finished from another context: just clear this one
            _active.set(None)


def _capture_context(options: CaptureOptions) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The run's context and the files to store with it (diff, entry script)."""
    context: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    command = capture_command()
    if options.environment:
        context["command"] = command
        context["environment"] = capture_environment()
    if options.git:
        git = capture_git(Path.cwd())
        context["git"] = git.info
        if git.patch:
            files["code/diff.patch"] = git.patch
            context["git"]["patch_artifact"] = "code/diff.patch"
    if options.code:
        script = command.get("entry_script")
        source = entry_script_source(Path(script)) if script else None
        if source is not None and script:
            path = f"code/{Path(script).name}"
            files[path] = source
            context["code"] = {"entry_script": script, "artifact": path}
        else:
            context["code"] = {"skipped": "no entry script (interactive session or -c)"}
    return context, files


def _start_console_capture(run: Run, settings: Settings) -> None:
    handle, name = tempfile.mkstemp(prefix=f"mltrail-{run.id[:8]}-", suffix=".log")
    os.close(handle)
    path = Path(name)
    console = ConsoleCapture(path)
    console.start()

    def upload() -> None:
        console.stop()
        try:
            if path.stat().st_size:
                run._transport.log_artifact(run.id, path, "logs/output.log")
        finally:
            path.unlink(missing_ok=True)

    run._finalizers.append(upload)


def _install_exit_hooks() -> None:
    """Finish open runs at interpreter exit; an uncaught exception marks them failed with that exception."""
    global _hooks_installed
    with _hooks_lock:
        if _hooks_installed:
            return
        _hooks_installed = True
        previous = sys.excepthook

        def excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
            for run in list(_open_runs):
                try:
                    run.finish(RunStatus.FAILED, error=exc)
                except MltrailError as err:
                    log_.warning("mltrail: %s", err)
            previous(exc_type, exc, tb)

        sys.excepthook = excepthook
        atexit.register(_finish_open_runs)


def _finish_open_runs() -> None:
    for run in list(_open_runs):
        try:
            run.finish()
        except MltrailError as exc:
            print(f"mltrail: {exc}", file=sys.stderr)
