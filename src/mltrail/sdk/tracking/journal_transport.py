"""``JournalingTransport``: every call of a run lands in its on-disk journal and returns at once; a background
sender delivers the journals to the target in order, retrying while it is unreachable.

``target=None`` (``MLTRAIL_MODE=offline``) only journals; ``mltrail sync`` uploads later. Nothing here
does network I/O in the caller's thread except ``create_run`` (one short attempt, so a bad key or bad input
fails at ``mltrail.init``), ``get_run``, and ``log_dataset``'s bounded wait for the server's version number.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from mltrail.entities import (
    Artifact,
    DatasetLink,
    DatasetVersion,
    Fingerprint,
    MetricsBatch,
    Run,
    RunMedia,
    RunStatus,
    RunTable,
)
from mltrail.errors import ConflictError, InvalidInputError, StoreError
from mltrail.sdk.tracking.journal import Journal, encode_value, fingerprint_to_record, metrics_record
from mltrail.sdk.tracking.journal_sender import JournalSender
from mltrail.sdk.tracking.transport import Transport
from mltrail.services.tracking.media_check import validate_media_name
from mltrail.services.tracking.table_data import validate_table_name
from mltrail.services.tracking.validation import (
    DATASET_ROLES,
    artifact_files,
    clean_tags,
    flatten_config,
    normalize_artifact_path,
    to_value,
    validate_key,
)

__all__ = ["JournalingTransport", "close_journaling_transports", "journaling_transport"]

log = logging.getLogger("mltrail")

CHUNK = 1 << 20


class _Closeable(Protocol):
    def close(self) -> None: ...


class JournalingTransport:
    """A ``Transport`` that journals first, e.g. ``JournalingTransport(HttpTransport(url), journal_dir)``.

    ``probe`` (default ``target``) makes the synchronous ``create_run`` attempt and ``get_run``; give it a
    short timeout. ``server`` is recorded in each journal's ``meta.json``; when online, leftover journals of
    that server whose process has gone are adopted and uploaded in the background.
    """

    def __init__(
        self,
        target: Transport | None,
        journal_dir: Path,
        *,
        server: str | None = None,
        probe: Transport | None = None,
        fsync: bool = True,
        max_backoff: float = 2.0,
        result_timeout: float = 5.0,
        adopt: bool = True,
        owned: Sequence[_Closeable] = (),
    ) -> None:
        self.target = target
        self.probe = probe if probe is not None else target
        self.journal_dir = Path(journal_dir).expanduser()
        self.server = server.rstrip("/") if server else None
        self.fsync = fsync
        self.result_timeout = result_timeout
        self._owned = list(owned)
        self._sender = JournalSender(
            target, self.journal_dir, server=self.server, max_backoff=max_backoff, adopt=adopt
        )

    @property
    def offline(self) -> bool:
        return self.target is None

    # -- the Transport protocol -------------------------------------------------------------------------
    def create_run(
        self,
        *,
        run_id: str,
        project: str,
        name: str,
        user: str | None,
        config: Mapping[str, Any],
        tags: Mapping[str, str],
        notes: str | None,
        context: Mapping[str, Any],
        start_time: float,
        resume: bool = False,
    ) -> Run:
        # The checks the store would make, so bad input fails here even when nothing can be sent.
        validate_key(project, "project")
        validate_key(name, "name")
        params = flatten_config(config)
        tag_values = clean_tags(tags)
        meta = {
            "run_id": run_id,
            "project": project,
            "name": name,
            "server": self.server,
            "created": time.time(),
            "pid": os.getpid(),
        }
        try:
            journal = Journal.create(self.journal_dir, run_id, meta, fsync=self.fsync)
        except FileExistsError:
            raise ConflictError(
                f"run {run_id} still has a journal at {self.journal_dir / run_id} that the server has not"
                " acknowledged: run `mltrail sync` first, then resume it"
            ) from None
        record = journal.append(
            {
                "op": "create_run",
                "t": time.time(),
                "project": project,
                "name": name,
                "user": user,
                "config": encode_value(dict(config)),
                "tags": tag_values,
                "notes": notes,
                "context": encode_value(dict(context)),
                "start_time": start_time,
                "resume": resume,
            }
        )
        created: Run | None = None
        if self.probe is not None:
            try:
                created = self.probe.create_run(
                    run_id=run_id,
                    project=project,
                    name=name,
                    user=user,
                    config=config,
                    tags=tag_values,
                    notes=notes,
                    context=context,
                    start_time=start_time,
                    resume=resume,
                )
            except StoreError as exc:
                log.warning(
                    "mltrail: %s is unreachable (%s); run %s is journaled in %s and sent when it answers",
                    self.server or "the server",
                    exc,
                    run_id,
                    journal.folder,
                )
            except BaseException:
                journal.complete()  # refused (bad key, bad input): nothing of this run may linger
                raise
            else:
                journal.ack(record.end)
        self._sender.add(journal, project)
        if created is not None:
            return created
        return Run(
            id=run_id,
            project=project,
            name=name,
            status=RunStatus.RUNNING,
            user=user,
            start_time=start_time,
            heartbeat_at=start_time,
            notes=notes,
            params=params,
            tags=tag_values,
            context=dict(context),
        )

    def log_metrics(self, run_id: str, batch: MetricsBatch) -> None:
        self._append(run_id, "log_metrics", metrics_record(batch))

    def set_params(self, run_id: str, config: Mapping[str, Any]) -> None:
        flatten_config(config)  # raises on a bad key, as the store would
        self._append(run_id, "set_params", {"config": encode_value(dict(config))})

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        self._append(run_id, "set_tags", {"tags": clean_tags(tags)})

    def delete_tags(self, run_id: str, keys: Sequence[str]) -> None:
        self._append(run_id, "delete_tags", {"keys": list(keys)})

    def set_summary(self, run_id: str, values: Mapping[str, Any]) -> None:
        clean = {validate_key(k, "summary"): to_value(v) for k, v in values.items()}
        self._append(run_id, "set_summary", {"values": encode_value(clean)})

    def set_notes(self, run_id: str, notes: str) -> None:
        self._append(run_id, "set_notes", {"notes": notes})

    def update_context(self, run_id: str, context: Mapping[str, Any]) -> None:
        self._append(run_id, "update_context", {"context": encode_value(dict(context))})

    def heartbeat(self, run_id: str) -> None:
        """Not journaled: the sender sends it once the run's journal is caught up (never when offline)."""
        self._sender.want_heartbeat(run_id)

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        error: Mapping[str, str] | None,
        end_time: float | None = None,
    ) -> None:
        now = time.time()
        fields = {
            "status": RunStatus(status).value,
            "error": None if error is None else dict(error),
            "end_time": now if end_time is None else end_time,
        }
        self._append(run_id, "finish_run", fields, at=now)
        state = self._sender.remove(run_id) if self.offline else None
        if state is not None:
            state.journal.release()  # nothing more will come: `mltrail sync` may take it from now on
            log.warning(
                "mltrail: offline mode: run %s is kept in %s; upload it with `mltrail sync`",
                run_id,
                state.journal.folder,
            )

    def log_artifact(self, run_id: str, local: Path, name: str | None) -> list[Artifact]:
        """Copy the file or folder into the journal now (the original may change) and journal the copy."""
        source = Path(local)
        files = artifact_files(source)
        base = normalize_artifact_path(name if name is not None else source.name)
        journal = self._sender.get(run_id).journal
        relative, slot = journal.new_file()
        copy = slot / (source.name or "artifact")
        now = time.time()
        artifacts: list[Artifact] = []
        if files == [source]:
            digest, size = _copy_hashing(source, copy)
            artifacts.append(Artifact(run_id, base, digest, size, now))
        else:
            copy.mkdir()
            for file in files:
                rel = file.relative_to(source)
                digest, size = _copy_hashing(file, copy / rel)
                path = normalize_artifact_path(f"{base}/{rel.as_posix()}")
                artifacts.append(Artifact(run_id, path, digest, size, now))
        self._append(run_id, "log_artifact", {"file": f"{relative}/{copy.name}", "name": name}, at=now)
        return artifacts

    def log_artifact_bytes(self, run_id: str, path: str, data: bytes) -> Artifact:
        clean = normalize_artifact_path(path)
        journal = self._sender.get(run_id).journal
        relative, slot = journal.new_file()
        (slot / "data").write_bytes(data)
        now = time.time()
        self._append(run_id, "log_artifact_bytes", {"path": path, "file": f"{relative}/data"}, at=now)
        return Artifact(run_id, clean, hashlib.sha256(data).hexdigest(), len(data), now)

    def log_table(self, run_id: str, name: str, data: bytes, step: int | None, kind: str) -> RunTable:
        """Journaled like an artifact; the record returned has no figures (the server computes them on
        delivery) and step −1 when the server picks it."""
        validate_table_name(name)
        journal = self._sender.get(run_id).journal
        relative, slot = journal.new_file()
        (slot / "table.parquet").write_bytes(data)
        fields = {"name": name, "step": step, "kind": kind, "file": f"{relative}/table.parquet"}
        self._append(run_id, "log_table", fields)
        digest = hashlib.sha256(data).hexdigest()
        return RunTable(run_id, name, -1 if step is None else step, kind, digest, len(data), 0, [])

    def log_media(self, run_id: str, name: str, bundle: bytes, step: int | None) -> RunMedia:
        """Journaled like a table (the item was checked by ``Run`` already; the server checks it again)."""
        validate_media_name(name)
        journal = self._sender.get(run_id).journal
        relative, slot = journal.new_file()
        (slot / "media.json").write_bytes(bundle)
        self._append(run_id, "log_media", {"name": name, "step": step, "file": f"{relative}/media.json"})
        return RunMedia(run_id, name, -1 if step is None else step, "", [])

    def log_dataset(self, run_id: str, fingerprint: Fingerprint, role: str) -> DatasetLink:
        """Journaled like the rest; online, waits up to ``result_timeout`` for the server's version number,
        else returns the link with ``id`` and ``version`` 0 (assigned when the journal is delivered)."""
        if role not in DATASET_ROLES:
            raise InvalidInputError(
                f"role must be one of {', '.join(DATASET_ROLES)}, got {role!r}", field="role"
            )
        validate_key(fingerprint.name, "dataset")
        state = self._sender.get(run_id)
        fields = {"fingerprint": fingerprint_to_record(fingerprint), "role": role}
        record_end = self._append(run_id, "log_dataset", fields)
        # Only a healthy journal is worth waiting for; one in backoff would just cost the caller time.
        if not self.offline and state.failures == 0:
            found = self._sender.wait_result(state, record_end, self.result_timeout)
            if isinstance(found, DatasetLink):
                return found
        version = DatasetVersion(
            id=0,
            project=state.project,
            name=fingerprint.name,
            version=0,
            digest=fingerprint.digest,
            source=fingerprint.source,
            kind=fingerprint.kind,
            num_rows=fingerprint.num_rows,
            num_bytes=fingerprint.num_bytes,
            schema=list(fingerprint.schema),
            summary=dict(fingerprint.summary),
            created_at=time.time(),
        )
        return DatasetLink(run_id=run_id, role=role, dataset=version)

    def get_run(self, run_id: str) -> Run:
        if self.probe is None:
            raise StoreError("offline mode (MLTRAIL_MODE=offline): a run can be read after `mltrail sync`")
        return self.probe.get_run(run_id)

    # -- delivery ---------------------------------------------------------------------------------------
    def wait_delivered(self, run_id: str, timeout: float) -> int:
        """Wait until the target has every record of the run journaled so far; returns how many are left."""
        return self._sender.wait_delivered(run_id, timeout)

    def settle(self, run_id: str, timeout: float) -> int:
        """After a run's finish: wait up to ``timeout`` for its delivery; warn once if records are left."""
        left = self._sender.wait_delivered(run_id, timeout)
        if left:
            log.warning(
                "mltrail: %d journaled calls of run %s have not reached %s yet; they are safe in %s and are"
                " sent in the background while this process lives. After it ends, run `mltrail sync`.",
                left,
                run_id,
                self.server or "the server",
                self.journal_dir / run_id,
            )
        return left

    def _append(self, run_id: str, op: str, fields: Mapping[str, Any], *, at: float | None = None) -> int:
        record = self._sender.get(run_id).journal.append(
            {"op": op, "t": time.time() if at is None else at, **fields}
        )
        self._sender.wake()
        return record.end

    def close(self) -> None:
        """Stop the sender and release the journals (they stay on disk for the next run or `mltrail sync`)."""
        self._sender.close()
        for owned in self._owned:
            owned.close()


