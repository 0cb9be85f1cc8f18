"""ConsoleCapture: stdout and stderr copied to a file while the terminal output stays the same."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from mltrail.sdk.capture.console import TRUNCATION_MARKER, ConsoleCapture


def test_output_goes_to_the_terminal_and_the_file(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "output.log"
    original_out, original_err = sys.stdout, sys.stderr
    capture = ConsoleCapture(log)
    capture.start()
    assert sys.stdout is not original_out
    print("hello from stdout")
    print("warning on stderr", file=sys.stderr)
    sys.stdout.write("héllo wörld 🌍\n")
    sys.stdout.writelines(["a\n", "b\n"])
    sys.stdout.flush()
    capture.stop()
    assert sys.stdout is original_out
    assert sys.stderr is original_err
    print("after stop")

    out, err = capfd.readouterr()
    assert out == "hello from stdout\nhéllo wörld 🌍\na\nb\nafter stop\n"
    assert err == "warning on stderr\n"
    assert log.read_text(encoding="utf-8") == ("hello from stdout\nwarning on stderr\nhéllo wörld 🌍\na\nb\n")


def test_the_wrapper_behaves_like_the_original(tmp_path: Path) -> None:
    original = sys.stdout
    with ConsoleCapture(tmp_path / "out.log"):
        tee = sys.stdout
        assert tee.encoding == original.encoding
        assert tee.isatty() == original.isatty()
        assert tee.errors == original.errors
        assert getattr(tee, "buffer", None) is getattr(original, "buffer", None)
        try:
            expected_fd: int | None = original.fileno()
        except (OSError, ValueError, io.UnsupportedOperation):
            expected_fd = None
        if expected_fd is not None:
            assert tee.fileno() == expected_fd
        with pytest.raises(TypeError):
            sys.stdout.write(b"bytes are refused as before")  # type: ignore[arg-type]


def test_real_terminal_streams_in_a_subprocess(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from mltrail.sdk.capture.console import ConsoleCapture

        capture = ConsoleCapture(Path({str(log)!r}))
        capture.start()
        print("to stdout", sys.stdout.fileno(), sys.stdout.isatty())
        print("to stderr", file=sys.stderr)
        sys.stdout.buffer.write(b"raw bytes are not copied\\n")
        sys.stdout.flush()
        capture.stop()
        print("restored", sys.stdout is sys.__stdout__)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout == "to stdout 1 False\nraw bytes are not copied\nrestored True\n"
    assert proc.stderr == "to stderr\n"
    assert log.read_text(encoding="utf-8") == "to stdout 1 False\nto stderr\n"


def test_replaced_meanwhile_is_left_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)
    log = tmp_path / "out.log"
    capture = ConsoleCapture(log)
    capture.start()
    ours = sys.stdout
    print("one")
    someone_else = io.StringIO()
    sys.stdout = someone_else
    capture.stop()
    assert sys.stdout is someone_else  # not restored over someone else's stream
    ours.write("two\n")  # whoever still holds our wrapper only passes through now
    assert terminal.getvalue() == "one\ntwo\n"
    assert log.read_text() == "one\n"


def test_undecodable_text_is_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)
    log = tmp_path / "out.log"
    with ConsoleCapture(log):
        print("lone surrogate \udcff here")
    assert terminal.getvalue() == "lone surrogate \udcff here\n"
    assert log.read_bytes() == b"lone surrogate \\udcff here\n"


def test_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)
    log = tmp_path / "out.log"
    capture = ConsoleCapture(log, max_bytes=100)
    with capture:
        for i in range(20):
            print(f"line {i:02d} " + "x" * 20)  # 29 bytes a line
    assert terminal.getvalue().count("\n") == 20  # the terminal misses nothing
    data = log.read_bytes()
    assert data == b"".join(f"line {i:02d} {'x' * 20}\n".encode() for i in range(3)) + TRUNCATION_MARKER
    assert capture.truncated


def test_marker_starts_on_its_own_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    log = tmp_path / "out.log"
    with ConsoleCapture(log, max_bytes=10):
        sys.stdout.write("12345")
        sys.stdout.write("67890abc")
    assert log.read_bytes() == b"12345\n" + TRUNCATION_MARKER


def test_concurrent_writers_keep_whole_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    log = tmp_path / "out.log"

    def chatter(name: str) -> None:
        for i in range(200):
            sys.stdout.write(f"{name} {i}\n")

    with ConsoleCapture(log):
        threads = [threading.Thread(target=chatter, args=(f"t{n}",)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    lines = log.read_text().splitlines()
    assert sorted(lines) == sorted(f"t{n} {i}" for n in range(8) for i in range(200))


def test_a_failing_log_file_never_disturbs_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)

    class FullDisk(io.BytesIO):
        def write(self, data: object) -> int:
            raise OSError(28, "No space left on device")

    capture = ConsoleCapture(tmp_path / "out.log")
    capture.start()
    assert capture._sink is not None
    assert capture._sink._file is not None
    capture._sink._file.close()
    capture._sink._file = FullDisk()
    print("still printed")
    print("and again")
    capture.stop()
    assert terminal.getvalue() == "still printed\nand again\n"
    assert capture.error is not None
    assert capture.error.errno == 28


def test_start_and_stop_are_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)
    log = tmp_path / "out.log"
    capture = ConsoleCapture(log)
    capture.stop()
    capture.start()
    tee = sys.stdout
    capture.start()
    assert sys.stdout is tee
    print("once")
    capture.stop()
    capture.stop()
    assert sys.stdout is terminal
    assert terminal.getvalue() == "once\n"
    assert log.read_text() == "once\n"
    assert not capture.active


def test_unwritable_path_raises_at_start(tmp_path: Path) -> None:
    original = sys.stdout
    with pytest.raises(OSError):
        ConsoleCapture(tmp_path / "missing" / "dir" / "out.log").start()
    assert sys.stdout is original
