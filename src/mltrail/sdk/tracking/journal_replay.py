"""Replaying journaled calls into a ``Transport``: one record, one journal (``mltrail sync``), many journals.

Every call is safe to send twice (metric batches carry their client id and sequence number, the rest are
upserts), so a record is acknowledged only after the target answered, and resent after any doubt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mltrail.entities import RunStatus
from mltrail.errors import ConflictError, MltrailError, StoreError
from mltrail.sdk.tracking.journal import (
    Journal,
    Record,
    batch_from_record,
    decode_value,
    fingerprint_from_record,
    list_journals,
    read_meta,
)
from mltrail.sdk.tracking.transport import Transport

__all__ = [
    "FatalSendError",
    "JournalResult",
    "is_auth_error",
    "is_permanent",
    "open_free_journals",
    "record_crash",
    "replay",
    "send_record",
    "sync_journal",
]

log = logging.getLogger("mltrail")

CRASH_ERROR = {
    "type": "Crashed",
    "message": "the training process ended without finishing the run; finished from its journal",
    "traceback": "",
}


class FatalSendError(MltrailError):
    """The target refuses every record (a missing or wrong API key, too low a role): stop, do not reject."""


def is_auth_error(exc: BaseException) -> bool:
    return isinstance(exc, MltrailError) and type(exc).http_status in (401, 403)


def is_permanent(exc: BaseException) -> bool:
    """A refusal of this one record that sending again cannot change (a 4xx-type error, a vanished copy)."""
    if isinstance(exc, StoreError) or is_auth_error(exc):
        return False
    return isinstance(exc, MltrailError | FileNotFoundError)


def replay(target: Transport, journal: Journal, record: Record) -> Any:
    """Make the call the record stands for; returns what the target returned."""
    data, run_id = record.data, journal.run_id
    op = record.op
    if op == "create_run":
        return _replay_create(target, run_id, data)
    if op == "log_metrics":
        return target.log_metrics(run_id, batch_from_record(data))
    if op == "set_params":
        return target.set_params(run_id, decode_value(data["config"]))
    if op == "set_tags":
        return target.set_tags(run_id, data["tags"])
    if op == "delete_tags":
        return target.delete_tags(run_id, data["keys"])
    if op == "set_summary":
        return target.set_summary(run_id, decode_value(data["values"]))
    if op == "set_notes":
        return target.set_notes(run_id, data["notes"])
    if op == "update_context":
        return target.update_context(run_id, decode_value(data["context"]))
    if op == "finish_run":
        return target.finish_run(run_id, RunStatus(data["status"]), data["error"], end_time=data["end_time"])
    if op == "log_artifact":
        local = journal.folder / data["file"]
        if not local.exists():
            raise FileNotFoundError(f"the journaled copy {local} is missing")
        return target.log_artifact(run_id, local, data["name"])
    if op == "log_artifact_bytes":
        return target.log_artifact_bytes(run_id, data["path"], (journal.folder / data["file"]).read_bytes())
    if op == "log_table":
        table = (journal.folder / data["file"]).read_bytes()
        return target.log_table(run_id, data["name"], table, data["step"], data["kind"])
    if op == "log_media":
        bundle = (journal.folder / data["file"]).read_bytes()
        return target.log_media(run_id, data["name"], bundle, data["step"])
    if op == "log_dataset":
        return target.log_dataset(run_id, fingerprint_from_record(data["fingerprint"]), data["role"])
    raise ValueError(f"unknown journal record {op!r} at offset {record.offset} of {journal.folder}")


def _replay_create(target: Transport, run_id: str, data: dict[str, Any]) -> Any:
    try:
        return target.create_run(
            run_id=run_id,
            project=data["project"],
            name=data["name"],
            user=data["user"],
            config=decode_value(data["config"]),
            tags=data["tags"],
            notes=data["notes"],
            context=decode_value(data["context"]),
            start_time=data["start_time"],
            resume=bool(data.get("resume", False)),
        )
    except ConflictError:
        # Created by an earlier attempt whose answer was lost: ours if it is the same run.
        existing = target.get_run(run_id)
        if (existing.project, existing.name, existing.start_time) != (
            data["project"],
            data["name"],
            data["start_time"],
        ):
            raise
        return existing


def send_record(target: Transport, journal: Journal, record: Record) -> tuple[bool, Any]:
    """Send one record and move the cursor past it: ``(True, result)`` when the target took it,
    ``(False, error)`` when it refused it for good (then it is kept in ``rejected.jsonl``).

    A transient failure (server unreachable, 5xx, store locked) raises and leaves the cursor; an
    authentication or permission error raises ``FatalSendError``.
    """
    try:
        result = replay(target, journal, record)
    except Exception as exc:
        if is_auth_error(exc):
            raise FatalSendError(str(exc)) from exc
        if not is_permanent(exc):
            raise
        log.warning(
            "mltrail: the target refused %s of run %s (%s: %s); kept in %s",
            record.op,
            journal.run_id,
            type(exc).__name__,
            exc,
            journal.folder / "rejected.jsonl",
        )
        journal.reject(record, exc)
        journal.ack(record.end)
        return False, exc
    journal.ack(record.end)
    if "file" in record.data:
        # Delivered: the copy is not needed any more (a checkpoint copy can be big). Refused ones stay.
        journal.drop_file(str(record.data["file"]))
    return True, result


def record_crash(journal: Journal) -> bool:
    """A journal whose owner died before finishing the run gets a ``crashed`` finish at its last record's
    time. Returns whether it needed one."""
    if journal.finished:
        return False
    end_time = journal.last_time or time.time()
    journal.append(
        {
            "op": "finish_run",
            "t": end_time,
            "status": RunStatus.CRASHED.value,
            "error": CRASH_ERROR,
            "end_time": end_time,
        }
    )
    return True


def open_free_journals(root: Path, server: str | None = None) -> Iterator[Journal | Path]:
    """Each journal folder under ``root``: opened (and locked) when its owner has gone, else its path.

    With ``server``, only journals written for that server are considered.
    """
    for folder in list_journals(root):
        if server is not None:
            wanted = read_meta(folder).get("server")
            if not wanted or str(wanted).rstrip("/") != server.rstrip("/"):
                continue
        journal = Journal.open(folder)
        yield journal if journal is not None else folder


@dataclass
class JournalResult:
    """What ``sync_journal`` did with one journal."""

    run_id: str
    project: str | None
    name: str | None
    folder: str
    sent: int = 0
    points: int = 0
    rejected: int = 0
    left: int = 0
    crashed: bool = False
    in_use: bool = False
    moved_to: str | None = None
    error: str | None = None
    fatal: bool = False

    @property
    def done(self) -> bool:
        return not self.in_use and self.left == 0 and self.error is None


def sync_journal(
    journal: Journal, target: Transport, on_record: Callable[[Record], None] | None = None
) -> JournalResult:
    """Send every unacknowledged record of a journal this process holds, in order; remove it when done.

    Stops at the first failure that is not a refusal of one record (the rest stays for the next sync);
    ``fatal`` tells that the target refused the credentials, so other journals need not be tried.
    """
    meta = journal.meta
    result = JournalResult(
        run_id=journal.run_id,
        project=meta.get("project"),
        name=meta.get("name"),
        folder=str(journal.folder),
    )
    rejected_before = journal.rejected
    try:
        result.crashed = record_crash(journal)
        for record in journal.records():
            try:
                accepted, _ = send_record(target, journal, record)
            except Exception as exc:  # noqa: BLE001 - any transient failure: stop here, keep the rest
                result.error = f"{type(exc).__name__}: {exc}"
                result.fatal = isinstance(exc, FatalSendError)
                break
            if accepted:
                result.sent += 1
                if record.op == "log_metrics":
                    result.points += len(record.data["keys"])
            if on_record is not None:
                on_record(record)
        result.rejected = journal.rejected - rejected_before
        result.left = journal.pending()[0]
        if result.left == 0:
            moved = journal.complete()
            result.moved_to = None if moved is None else str(moved)
    finally:
        journal.release()
    return result