def _copy_hashing(source: Path, dest: Path) -> tuple[str, int]:
    """Copy a file and return its sha256 and size, reading it once."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as src, dest.open("wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


_shared: dict[tuple[bool, str | None, str | None, str, int], JournalingTransport] = {}
_shared_lock = threading.Lock()


def journaling_transport(
    journal_dir: Path, server: str | None, api_key: str | None = None, *, offline: bool = False
) -> JournalingTransport:
    """One journaling transport per (mode, server, key, journal folder) in this process, shared by its runs.

    Online, it sends through an ``HttpTransport`` making one attempt per call (the sender does the
    retrying) and creates runs through a second one with a short timeout and few attempts.
    """
    folder = Path(journal_dir).expanduser().absolute()
    url = server.rstrip("/") if server else None
    key = (offline or url is None, url, api_key, str(folder), os.getpid())
    with _shared_lock:
        transport = _shared.get(key)
        if transport is None:
            if offline or url is None:
                transport = JournalingTransport(None, folder, server=url)
            else:
                from mltrail.sdk.tracking.http import HttpTransport

                target = HttpTransport(url, api_key, attempts=1, timeout=30.0)
                probe = HttpTransport(url, api_key, attempts=2, timeout=5.0, backoff=0.2, max_backoff=1.0)
                transport = JournalingTransport(
                    target, folder, server=url, probe=probe, owned=(target, probe)
                )
            _shared[key] = transport
        return transport


def close_journaling_transports() -> None:
    """Stop every shared journaling transport of this process (tests; tools switching servers)."""
    with _shared_lock:
        transports = list(_shared.values())
        _shared.clear()
    for transport in transports:
        transport.close()
