"""A run's on-disk journal: every call of the run, appended before it is sent and kept until acknowledged.

One folder per run, ``<journal_dir>/<run_id>/``:

- ``journal.log``: records framed as ``[u32 length][u32 crc32][orjson payload]`` (little-endian). A torn or
  corrupt record (the process was killed mid-write, a flipped byte) ends the readable part; what follows it
  is ignored, and set aside in ``torn-<offset>.bin`` before anything is appended again.
- ``acked``: the byte offset up to which the target has acknowledged the records, replaced atomically.
- ``meta.json``: run id, project, name, server, creation time and pid of the process that wrote it.
- ``lock``: held by the live process that owns the run (``filelock``: ``flock`` on POSIX, ``LockFileEx`` on
  Windows; the system frees it when the process dies), so ``mltrail sync`` leaves it alone.
- ``files/``: copies of logged artifacts, taken when they were journaled (the originals may change or go).
- ``rejected.jsonl``: records the target refused for good (a 4xx), one JSON line each with the error.

A payload is a JSON object whose first key is ``op`` (the Transport method) and second ``t`` (wall time).
JSON has no NaN or infinity, so non-finite floats inside values are written as ``{"__float__": "NaN"}`` and
metric values as the HTTP API writes them (``"NaN"``, ``"Infinity"``, ``"-Infinity"``).
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from mltrail.entities import Fingerprint, MetricsBatch
from mltrail.json_floats import NON_FINITE, decode_float, encode_float
from mltrail.sdk.http_codec import encode_values

if TYPE_CHECKING:
    from filelock import BaseFileLock

__all__ = [
    "Journal",
    "Record",
    "batch_from_record",
    "decode_value",
    "encode_value",
    "fingerprint_from_record",
    "fingerprint_to_record",
    "frame",
    "list_journals",
    "metrics_record",
    "read_frames",
    "read_meta",
]

LOG = "journal.log"
CURSOR = "acked"
META = "meta.json"
LOCK = "lock"
FILES = "files"
REJECTED = "rejected.jsonl"

_HEADER = struct.Struct("<II")
_MAX_RECORD = 1 << 30  # a length above this is corruption, not a record
_FLOAT_TAG = "__float__"
_PEEK = re.compile(rb'^\{"op":"([a-z_]+)","t":(-?[0-9.eE+-]+)[,}]')


# -- the record format -------------------------------------------------------------------------------------
def frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def read_frames(fh: BinaryIO, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, int, bytes]]:
    """``(offset, end, payload)`` of each intact frame from ``start``; stops at a torn or corrupt one."""
    fh.seek(start)
    offset = start
    while stop is None or offset < stop:
        header = fh.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        length, crc = _HEADER.unpack(header)
        if length > _MAX_RECORD:
            return
        payload = fh.read(length)
        if len(payload) < length or zlib.crc32(payload) != crc:
            return
        end = offset + _HEADER.size + length
        yield offset, end, payload
        offset = end


def encode_value(value: Any) -> Any:
    """A JSON-ready copy of a params/summary/context value; non-finite floats tagged so they survive."""
    if isinstance(value, float):
        encoded = encode_float(value)
        return encoded if isinstance(encoded, float) else {_FLOAT_TAG: encoded}
    if isinstance(value, Mapping):
        return {str(k): encode_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and value.get(_FLOAT_TAG) in NON_FINITE:
            return decode_float(value[_FLOAT_TAG])
        return {k: decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    return value


def metrics_record(batch: MetricsBatch) -> dict[str, Any]:
    return {
        "keys": batch.keys,
        "steps": batch.steps,
        "values": encode_values(batch.values),
        "wall_times": batch.wall_times,
        "client_id": batch.client_id,
        "seq": batch.seq,
    }


def batch_from_record(data: Mapping[str, Any]) -> MetricsBatch:
    values = data["values"]
    if any(isinstance(v, str) for v in values):
        values = [decode_float(v) for v in values]
    return MetricsBatch(
        keys=data["keys"],
        steps=data["steps"],
        values=values,
        wall_times=data["wall_times"],
        client_id=data["client_id"],
        seq=data["seq"],
    )


def fingerprint_to_record(fp: Fingerprint) -> dict[str, Any]:
    return {
        "name": fp.name,
        "digest": fp.digest,
        "kind": fp.kind,
        "source": fp.source,
        "num_rows": fp.num_rows,
        "num_bytes": fp.num_bytes,
        "schema": encode_value(list(fp.schema)),
        "summary": encode_value(dict(fp.summary)),
        "profile": None if fp.profile is None else base64.b64encode(fp.profile).decode("ascii"),
    }


def fingerprint_from_record(data: Mapping[str, Any]) -> Fingerprint:
    return Fingerprint(
        name=data["name"],
        digest=data["digest"],
        kind=data["kind"],
        source=data["source"],
        num_rows=data["num_rows"],
        num_bytes=data["num_bytes"],
        schema=decode_value(data["schema"]),
        summary=decode_value(data["summary"]),
        # journals written before profiles were kept have none
        profile=None if data.get("profile") is None else base64.b64decode(data["profile"]),
    )


@dataclass(frozen=True, slots=True)
class Record:
    """One journaled call: its byte range in the log and its payload."""

    offset: int
    end: int
    data: dict[str, Any]

    @property
    def op(self) -> str:
        return str(self.data["op"])

    @property
    def size(self) -> int:
        return self.end - self.offset


def _peek(payload: bytes) -> tuple[str, float | None]:
    """The op and time of a payload without decoding all of it (a metrics batch can be megabytes)."""
    match = _PEEK.match(payload[:120])
    if match:
        return match.group(1).decode(), float(match.group(2))
    data = orjson.loads(payload)
    return str(data.get("op")), data.get("t")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def read_meta(folder: Path) -> dict[str, Any]:
    try:
        meta = orjson.loads((folder / META).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def list_journals(root: Path) -> list[Path]:
    """Journal folders under ``root``, oldest first."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if (p / META).is_file() and (p / LOG).is_file()]
    return sorted(found, key=lambda p: (float(read_meta(p).get("created") or 0.0), p.name))


