"""Copy what a run prints to ``sys.stdout`` and ``sys.stderr`` into a log file; the terminal sees the same."""

from __future__ import annotations

import contextlib
import sys
import threading
from pathlib import Path
from typing import IO, Any, TextIO

__all__ = ["TRUNCATION_MARKER", "ConsoleCapture"]

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
TRUNCATION_MARKER = b"[mltrail: output truncated]\n"


class _LogSink:
    """The shared log file: thread-safe, flushed at each newline, capped at ``max_bytes``."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.written = 0
        self.truncated = False
        self.error: OSError | None = None
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = path.open("ab")
        self._ends_with_newline = True

    def write(self, text: str) -> None:
        data = text.encode("utf-8", "backslashreplace")
        if not data:
            return
        with self._lock:
            if self._file is None or self.truncated:
                return
            try:
                if self.written + len(data) > self.max_bytes:
                    self.truncated = True
                    prefix = b"" if self._ends_with_newline else b"\n"
                    self._file.write(prefix + TRUNCATION_MARKER)
                    self._file.flush()
                    return
                self._file.write(data)
                self.written += len(data)
                self._ends_with_newline = data.endswith(b"\n")
                if b"\n" in data:
                    self._file.flush()
            except OSError as exc:  # disk full, file gone: stop copying, never disturb the program
                self._fail(exc)

    def flush(self) -> None:
        with self._lock:
            if self._file is not None:
                try:
                    self._file.flush()
                except OSError as exc:
                    self._fail(exc)

    def close(self) -> None:
        with self._lock:
            if self._file is None:
                return
            try:
                self._file.close()
            except OSError as exc:
                self.error = exc
            self._file = None

    def _fail(self, exc: OSError) -> None:
        self.error = exc
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None


class _TeeStream:
    """Stands in for ``sys.stdout`` / ``sys.stderr``: writes go to the original stream, then to the sink.

    Every other attribute (``isatty``, ``fileno``, ``encoding``, ``buffer``, ...) is the original's.
    """

    def __init__(self, original: TextIO, sink: _LogSink) -> None:
        self._original = original
        self._sink: _LogSink | None = sink

    def write(self, text: str) -> int:
        written = self._original.write(text)  # first, so a bad argument raises exactly as before
        sink = self._sink
        if sink is not None and isinstance(text, str):
            sink.write(text)
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._original.flush()
        sink = self._sink
        if sink is not None:
            sink.flush()

    def detach_sink(self) -> None:
        """From now on only pass writes through to the original stream."""
        self._sink = None

    def __getattr__(self, name: str) -> Any:
        if name in ("_original", "_sink"):  # not set yet (copy, unpickling): no endless recursion
            raise AttributeError(name)
        return getattr(self._original, name)

    def __repr__(self) -> str:
        return f"<mltrail tee of {self._original!r}>"


class ConsoleCapture:
    """Tee ``sys.stdout`` and ``sys.stderr`` into the file ``path`` (UTF-8, appended) while a run is live.

    The terminal sees exactly what it saw before. The file gets both streams in the order they were
    written, flushed at each newline, up to ``max_bytes``; then one ``[mltrail: output truncated]`` line.

    Only writes through the Python objects ``sys.stdout`` and ``sys.stderr`` are copied. Output that C
    extensions or child processes write straight to file descriptors 1 and 2, and bytes written to
    ``sys.stdout.buffer``, are not: redirecting the descriptors with ``dup2`` would interfere with notebooks,
    pytest's capture and other tools that own them.

    ``stop`` puts the original streams back if our wrappers are still installed; if something else has
    replaced them since, our wrappers are left in place but only pass writes through.
    """

    def __init__(self, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._sink: _LogSink | None = None  # kept after stop, for ``truncated`` and ``error``
        self._active = False
        self._stdout: _TeeStream | None = None
        self._stderr: _TeeStream | None = None
        self._orig_stdout: TextIO | None = None
        self._orig_stderr: TextIO | None = None
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self._active

    @property
    def truncated(self) -> bool:
        return self._sink is not None and self._sink.truncated

    @property
    def error(self) -> OSError | None:
        """Why the log file stopped being written, if it did."""
        return self._sink.error if self._sink is not None else None

    def start(self) -> None:
        """Install the tees; raises ``OSError`` when the log file cannot be opened. Idempotent."""
        with self._lock:
            if self._active:
                return
            sink = _LogSink(self.path, self.max_bytes)
            self._sink, self._active = sink, True
            self._orig_stdout, self._orig_stderr = sys.stdout, sys.stderr
            # A stream that is None (pythonw, some services) stays None: there is nothing to copy.
            if sys.stdout is not None:
                self._stdout = _TeeStream(sys.stdout, sink)
                sys.stdout = self._stdout
            if sys.stderr is not None:
                self._stderr = _TeeStream(sys.stderr, sink)
                sys.stderr = self._stderr

    def stop(self) -> None:
        """Restore the original streams (or unhook our tees) and close the file. Idempotent."""
        with self._lock:
            sink = self._sink
            if not self._active or sink is None:
                return
            self._active = False
            for tee in (self._stdout, self._stderr):
                if tee is not None:
                    tee.detach_sink()
            if self._stdout is not None and sys.stdout is self._stdout:
                sys.stdout = self._orig_stdout
            if self._stderr is not None and sys.stderr is self._stderr:
                sys.stderr = self._orig_stderr
            self._stdout = self._stderr = None
            self._orig_stdout = self._orig_stderr = None
            sink.close()

    def __enter__(self) -> ConsoleCapture:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
