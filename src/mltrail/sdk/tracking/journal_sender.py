"""The journal sender: one background thread delivering every open journal of a ``JournalingTransport`` to its
target, in order, retrying transient failures forever with exponential backoff and full jitter.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from pathlib import Path
from typing import Any

from mltrail.errors import MltrailError, NotFoundError
from mltrail.sdk.tracking.journal import Journal
from mltrail.sdk.tracking.journal_replay import FatalSendError, open_free_journals, record_crash, send_record
from mltrail.sdk.tracking.protocol import Transport

__all__ = ["JournalSender", "RunJournal"]

log = logging.getLogger("mltrail")

IDLE_WAIT = 1.0
BASE_BACKOFF = 0.1


class RunJournal:
    """One open journal and its delivery state."""

    def __init__(self, journal: Journal, project: str) -> None:
        self.journal = journal
        self.project = project
        self.heartbeat_due = False
        self.failures = 0
        self.next_attempt = 0.0
        self.warned = False
        # Where the records fully handled end (sent or refused, their copies freed): what waiters watch.
        self.delivered = journal.acked
        # What the target answered to log_dataset records (by record end), for log_dataset's caller.
        self.results: dict[int, Any] = {}


class JournalSender:
    """Holds the open journals; with a target, a daemon thread delivers them (``target=None``: offline)."""

    def __init__(
        self,
        target: Transport | None,
        journal_dir: Path,
        *,
        server: str | None,
        max_backoff: float = 2.0,
        adopt: bool = True,
    ) -> None:
        self.target = target
        self.journal_dir = journal_dir
        self.server = server
        self.max_backoff = max_backoff
        self._adopt = adopt
        self._runs: dict[str, RunJournal] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if target is not None:
            self._thread = threading.Thread(target=self._loop, name="mltrail-journal-sender", daemon=True)
            self._thread.start()

    # -- called by the transport ------------------------------------------------------------------------
    def add(self, journal: Journal, project: str) -> RunJournal:
        run = RunJournal(journal, project)
        with self._lock:
            self._runs[journal.run_id] = run
        self._wake.set()
        return run

    def get(self, run_id: str) -> RunJournal:
        run = self._runs.get(run_id)
        if run is None:
            raise NotFoundError(f"run {run_id} is not open in the journal folder {self.journal_dir}")
        return run

    def remove(self, run_id: str) -> RunJournal | None:
        with self._lock:
            return self._runs.pop(run_id, None)

    def wake(self) -> None:
        self._wake.set()

    def want_heartbeat(self, run_id: str) -> None:
        run = self._runs.get(run_id)
        if run is not None and self.target is not None:
            run.heartbeat_due = True
            self._wake.set()

    def wait_delivered(self, run_id: str, timeout: float) -> int:
        """Wait until the target has every record of the run journaled so far; returns how many are left."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                run = self._runs.get(run_id)
                if run is None:
                    return 0
                journal = run.journal
                if run.delivered >= journal.end and not journal.finished:
                    return 0  # a finished run is waited for until its journal is removed
                remaining = deadline - time.monotonic()
                if self.target is None or remaining <= 0:
                    return journal.pending()[0]
                self._wake.set()
                self._changed.wait(min(remaining, 0.5))

    def wait_result(self, run: RunJournal, record_end: int, timeout: float) -> Any:
        """What the target answered to the record ending at ``record_end``; None if not sent in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while run.delivered < record_end:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or run.failures:
                    return None
                self._changed.wait(remaining)
            return run.results.pop(record_end, None)

    def close(self) -> None:
        """Stop the thread and release the journals (they stay on disk for the next run or `mltrail sync`)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        with self._lock:
            runs = list(self._runs.values())
            self._runs.clear()
        for run in runs:
            run.journal.release()

    # -- the thread -------------------------------------------------------------------------------------
    def _loop(self) -> None:
        if self._adopt:
            self._adopt_leftovers()
        while not self._stop.is_set():
            self._wake.clear()
            delay = self._pump_all()
            self._wake.wait(delay)

    def _adopt_leftovers(self) -> None:
        """Take over journals of this server left by processes that have gone (killed, or ended offline)."""
        if self.server is None:
            return
        try:
            for found in open_free_journals(self.journal_dir, server=self.server):
                if isinstance(found, Path):
                    continue
                record_crash(found)
                log.info("mltrail: uploading the journal %s left by an earlier process", found.folder)
                self.add(found, str(found.meta.get("project") or ""))
        except OSError as exc:
            log.warning("mltrail: could not look for leftover journals in %s: %s", self.journal_dir, exc)

    def _pump_all(self) -> float:
        delay = IDLE_WAIT
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            if self._stop.is_set():
                break
            if run.next_attempt <= time.monotonic():
                try:
                    self._pump(run)
                except Exception as exc:  # noqa: BLE001 - the sender must outlive any failure and retry
                    self._failed(run, exc)
            wait = run.next_attempt - time.monotonic()
            if wait > 0:
                delay = min(delay, wait)
        return delay

    def _pump(self, run: RunJournal) -> None:
        journal, target = run.journal, self.target
        assert target is not None
        while journal.acked < journal.end and not self._stop.is_set():
            start = journal.acked
            for record in journal.records():
                accepted, result = send_record(target, journal, record)
                with self._changed:
                    if run.warned:
                        log.warning("mltrail: %s answers again; sending run %s", self.server, journal.run_id)
                    run.failures = 0
                    run.warned = False
                    run.delivered = record.end
                    if accepted and record.op == "log_dataset":
                        run.results[record.end] = result
                    self._changed.notify_all()
                if self._stop.is_set():
                    return
            if journal.acked == start:  # nothing readable (cannot happen to our own appends): do not spin
                raise OSError(f"unreadable record at offset {start} of {journal.folder}")
        if run.heartbeat_due and not journal.finished:
            run.heartbeat_due = False
            try:
                target.heartbeat(journal.run_id)
            except MltrailError as exc:  # the next one comes soon; a lost heartbeat loses no data
                log.debug("mltrail: heartbeat of run %s failed: %s", journal.run_id, exc)
        if journal.finished and journal.acked >= journal.end:
            self._complete(run)

    def _failed(self, run: RunJournal, exc: BaseException) -> None:
        # Exponential backoff with full jitter, so clients cut off together do not come back together.
        bound = min(self.max_backoff, BASE_BACKOFF * 2 ** min(run.failures, 16))
        run.failures += 1
        run.next_attempt = time.monotonic() + random.uniform(0, bound)  # noqa: S311 - jitter, not crypto
        if not run.warned:
            run.warned = True
            what = "refuses the credentials" if isinstance(exc, FatalSendError) else "cannot be reached"
            log.warning(
                "mltrail: %s %s (%s: %s); run %s is kept in %s and retried in the background",
                self.server or "the server",
                what,
                type(exc).__name__,
                exc,
                run.journal.run_id,
                run.journal.folder,
            )
        with self._changed:
            self._changed.notify_all()

    def _complete(self, run: RunJournal) -> None:
        moved: Path | None = None
        try:
            moved = run.journal.complete()
        except OSError as exc:
            log.warning("mltrail: could not remove the delivered journal %s: %s", run.journal.folder, exc)
            run.journal.release()
        with self._changed:  # after the removal, so whoever waits for delivery sees the folder gone
            self._runs.pop(run.journal.run_id, None)
            self._changed.notify_all()
        if moved is not None:
            log.warning(
                "mltrail: run %s is delivered; the records the server refused are kept in %s",
                run.journal.run_id,
                moved,
            )