def _try_lock(folder: Path, create: bool) -> BaseFileLock | None:
    """The journal's lock, taken without waiting; None while a live process holds it (this one included:
    each call opens the file anew, and ``flock`` excludes every other open file). Without ``create`` only
    an existing lock file is taken, so taking the lock of a journal completed meanwhile does not make its
    folder again."""
    # Imported here: only journaling runs (a team server) and `mltrail sync` need it (~20 ms to import).
    from filelock import FileLock, Timeout

    path = folder / LOCK
    if not create and not path.is_file():
        return None
    # Not thread-local: the sender thread releases what the run's thread took. No soft fallback (a marker
    # file a dead process would leave behind): the owner must be the one the system frees at its death.
    lock = FileLock(path, thread_local=False, fallback_to_soft=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock


# -- one run's journal -------------------------------------------------------------------------------------
class Journal:
    """A run's journal folder, locked by this process. Appends may come from several threads."""

    def __init__(self, folder: Path, lock: BaseFileLock, *, fsync: bool = True) -> None:
        self.folder = folder
        self.run_id = folder.name
        self.fsync = fsync
        self._lock: BaseFileLock | None = lock
        self._write_lock = threading.Lock()
        self._fd: int | None = None
        self.meta = read_meta(folder)
        # What a scan of the log found: where the intact records end, whether the run recorded its finish,
        # the time of the last record.
        self.end = 0
        self.finished = False
        self.last_time: float | None = None
        self.acked = 0
        self._scan()

    # -- opening -------------------------------------------------------------------------------------------
    @classmethod
    def create(cls, root: Path, run_id: str, meta: Mapping[str, Any], *, fsync: bool = True) -> Journal:
        """A new journal for a new run (the folder must not exist), locked by this process."""
        folder = root / run_id
        folder.mkdir(parents=True, mode=0o700)  # params, context and artifacts: the user's eyes only
        lock = _try_lock(folder, create=True)
        if lock is None:  # pragma: no cover - a folder we just made cannot be locked by anyone else
            raise OSError(f"cannot lock the new journal {folder}")
        _write_atomic(folder / META, orjson.dumps(dict(meta)))
        (folder / LOG).touch()
        return cls(folder, lock, fsync=fsync)

    @classmethod
    def open(cls, folder: Path, *, fsync: bool = True) -> Journal | None:
        """An existing journal whose owner has gone; ``None`` while a live process holds its lock."""
        lock = _try_lock(folder, create=False)
        if lock is None:
            return None
        if not (folder / LOG).is_file():  # completed and removed while we were taking the lock
            lock.release(force=True)
            with contextlib.suppress(OSError):  # taking it made the lock file (and folder) again
                (folder / LOCK).unlink()
                folder.rmdir()
            return None
        journal = cls(folder, lock, fsync=fsync)
        journal._set_aside_torn_tail()
        return journal

    def _scan(self) -> None:
        boundaries = {0}
        with (self.folder / LOG).open("rb") as fh:
            for _, end, payload in read_frames(fh):
                boundaries.add(end)
                self.end = end
                op, at = _peek(payload)
                self.finished = self.finished or op == "finish_run"
                self.last_time = at if at is not None else self.last_time
        try:
            cursor = int((self.folder / CURSOR).read_text().strip() or 0)
        except (OSError, ValueError):
            cursor = 0  # resending is safe: the target applies each record at most once
        # A cursor that is not on a record boundary (a damaged file) falls back to the one before it.
        self.acked = max(b for b in boundaries if b <= cursor)

    def _set_aside_torn_tail(self) -> None:
        log = self.folder / LOG
        size = log.stat().st_size
        if size <= self.end:
            return
        with log.open("r+b") as fh:
            fh.seek(self.end)
            (self.folder / f"torn-{self.end}.bin").write_bytes(fh.read())
            fh.truncate(self.end)

    # -- writing -------------------------------------------------------------------------------------------
    def append(self, data: Mapping[str, Any]) -> Record:
        """Append one record (its payload's first keys must be ``op`` and ``t``), fsynced once."""
        payload = orjson.dumps(data)
        framed = frame(payload)
        with self._write_lock:
            if self._fd is None:
                self._fd = os.open(self.folder / LOG, os.O_WRONLY | os.O_APPEND)
            start = self.end
            try:
                view = memoryview(framed)
                while view:
                    view = view[os.write(self._fd, view) :]
                if self.fsync:
                    os.fsync(self._fd)
            except OSError:
                # Never leave half a record behind the next one (a full disk): cut back to the last intact.
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, start)
                raise
            self.end = start + len(framed)
            if data.get("op") == "finish_run":
                self.finished = True
            self.last_time = float(data.get("t") or time.time())
        return Record(start, self.end, dict(data))

    def ack(self, offset: int) -> None:
        """Everything before ``offset`` is done. Not fsynced: a lost cursor only means records are resent."""
        _write_atomic(self.folder / CURSOR, str(offset).encode())
        self.acked = offset

    def reject(self, record: Record, error: BaseException) -> None:
        line = {
            "offset": record.offset,
            "op": record.op,
            "error_type": type(error).__name__,
            "error": str(error),
            "record": record.data,
            "rejected_at": time.time(),
        }
        with (self.folder / REJECTED).open("ab") as fh:
            fh.write(orjson.dumps(line) + b"\n")

    def new_file(self) -> tuple[str, Path]:
        """A fresh place under ``files/`` for an artifact copy: (path relative to the folder, its path)."""
        relative = f"{FILES}/{uuid.uuid4().hex}"
        path = self.folder / relative
        path.mkdir(parents=True)
        return relative, path

    def drop_file(self, relative: str) -> None:
        """Free an artifact copy the target has: ``files/<slot>/…`` goes with its whole slot."""
        parts = Path(relative).parts
        if len(parts) >= 2 and parts[0] == FILES:
            shutil.rmtree(self.folder / parts[0] / parts[1], ignore_errors=True)

    # -- reading -------------------------------------------------------------------------------------------
    def records(self, start: int | None = None, stop: int | None = None) -> Iterator[Record]:
        """Intact records from ``start`` (default: the first unacknowledged) up to ``stop`` (default: now)."""
        begin = self.acked if start is None else start
        end = self.end if stop is None else stop
        with (self.folder / LOG).open("rb") as fh:
            for offset, record_end, payload in read_frames(fh, begin, end):
                yield Record(offset, record_end, orjson.loads(payload))

    def pending(self) -> tuple[int, int]:
        """(records, bytes) not yet acknowledged."""
        count = 0
        with (self.folder / LOG).open("rb") as fh:
            for _ in read_frames(fh, self.acked, self.end):
                count += 1
        return count, self.end - self.acked

    @property
    def rejected(self) -> int:
        try:
            with (self.folder / REJECTED).open("rb") as fh:
                return sum(1 for _ in fh)
        except FileNotFoundError:
            return 0

    # -- ending --------------------------------------------------------------------------------------------
    def release(self) -> None:
        """Close the files and give up the lock; the journal stays on disk for ``mltrail sync``."""
        with self._write_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._lock is not None:
                self._lock.release(force=True)
                self._lock = None

    def complete(self) -> Path | None:
        """Remove the journal of a delivered run; one with rejected records moves to ``rejected/`` instead,
        so what the target refused can still be read. Returns where it moved, if it did."""
        moved: Path | None = None
        if self.rejected:
            dest = self.folder.parent / "rejected" / self.run_id
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(dest, ignore_errors=True)
            self.folder.replace(dest)
            moved = dest
        else:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.release()
        return moved
