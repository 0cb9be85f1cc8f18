"""The journal's on-disk format: records read back as written, torn and corrupt tails ignored, the cursor
kept across reopening, the lock respected, and a half-written record never left in front of the next."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mltrail.entities import MetricsBatch, RunStatus
from mltrail.sdk.tracking.journal import (
    LOG,
    Journal,
    batch_from_record,
    decode_value,
    encode_value,
    list_journals,
    metrics_record,
)
from mltrail.sdk.tracking.journal_replay import record_crash


def _journal(root: Path, run_id: str = "r" * 32) -> Journal:
    return Journal.create(root, run_id, {"run_id": run_id, "project": "p", "name": "n", "server": None})


def _records(n: int) -> list[dict[str, object]]:
    return [
        {"op": "set_summary", "t": 1000.0 + i, "values": {"i": i, "text": "x" * (i * 10)}} for i in range(n)
    ]


def test_records_read_back_as_written_with_non_finite_values(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    batch = MetricsBatch(
        keys=["a", "a", "b", "b"],
        steps=[0, 1, 0, 1],
        values=[1.5, math.nan, math.inf, -math.inf],
        wall_times=[1.0, 2.0, 3.0, 4.0],
        client_id="c1",
        seq=7,
    )
    nested = {"lr": 0.1, "bad": math.nan, "deep": {"x": [1.0, -math.inf, "s", None, True]}}
    written = [
        journal.append({"op": "create_run", "t": 1.0, "config": encode_value(nested)}),
        journal.append({"op": "log_metrics", "t": 2.0, **metrics_record(batch)}),
        journal.append({"op": "finish_run", "t": 3.0, "status": "finished", "error": None, "end_time": 3.0}),
    ]
    read = list(journal.records())
    assert [(r.offset, r.end, r.op) for r in read] == [(w.offset, w.end, w.op) for w in written]
    config = decode_value(read[0].data["config"])
    assert config["lr"] == 0.1 and math.isnan(config["bad"])
    assert config["deep"]["x"][:1] == [1.0] and config["deep"]["x"][1] == -math.inf
    assert config["deep"]["x"][2:] == ["s", None, True]
    back = batch_from_record(read[1].data)
    assert back.keys == batch.keys and back.steps == batch.steps and back.seq == 7 and back.client_id == "c1"
    assert back.values[0] == 1.5 and math.isnan(back.values[1]) and back.values[2:] == [math.inf, -math.inf]
    assert journal.finished and journal.last_time == 3.0
    assert journal.pending() == (3, journal.end)
    journal.release()
    assert list_journals(tmp_path) == [journal.folder]


def test_a_truncated_tail_is_ignored_and_set_aside_before_appending(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    ends = [journal.append(data).end for data in _records(3)]
    journal.release()
    log = journal.folder / LOG
    with log.open("r+b") as fh:  # the process died in the middle of writing the third record
        fh.truncate(ends[2] - 5)

    reopened = Journal.open(journal.folder)
    assert reopened is not None
    assert [r.data["values"]["i"] for r in reopened.records()] == [0, 1]
    assert reopened.end == ends[1] and log.stat().st_size == ends[1]
    torn = journal.folder / f"torn-{ends[1]}.bin"
    assert torn.stat().st_size == ends[2] - 5 - ends[1]
    reopened.append({"op": "set_notes", "t": 5.0, "notes": "after the tear"})
    assert [r.op for r in reopened.records()] == ["set_summary", "set_summary", "set_notes"]
    reopened.release()


def test_a_flipped_byte_ends_the_readable_part(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    records = [journal.append(data) for data in _records(3)]
    journal.release()
    log = journal.folder / LOG
    raw = bytearray(log.read_bytes())
    raw[records[1].offset + 20] ^= 0x01  # inside the second record's payload
    log.write_bytes(bytes(raw))

    reopened = Journal.open(journal.folder)
    assert reopened is not None
    assert [r.data["values"]["i"] for r in reopened.records()] == [0]
    assert (journal.folder / f"torn-{records[0].end}.bin").read_bytes() == bytes(raw[records[0].end :])
    reopened.release()


def test_the_cursor_survives_reopening_and_a_damaged_one_falls_back(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    records = [journal.append(data) for data in _records(4)]
    journal.ack(records[1].end)
    journal.release()

    reopened = Journal.open(journal.folder)
    assert reopened is not None
    assert reopened.acked == records[1].end
    assert [r.data["values"]["i"] for r in reopened.records()] == [2, 3]
    assert reopened.pending() == (2, records[3].end - records[1].end)
    reopened.release()

    (journal.folder / "acked").write_text(str(records[2].offset + 3))  # not on a record boundary
    again = Journal.open(journal.folder)
    assert again is not None
    assert again.acked == records[1].end  # resend from the record before: the target applies it once
    again.release()


def test_a_journal_locked_by_its_process_is_not_opened(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    journal.append(_records(1)[0])
    assert Journal.open(journal.folder) is None  # flock: another open file, even in this process
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import fcntl, os, sys
                fd = os.open({str(journal.folder / "lock")!r}, os.O_RDWR)
                print("waiting", flush=True)
                sys.stdin.readline()
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                print("locked", flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "waiting"
        journal.release()
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "locked"
        assert Journal.open(journal.folder) is None  # a live process holds it
    finally:
        holder.communicate("\n", timeout=10)  # lets it exit, and closes the pipes
    freed = Journal.open(journal.folder)  # its owner has gone
    assert freed is not None
    freed.release()


def test_an_unfinished_journal_gets_a_crashed_finish_at_its_last_time(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    for data in _records(3):
        journal.append(data)
    assert not journal.finished
    assert record_crash(journal)
    last = list(journal.records())[-1]
    assert last.op == "finish_run" and last.data["status"] == RunStatus.CRASHED.value
    assert last.data["end_time"] == 1002.0
    assert not record_crash(journal)  # once
    journal.release()
    reopened = Journal.open(journal.folder)
    assert reopened is not None and reopened.finished
    reopened.release()


def test_a_failed_append_leaves_no_half_record(tmp_path: Path) -> None:
    """A write cut short (here by a file size limit, as by a full disk) is cut back, so the next append is
    readable; run in a child process because the limit applies to every file it writes."""
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from pathlib import Path
        from mltrail.sdk.tracking.journal import Journal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        journal = Journal.create(Path({str(tmp_path)!r}), "f" * 32, {{"run_id": "f" * 32}})
        first = journal.append({{"op": "set_notes", "t": 1.0, "notes": "small"}})
        resource.setrlimit(resource.RLIMIT_FSIZE, (first.end + 100, resource.RLIM_INFINITY))
        try:
            journal.append({{"op": "set_notes", "t": 2.0, "notes": "x" * 10_000}})
        except OSError as exc:
            print("failed", exc.errno, flush=True)
        journal.append({{"op": "set_notes", "t": 3.0, "notes": "fits"}})
        journal.release()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("failed")
    reopened = Journal.open(tmp_path / ("f" * 32))
    assert reopened is not None
    assert [r.data["notes"] for r in reopened.records()] == ["small", "fits"]
    reopened.release()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_survive_encoding(value: float) -> None:
    decoded = decode_value(encode_value({"v": value, "list": [value]}))
    assert (math.isnan(decoded["v"]) and math.isnan(decoded["list"][0])) or (
        decoded == {"v": value, "list": [value]}
    )
